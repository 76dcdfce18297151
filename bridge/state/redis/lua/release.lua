-- release.lua (after lib/queue_entries.lua): a leased entry given back by its owner, due
-- again at `not_before`, with its attempts counted.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 queue Q, 3 entry id, 4 owner, 5 not_before, 6 attempts.
-- Touches P:q:Q:due, :leased and P:q:Q:e:ID (owner, tries); a lost one's remains too.
-- Reply: 1 released; 0 not there, or leased by another owner (nothing changed);
--        -1 lost (what was left of it removed).

local p, queue, owner, not_before, attempts = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local base, m = p..':q:'..queue, member(ARGV[3])
local e = entry_key(base, m)
if redis.call('HGET', e, 'owner') ~= owner then return -lost_one(p, base, queue, m) end
redis.call('HDEL', e, 'owner')
redis.call('HSET', e, 'tries', attempts)
redis.call('ZREM', base..':leased', m)
redis.call('ZADD', base..':due', not_before, m)
return 1
