-- release_leases.lua (after lib/queue_entries.lua): leased entries of queue Q made due
-- again at once (an owner that stopped, or every owner at start). The caller finds the
-- members a chunk at a time with ZSCAN of P:q:Q:leased; a member leased by someone else
-- by now is left alone.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 queue Q, 3 owner ('' = any), then the members to release.
-- Touches P:q:Q:due, :leased and P:q:Q:e:ID (its owner removed); a lost one's remains too.
-- Reply: {released, lost}.

local p, queue, owner = ARGV[1], ARGV[2], ARGV[3]
local base = p..':q:'..queue
local released, lost = 0, 0
for i = 4, #ARGV do
  local m = ARGV[i]
  local e = entry_key(base, m)
  local held = redis.call('HMGET', e, 'owner', 'made')
  if not held[2] then
    lost = lost + lost_one(p, base, queue, m)
  elseif held[1] and (owner == '' or held[1] == owner) then
    redis.call('HDEL', e, 'owner')
    redis.call('ZREM', base..':leased', m)
    redis.call('ZADD', base..':due', held[2], m)
    released = released + 1
  end
end
return {released, lost}
