ALTER TABLE user_provider_keys DROP COLUMN origin;
