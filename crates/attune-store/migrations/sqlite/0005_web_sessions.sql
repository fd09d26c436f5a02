-- Dashboard sign-ins: an opaque token (only its SHA-256 stored) that stands for an API key
-- until it expires, is signed out, or the key is revoked.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    public_id   TEXT NOT NULL REFERENCES api_keys (public_id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
