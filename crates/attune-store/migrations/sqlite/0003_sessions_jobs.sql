-- Adaptive-test and tutoring sessions: the configuration and the full trace as JSON, with a
-- step counter that makes every update a compare-and-set (two servers cannot both apply a
-- response to the same step).
CREATE TABLE sessions (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    learner     TEXT,
    body        TEXT NOT NULL,
    steps       BIGINT NOT NULL,
    finished    BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Training jobs: a model fitted on the tenant's answer log in the background, its progress,
-- a cancel request any server can set, and the registry version it produced.
CREATE TABLE jobs (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    model       TEXT NOT NULL,
    spec        TEXT NOT NULL,
    serve       BOOLEAN NOT NULL,
    status      TEXT NOT NULL,
    stage       TEXT NOT NULL,
    done        BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    message     TEXT,
    version     BIGINT,
    cancel      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
