DROP TABLE rate_windows;
DROP TABLE password_resets;
DROP TABLE id_token_uses;
DROP TABLE oauth_flows;
DROP TABLE user_identities;
