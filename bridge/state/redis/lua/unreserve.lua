-- unreserve.lua: lower a live counter by `amount`, not below 0.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 counter C, 3 amount, 4 now.
-- Touches P:c:C (reserve.lua); one absent or past its exp is left as it is.
-- Reply: the value after it (0 for a counter absent or past its exp).

local p, counter = ARGV[1], ARGV[2]
local amount, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local k = p..':c:'..counter
local held = redis.call('HMGET', k, 'value', 'exp')
local used, exp = tonumber(held[1]), tonumber(held[2])
if not used or not exp or exp <= now then return 0 end
local value = math.max(0, used - amount)
redis.call('HSET', k, 'value', value)
return value
