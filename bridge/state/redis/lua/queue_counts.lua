-- queue_counts.lua: the entries of one queue, or of all, ready and leased, and the oldest.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, 3 queue Q ('' for every queue in P:queues).
-- Reads P:queues, P:q:Q:age (every entry, scored by made_at) and P:q:Q:leased (leases
-- ending after now).
-- Reply: {ready, leased, oldest made_at as the score's string (false: no entry)}; a
-- string, because Redis turns a Lua number in a reply into an integer.

local p, now, only = ARGV[1], ARGV[2], ARGV[3]
local queues = redis.call('SMEMBERS', p..':queues')
if only ~= '' then queues = {only} end
local total, leased, oldest = 0, 0, false
for _, queue in ipairs(queues) do
  local base = p..':q:'..queue
  total = total + redis.call('ZCARD', base..':age')
  leased = leased + redis.call('ZCOUNT', base..':leased', '('..now, '+inf')
  local first = redis.call('ZRANGE', base..':age', 0, 0, 'WITHSCORES')
  if first[2] and (not oldest or tonumber(first[2]) < tonumber(oldest)) then
    oldest = first[2]
  end
end
return {total - leased, leased, oldest}
