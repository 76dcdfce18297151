"""The Lua scripts of the Redis backend's queues, and the epoch marker's (redis_scripts.py
has the conventions and the whole key layout).

Each entry is a hash of its own (P:q:Q:e:MEMBER: body, made, tries, owner), indexed by the
queue's sorted sets, so a key Redis evicts costs one entry, never the account's queue. An
entry whose hash is gone while its index entries remain is "lost": every script that meets
one removes what is left of it and counts it (the last element of its reply), and goes on
with the rest of the queue.

Entry ids come from P:seq. A counter that is not there (a first start, or a Redis that lost
its data) starts from the caller's clock in microseconds, so it starts above every id given
out before (unless more than a million entries per second were made since): an
acknowledgement still in flight for an old entry can never remove a new one.
"""

from __future__ import annotations

_QUEUE = """
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
"""

ENQUEUE = (
    _QUEUE
    + """
local p, queue, body, now, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local base = p..':q:'..queue
if redis.call('EXISTS', p..':seq') == 0 then
  redis.call('SET', p..':seq', string.format('%.0f', math.floor(tonumber(now) * 1000000)))
end
local id = redis.call('INCR', p..':seq')
local m = member(id)
redis.call('ZADD', base..':due', now, m)
redis.call('ZADD', base..':age', now, m)
redis.call('HSET', entry_key(base, m), 'body', body, 'made', now, 'tries', 0)
redis.call('SADD', p..':queues', queue)
local dropped, lost = {}, 0
local excess = redis.call('ZCARD', base..':age') - max
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', base..':age', 0, excess - 1)) do
    local found = entry(base, queue, old)
    if found then dropped[#dropped + 1] = found else lost = lost + 1 end
    remove(p, base, queue, old)
  end
end
return {id, dropped, lost}
"""
)

# Lost entries met on the way are removed and more are looked at, so the live ones behind
# them are taken now; at most `limit` + 1,000 per call (a script blocks the server).
TAKE = (
    _QUEUE
    + """
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
"""
)

# 1 removed; 0 not there, or leased by another owner (nothing changed); -1 lost (removed).
ACK = (
    _QUEUE
    + """
local p, queue, owner = ARGV[1], ARGV[2], ARGV[4]
local base, m = p..':q:'..queue, member(ARGV[3])
if redis.call('HGET', entry_key(base, m), 'owner') == owner then
  remove(p, base, queue, m)
  return 1
end
return -lost_one(p, base, queue, m)
"""
)

RELEASE = (
    _QUEUE
    + """
local p, queue, owner, not_before, attempts = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local base, m = p..':q:'..queue, member(ARGV[3])
local e = entry_key(base, m)
if redis.call('HGET', e, 'owner') ~= owner then return -lost_one(p, base, queue, m) end
redis.call('HDEL', e, 'owner')
redis.call('HSET', e, 'tries', attempts)
redis.call('ZREM', base..':leased', m)
redis.call('ZADD', base..':due', not_before, m)
return 1
"""
)

# ARGV: prefix, queue, owner ('' = any), then the members to release (a chunk the caller
# found with ZSCAN of P:q:Q:leased); a member leased by someone else by now is left alone.
RELEASE_LEASES = (
    _QUEUE
    + """
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
"""
)

DROP_ENTRIES = (
    _QUEUE
    + """
local p, made_before, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local dropped, lost = {}, 0
for _, queue in ipairs(redis.call('SMEMBERS', p..':queues')) do
  local base = p..':q:'..queue
  local room = limit - #dropped - lost
  if room <= 0 then break end
  local old = redis.call('ZRANGEBYSCORE', base..':age', '-inf', made_before, 'LIMIT', 0, room)
  for _, m in ipairs(old) do
    local found = entry(base, queue, m)
    if found then dropped[#dropped + 1] = found else lost = lost + 1 end
    remove(p, base, queue, m)
  end
end
return {dropped, lost}
"""
)

QUEUE_COUNTS = """
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
"""

# ARGV: prefix, a new random marker. The marker of the data's epoch: written when it is
# missing (SET NX), and returned, so the caller learns whether it changed (redis_loss.py).
EPOCH = """
local k = ARGV[1]..':epoch'
local held = redis.call('GET', k)
if held then return held end
redis.call('SET', k, ARGV[2])
return ARGV[2]
"""
