-- reserve.lua: raise a counter by `amount` when it stays within `limit`, or leave it.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 counter C, 3 amount, 4 limit, 5 now, 6 expires_at (for a new counter).
-- Touches P:c:C, a hash of value and exp (the time it ends, in the callers' clock); a
-- counter whose exp <= now counts 0 and starts again. The key also expires by Redis's own
-- clock a minute after exp (relative to now, so the two clocks need not agree).
-- Reply: {granted (1 or 0), the value after it (granted) or as it stands (refused)}.

local p, counter = ARGV[1], ARGV[2]
local amount, limit, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local k = p..':c:'..counter
local held = redis.call('HMGET', k, 'value', 'exp')
local used, exp = tonumber(held[1]), held[2]
if not used or not exp or tonumber(exp) <= now then used, exp = 0, nil end
if used + amount > limit then return {0, used} end
if not exp then
  exp = ARGV[6]
  redis.call('HSET', k, 'value', amount, 'exp', exp)
else
  redis.call('HINCRBY', k, 'value', amount)
end
redis.call('PEXPIRE', k, math.max(1, math.ceil((tonumber(exp) - now + 60) * 1000)))
return {1, used + amount}
