-- acquire_lease.lua: a lease in group L for `holder`, if fewer than `limit` live leases are
-- held there (renewed when the holder has one already).
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 group L, 3 holder, 4 limit, 5 now, 6 the end of the lease.
-- Touches P:l:L, a zset holder -> the end of its lease (those ended by now are removed).
-- Reply: 1 acquired, 0 refused.

local p, group, holder, limit, now, ends = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]),
  ARGV[5], ARGV[6]
local k = p..':l:'..group
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
if not redis.call('ZSCORE', k, holder) and redis.call('ZCARD', k) >= limit then return 0 end
redis.call('ZADD', k, ends, holder)
return 1
