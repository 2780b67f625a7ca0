-- Requests per second and per day, tokens per day, on keys and tenants (NULL: no limit).
ALTER TABLE api_keys ADD COLUMN rps INTEGER;
ALTER TABLE api_keys ADD COLUMN rpd INTEGER;
ALTER TABLE api_keys ADD COLUMN tpd INTEGER;
ALTER TABLE tenants ADD COLUMN rps INTEGER;
ALTER TABLE tenants ADD COLUMN rpd INTEGER;
ALTER TABLE tenants ADD COLUMN tpd INTEGER;
