-- lib/queue_entries.lua: the functions of the queue scripts, sent ahead of each of them
-- (scripts.py joins the files).
--   member(id)                    the id as a sorted-set member: zero-padded to 16 digits,
--                                 so a tie in score is broken in id order
--   entry_key(base, m)            the entry's own hash
--   entry(base, queue, m)         {queue, member, body, made_at, attempts}, or nil when the
--                                 entry's hash is gone
--   remove(p, base, queue, m)     the entry and its index entries (also the remains of a
--                                 lost one); the queue leaves P:queues when it is empty
--   lost_one(p, base, queue, m)   1 when the entry is still indexed but its hash is gone
--                                 (its remains removed), else 0
-- Keyspace (P = prefix, Q = a queue, base = P:q:Q, ID = a member):
--   P:queues          set of the queues holding entries
--   P:q:Q:due         zset id -> not-before time, or the end of its lease
--   P:q:Q:age         zset id -> made_at
--   P:q:Q:leased      zset id -> the end of its lease (leased entries only)
--   P:q:Q:e:ID        hash body, made, tries, owner: one key per entry, so one evicted key
--                     costs one entry, never the account's queue
-- An entry whose hash is gone while its index entries remain is lost: every script that
-- meets one removes what is left of it, counts it (the last element of its reply) and goes
-- on with the rest of the queue.

local function member(id) return string.format('%016d', tonumber(id)) end
local function entry_key(base, m) return base..':e:'..m end
-- {queue, member, body, made_at, attempts}, or nil when the entry's hash is gone.
local function entry(base, queue, m)
  local held = redis.call('HMGET', entry_key(base, m), 'body', 'made', 'tries')
  if not held[1] or not held[2] then return nil end
  return {queue, m, held[1], held[2], held[3] or '0'}
end
-- The entry and its index entries (also what is left of a lost one).
local function remove(p, base, queue, m)
  redis.call('DEL', entry_key(base, m))
  redis.call('ZREM', base..':due', m)
  redis.call('ZREM', base..':age', m)
  redis.call('ZREM', base..':leased', m)
  if redis.call('ZCARD', base..':age') == 0 then redis.call('SREM', p..':queues', queue) end
end
-- An entry still indexed whose hash is gone: removed, and 1 to count it lost.
local function lost_one(p, base, queue, m)
  if redis.call('EXISTS', entry_key(base, m)) == 1 then return 0 end
  if not (redis.call('ZSCORE', base..':age', m) or redis.call('ZSCORE', base..':due', m)
          or redis.call('ZSCORE', base..':leased', m)) then return 0 end
  remove(p, base, queue, m)
  return 1
end
