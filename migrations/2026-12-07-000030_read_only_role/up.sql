-- The role `runReadOnlyQuery` runs as (SET LOCAL ROLE inside a READ ONLY transaction): it reads
-- the tables but none of the secrets kept in them, and writes nothing. Roles belong to the
-- cluster: it is made once, and left alone where the server may not make roles (the query
-- then says the role is missing).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'loregraph_reader') THEN
        CREATE ROLE loregraph_reader NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create the role loregraph_reader: runReadOnlyQuery is unavailable';
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'loregraph_reader') THEN
        GRANT USAGE ON SCHEMA public TO loregraph_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO loregraph_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO loregraph_reader;
        -- Secrets, and what would let a reader act as someone.
        REVOKE SELECT ON server_secrets, refresh_tokens, password_resets, oauth_flows,
            id_token_uses, api_keys, sessions, drive_connections, drive_channels,
            user_provider_keys, story_secrets, persisted_queries, login_throttle, rate_windows
            FROM loregraph_reader;
        REVOKE SELECT ON users FROM loregraph_reader;
        GRANT SELECT (id, email, display_name, username, is_superuser, is_active, last_tenant_id,
            created_at, updated_at, last_login_at, account_origin) ON users TO loregraph_reader;
        REVOKE SELECT ON assets FROM loregraph_reader;
        GRANT SELECT (id, tenant_id, sha256, file_type, mime_type, size_bytes, width, height,
            original_filename, tags, status, processing, processing_error, has_thumbnail,
            uploaded_by, created_at, updated_at, deleted_at, deleted_by) ON assets
            TO loregraph_reader;
        EXECUTE format('GRANT loregraph_reader TO %I', current_user);
        -- set_config('role', ...) is the one way back from the reader to the session's own
        -- (superuser) role inside a SELECT: only this server's own role may call it.
        REVOKE EXECUTE ON FUNCTION set_config(text, text, boolean) FROM PUBLIC;
        EXECUTE format('GRANT EXECUTE ON FUNCTION set_config(text, text, boolean) TO %I',
            current_user);
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot grant loregraph_reader: runReadOnlyQuery is unavailable';
END $$;
