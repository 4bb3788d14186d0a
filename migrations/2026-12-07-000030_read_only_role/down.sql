DO $$
BEGIN
    GRANT EXECUTE ON FUNCTION set_config(text, text, boolean) TO PUBLIC;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'loregraph_reader') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM loregraph_reader;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM loregraph_reader;
        REVOKE USAGE ON SCHEMA public FROM loregraph_reader;
    END IF;
END $$;
