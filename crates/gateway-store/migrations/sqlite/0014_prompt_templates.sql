-- Versioned prompt templates per tenant: one row per version, which never changes once
-- written. `name` is the template's id within its tenant; `id` is the row's key, the record
-- the definition (`body`, JSON) is sealed for when encryption is on.
CREATE TABLE prompt_templates (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    name          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    description   TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    UNIQUE (tenant, name, version)
);
