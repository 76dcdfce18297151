-- counter_value.lua: a counter's live value.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 counter C, 3 now.
-- Touches P:c:C (read only).
-- Reply: the value, 0 for a counter absent or past its exp.

local held = redis.call('HMGET', ARGV[1]..':c:'..ARGV[2], 'value', 'exp')
local used, exp = tonumber(held[1]), tonumber(held[2])
if not used or not exp or exp <= tonumber(ARGV[3]) then return 0 end
return used
