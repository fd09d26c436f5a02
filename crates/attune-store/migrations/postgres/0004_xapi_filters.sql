-- The actor (the learner id its identifier names) and the activity of each statement, so that
-- GET /xapi/statements filters by agent and activity in the database.
ALTER TABLE xapi_statements ADD COLUMN actor TEXT;
ALTER TABLE xapi_statements ADD COLUMN activity TEXT;
CREATE INDEX xapi_statements_by_actor ON xapi_statements (tenant_id, actor, stored_at);
