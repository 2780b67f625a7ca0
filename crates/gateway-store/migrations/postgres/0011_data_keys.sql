-- Per-tenant data keys for envelope encryption of stored content: each wrapped by a
-- key-encryption key (`kek_id`), base64. The highest version is the one new writes use;
-- older versions stay to open what was sealed with them until it is re-encrypted.
CREATE TABLE tenant_data_keys (
    tenant        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    kek_id        TEXT NOT NULL,
    wrapped       TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, version)
);

-- Crypto-shredding: a tenant whose data keys were destroyed. Versions up to `last_version`
-- are gone for good (their ciphertext is reported as shredded); a tenant created again under
-- the same id gets keys numbered above it.
CREATE TABLE tenant_key_shreds (
    tenant         TEXT PRIMARY KEY,
    last_version   BIGINT NOT NULL,
    shredded_at_ms BIGINT NOT NULL
);
