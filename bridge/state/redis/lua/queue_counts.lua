-- queue_counts.lua: the entries of one queue, or of all, ready and leased.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, 3 queue Q ('' for every queue in P:queues).
-- Reads P:queues, P:q:Q:age (every entry) and P:q:Q:leased (leases ending after now).
-- Reply: {ready, leased}.

local p, now, only = ARGV[1], ARGV[2], ARGV[3]
local queues = redis.call('SMEMBERS', p..':queues')
if only ~= '' then queues = {only} end
local total, leased = 0, 0
for _, queue in ipairs(queues) do
  local base = p..':q:'..queue
  total = total + redis.call('ZCARD', base..':age')
  leased = leased + redis.call('ZCOUNT', base..':leased', '('..now, '+inf')
end
return {total - leased, leased}
