-- Where a person's provider key may be sent: an origin they approved (the provider's own
-- address unless they named another). A connection elsewhere never gets their key.
ALTER TABLE user_provider_keys ADD COLUMN origin text NOT NULL DEFAULT '';
