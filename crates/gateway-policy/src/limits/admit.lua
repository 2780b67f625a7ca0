-- Admit one call against every rule at once, or against none (one round trip, atomic).
-- KEYS[i] is the counter of rule i. ARGV[1]: the call's member id (concurrency leases);
-- ARGV[2]: the lease in ms. Then four arguments per rule: kind, a, b, amount.
--   r  rate, a token bucket "level ts": a = limit, b = period (us); refills a per b
--   c  concurrency, a sorted set member -> lease expiry (us): a = limit
--   b  budget, an integer counter per window: a = cap (micro-USD), b = window end (unix s)
-- Time is Redis's own (TIME), so instances' clocks do not matter.
-- Returns {1, remaining_1, reset_us_1, ...} or {0, i, retry_us} (-1: too large, -2: unknown).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease_ms = tonumber(ARGV[2])
local level = {}
local out = {1}
for i = 1, #KEYS do
  local o = 2 + (i - 1) * 4
  local kind, a, b, amt = ARGV[o + 1], tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if kind == 'r' then
    if amt > a then return {0, i, -1} end
    local l = a
    local v = redis.call('GET', KEYS[i])
    if v then
      local lv, ts = string.match(v, '^(%S+) (%S+)$')
      l = math.min(a, tonumber(lv) + (now - tonumber(ts)) * a / b)
    end
    if l + 1e-9 < amt then
      return {0, i, math.ceil((amt - l) * b / a)}
    end
    level[i] = l - amt
    out[#out + 1] = math.floor(level[i] + 1e-9)
    out[#out + 1] = math.ceil((a - level[i]) * b / a)
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    local n = redis.call('ZCARD', KEYS[i])
    if n >= a then return {0, i, -2} end
    out[#out + 1] = a - n - 1
    out[#out + 1] = 0
  else
    if amt > a then return {0, i, -1} end
    local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
    local left = math.max(0, b * 1000000 - now)
    if spent >= a or spent + amt > a then return {0, i, left} end
    out[#out + 1] = a - spent - amt
    out[#out + 1] = left
  end
end
for i = 1, #KEYS do
  local o = 2 + (i - 1) * 4
  local kind, a, b, amt = ARGV[o + 1], tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if kind == 'r' then
    local ttl = math.ceil((a - level[i]) * b / a / 1000) + 1000
    redis.call('SET', KEYS[i], string.format('%.17g %.0f', level[i], now), 'PX', ttl)
  elseif kind == 'c' then
    redis.call('ZADD', KEYS[i], now + lease_ms * 1000, ARGV[1])
    redis.call('PEXPIRE', KEYS[i], lease_ms + 1000)
  else
    if amt > 0 then redis.call('INCRBY', KEYS[i], amt) end
    redis.call('EXPIREAT', KEYS[i], b + 86400)
  end
end
return out
