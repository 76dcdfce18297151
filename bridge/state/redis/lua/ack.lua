-- ack.lua (after lib/queue_entries.lua): the entry removed, if `owner` holds its lease.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 queue Q, 3 entry id, 4 owner.
-- Touches P:queues, P:q:Q:due, :age, :leased and P:q:Q:e:ID.
-- Reply: 1 removed; 0 not there, or leased by another owner (nothing changed);
--        -1 lost (what was left of it removed).

local p, queue, owner = ARGV[1], ARGV[2], ARGV[4]
local base, m = p..':q:'..queue, member(ARGV[3])
if redis.call('HGET', entry_key(base, m), 'owner') == owner then
  remove(p, base, queue, m)
  return 1
end
return -lost_one(p, base, queue, m)
