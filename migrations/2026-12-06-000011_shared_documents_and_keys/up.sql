-- Automatic persisted queries (Apollo's protocol): a document registered on one node is found
-- by its sha256 on every node, so a client registers it once per cluster. Only the text is
-- kept (never variables or results). Each node keeps the documents it uses in memory and
-- touches `last_used_at` at most once an hour; registering trims the table to its bound, least
-- recently used first.
CREATE TABLE persisted_queries (
    -- Lowercase hex of the document's sha256.
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    query        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX persisted_queries_by_use ON persisted_queries (last_used_at DESC);

-- Secrets the server generates for itself when the operator gives none, shared by every node of
-- the database (today the key access tokens are signed with: nodes that each generated their
-- own rejected each other's tokens). Readable by the database owner only.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    secret     text NOT NULL CHECK (secret <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON server_secrets FROM PUBLIC;
