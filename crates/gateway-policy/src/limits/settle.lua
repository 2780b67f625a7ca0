-- Reconcile one admitted call with what it really used (one round trip, atomic).
-- KEYS and ARGV[1] as in admit.lua; then four arguments per rule: kind, a, b, delta.
--   r  delta > 0 charges more tokens (the bucket may go into debt), < 0 refunds
--   c  frees the call's slot
--   b  adds delta micro-USD to the window's counter, if the window still exists
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local o = 1 + (i - 1) * 4
  local kind, a, b, d = ARGV[o + 1], tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if kind == 'r' then
    if d ~= 0 then
      local l = a
      local v = redis.call('GET', KEYS[i])
      if v then
        local lv, ts = string.match(v, '^(%S+) (%S+)$')
        l = math.min(a, tonumber(lv) + (now - tonumber(ts)) * a / b)
      end
      l = math.min(a, l - d)
      if l >= a then
        redis.call('DEL', KEYS[i])
      else
        local ttl = math.ceil((a - l) * b / a / 1000) + 1000
        redis.call('SET', KEYS[i], string.format('%.17g %.0f', l, now), 'PX', ttl)
      end
    end
  elseif kind == 'c' then
    redis.call('ZREM', KEYS[i], ARGV[1])
  elseif d ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], d)
  end
end
return 1
