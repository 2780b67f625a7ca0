-- Extend the concurrency leases of calls that are still running (one round trip).
-- ARGV[1]: the lease in ms. KEYS[i] is a concurrency key, ARGV[i + 1] a member in it.
-- XX: a slot already freed (settled, or expired while Redis was away) is not taken again.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease_ms = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + lease_ms * 1000, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], lease_ms + 1000)
end
return 1
