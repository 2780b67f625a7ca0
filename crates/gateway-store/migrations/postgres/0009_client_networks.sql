-- Client address allow-lists (JSON arrays of CIDR blocks) of tenants and keys, and each
-- tenant's opt-out of threat-intelligence feeds. Keep in step with ../sqlite/0009_client_networks.sql.
ALTER TABLE tenants ADD COLUMN allowed_networks TEXT;
ALTER TABLE tenants ADD COLUMN threat_intel_opt_out BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_keys ADD COLUMN allowed_networks TEXT;
