-- take.lua (after lib/queue_entries.lua): up to `limit` due entries of queue Q, leased to
-- `owner` until the end of the lease (due again then, unless acknowledged). Lost entries
-- met on the way are removed and more are looked at, so the live ones behind them are
-- taken now; at most `limit` + 1,000 per call (a script blocks the server).
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 queue Q, 3 owner, 4 now, 5 the end of the lease, 6 limit.
-- Touches P:queues, P:q:Q:due, :age, :leased and P:q:Q:e:ID (its owner is set).
-- Reply: {taken entries, lost}.

local p, queue, owner, now, ends = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit = tonumber(ARGV[6])
local base = p..':q:'..queue
local taken, lost = {}, 0
while #taken < limit and lost < 1000 do
  local due = redis.call('ZRANGEBYSCORE', base..':due', '-inf', now, 'LIMIT', 0, limit - #taken)
  local found_lost = 0
  for _, m in ipairs(due) do
    local found = entry(base, queue, m)
    if found then
      redis.call('ZADD', base..':due', ends, m)
      redis.call('ZADD', base..':leased', ends, m)
      redis.call('HSET', entry_key(base, m), 'owner', owner)
      taken[#taken + 1] = found
    else
      remove(p, base, queue, m)
      found_lost = found_lost + 1
    end
  end
  lost = lost + found_lost
  if found_lost == 0 then break end
end
return {taken, lost}
