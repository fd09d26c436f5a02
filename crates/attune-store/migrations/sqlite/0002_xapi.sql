-- xAPI statements as received (with their id), per tenant; "answered" ones are also answers.
CREATE TABLE xapi_statements (
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    verb          TEXT NOT NULL,
    registration  TEXT,
    body          TEXT NOT NULL,
    stored_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX xapi_statements_by_time ON xapi_statements (tenant_id, stored_at);
