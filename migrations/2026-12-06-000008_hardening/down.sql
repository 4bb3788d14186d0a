ALTER TABLE stripe_events DROP COLUMN rejection;
DROP INDEX api_keys_parent_idx;
ALTER TABLE api_keys DROP COLUMN parent_key_id;
DROP TABLE login_throttle;
