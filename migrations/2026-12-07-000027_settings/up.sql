-- Each person's own settings and their own AI provider keys (for any tenant they work in).

-- A JSON document of known keys (theme, locale, default AI provider...); what is absent takes
-- its default.
CREATE TABLE user_settings (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    settings    jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A person's key for an AI provider, sealed (AES-256-GCM) under the server's secrets key and
-- bound to its owner and provider; only its last four characters are kept in the clear.
CREATE TABLE user_provider_keys (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider    text NOT NULL CHECK (provider IN ('openai_compatible', 'anthropic', 'ollama')),
    sealed_key  bytea NOT NULL,
    last_four   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, provider)
);
