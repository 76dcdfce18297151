-- lease_count.lua: the live leases of one group.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 group L, 3 now.
-- Touches P:l:L (those ended by now are removed).
-- Reply: the number of leases held.

local p, group, now = ARGV[1], ARGV[2], ARGV[3]
local k = p..':l:'..group
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
return redis.call('ZCARD', k)
