-- Files of the OpenAI-compatible Files API: metadata only (the bytes are in the gateway's
-- blob storage, `[files] dir`). Ids are time-ordered, so listing pages by id.
CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    filename      TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX files_by_tenant ON files (tenant, id);
