-- unreserve_all.lua: unreserve.lua for several counters, in one step.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, then per counter C: C, amount.
-- Touches P:c:C of each (reserve.lua); one absent or past its exp is left as it is.
-- Reply: 1.

local p, now = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local k = p..':c:'..ARGV[i]
  local held = redis.call('HMGET', k, 'value', 'exp')
  local used, exp = tonumber(held[1]), tonumber(held[2])
  if used and exp and exp > now then
    redis.call('HSET', k, 'value', math.max(0, used - tonumber(ARGV[i + 1])))
  end
end
return 1
