DROP TABLE user_provider_keys;
DROP TABLE user_settings;
