-- Requests per second and per day, tokens per day, on keys and tenants (NULL: no limit).
ALTER TABLE api_keys ADD COLUMN rps BIGINT;
ALTER TABLE api_keys ADD COLUMN rpd BIGINT;
ALTER TABLE api_keys ADD COLUMN tpd BIGINT;
ALTER TABLE tenants ADD COLUMN rps BIGINT;
ALTER TABLE tenants ADD COLUMN rpd BIGINT;
ALTER TABLE tenants ADD COLUMN tpd BIGINT;
