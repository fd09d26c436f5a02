-- Attune's schema, SQLite spelling. migrations/postgres/0001_init.sql is the same schema in
-- PostgreSQL's spelling (only the answer log's sequence and the byte type differ); the test
-- `both_backends_have_the_same_schema` compares them.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    public_id   TEXT PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    secret_hash BLOB NOT NULL,
    scopes      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE skills (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    skill       TEXT NOT NULL,
    name        TEXT,
    PRIMARY KEY (tenant_id, skill)
);

CREATE TABLE items (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    item        TEXT NOT NULL,
    skills      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item)
);

CREATE TABLE prerequisites (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    skill       TEXT NOT NULL,
    requires    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, skill, requires)
);

CREATE TABLE learners (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    learner     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, learner)
);

-- The answer log, the source of truth: every learner state is a replay of it.
CREATE TABLE answers (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    learner       TEXT NOT NULL,
    item          TEXT NOT NULL,
    correct       BOOLEAN NOT NULL,
    time          BIGINT NOT NULL,
    skills        TEXT NOT NULL,
    model_name    TEXT,
    model_version BIGINT,
    received_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, id)
);
CREATE INDEX answers_by_learner ON answers (tenant_id, learner, seq);

-- The model registry: versions per tenant, one of them serving.
CREATE TABLE models (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    version     BIGINT NOT NULL,
    name        TEXT NOT NULL,
    file        BLOB NOT NULL,
    metrics     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE serving (
    tenant_id   BIGINT PRIMARY KEY REFERENCES tenants (id),
    version     BIGINT NOT NULL
);
