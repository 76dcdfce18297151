-- renew_leases.lua: the leases of several groups, each renewed if its holder still has it.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, 3 the new end of the leases, then pairs: group L, holder.
-- Touches P:l:L of every group named (those ended by now are removed).
-- Reply: one flag per pair, in order: 1 renewed, 0 the lease had ended or was not held.

local p, now, ends = ARGV[1], ARGV[2], ARGV[3]
local renewed = {}
for i = 4, #ARGV, 2 do
  local k = p..':l:'..ARGV[i]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  if redis.call('ZSCORE', k, ARGV[i + 1]) then
    redis.call('ZADD', k, ends, ARGV[i + 1])
    renewed[#renewed + 1] = 1
  else
    renewed[#renewed + 1] = 0
  end
end
return renewed
