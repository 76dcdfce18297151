"""The Lua scripts of the Redis backend: one script per operation, so each is atomic (the
queues' and the epoch marker's are in redis_queue_scripts.py).

Redis runs a script to the end before it serves any other command, so "exactly one caller
gets it" (take, take_record, the completing part, expiry) holds across every instance of
one Redis, as in dramatiq's Redis broker, where enqueue, fetch, ack and requeue are each
one script.

Every script touches a bounded number of items: the sweeps (expiry, drop by age, releasing
leases) take a limit and are called again until done, because a script blocks the whole
server while it runs, and with it every other instance.

Conventions: ARGV[1] is the key prefix; keys are built inside the scripts (this backend is
for a single Redis server or a primary with replicas, not Redis Cluster). Numbers arrive as
Python's repr of a float and are stored as those strings, so they come back exactly; a number
a script computes is written with %.17g (Lua's default %.14g would round it). Queue entry ids
are zero-padded members so that a sorted set's tie order (by member) is id order.

Data found gone (a key Redis evicted): a script that meets a record whose value is gone, or
a group whose hash or parts are gone, removes what is left of it and counts it in its reply
(a sweep's or a read's last element) instead of failing; redis_loss.py reports the count.

Keys (P = prefix):
  P:epoch               the data's epoch marker (random), written once; gone = data lost
  P:seq                 entry id counter (started from the clock in µs when missing)
  P:queues              set of queues holding entries
  P:q:Q:due             zset id -> not-before time, or the end of its lease
  P:q:Q:age             zset id -> made_at
  P:q:Q:leased          zset id -> the end of its lease (leased entries only)
  P:q:Q:e:ID            hash body, made, tries, owner: one key per entry, so one evicted
                        key costs one entry, not the queue
  P:kinds               set of record kinds
  P:r:K:v               hash key -> value
  P:r:K:age / :exp      zsets key -> stored_at, expires_at
  P:groups              zset group -> expires_at
  P:g:G                 hash scope, meta, total, first_at, expires_at, octets
  P:g:G:parts           hash index -> value
  P:scope_groups        hash scope -> groups held;  P:octets  octets of every part
  P:b:B                 hash tokens, at (a token bucket; expires once it would be full)
  P:l:L                 zset holder -> end of its lease
  P:probe               written by the health check
"""

from __future__ import annotations

_RECORD = """
-- {kind, key, value, stored_at, expires_at}, or nil when the value (or an index) is gone.
local function record(p, kind, key)
  local base = p..':r:'..kind
  local value = redis.call('HGET', base..':v', key)
  local stored = redis.call('ZSCORE', base..':age', key)
  local expires = redis.call('ZSCORE', base..':exp', key)
  if not (value and stored and expires) then return nil end
  return {kind, key, value, stored, expires}
end
local function remove(p, kind, key)
  local base = p..':r:'..kind
  redis.call('HDEL', base..':v', key)
  redis.call('ZREM', base..':age', key)
  redis.call('ZREM', base..':exp', key)
  if redis.call('ZCARD', base..':age') == 0 and redis.call('ZCARD', base..':exp') == 0 then
    redis.call('SREM', p..':kinds', kind)
  end
end
local function live(p, kind, key, now)
  local expires = redis.call('ZSCORE', p..':r:'..kind..':exp', key)
  return expires and tonumber(expires) > tonumber(now)
end
-- {replaced or {}, dropped, lost}: what PUT_RECORD returns (ADD_PART's keep puts one too).
local function put_record(p, kind, key, value, now, expires, max)
  local base = p..':r:'..kind
  local replaced, lost = {}, 0
  if redis.call('HEXISTS', base..':v', key) == 1 or redis.call('ZSCORE', base..':age', key) then
    local old = record(p, kind, key)
    if old then replaced = old else lost = lost + 1 end
  end
  redis.call('HSET', base..':v', key, value)
  redis.call('ZADD', base..':age', now, key)
  redis.call('ZADD', base..':exp', expires, key)
  redis.call('SADD', p..':kinds', kind)
  local dropped = {}
  local excess = redis.call('ZCARD', base..':age') - max
  if excess > 0 then
    for _, old in ipairs(redis.call('ZRANGE', base..':age', 0, excess - 1)) do
      local found = record(p, kind, old)
      if found then dropped[#dropped + 1] = found else lost = lost + 1 end
      remove(p, kind, old)
    end
  end
  return {replaced, dropped, lost}
end
"""

PUT_RECORD = (
    _RECORD
    + """
-- ARGV[8], ARGV[9]: a record of another kind deleted with the put (none when ARGV[8] is '')
if ARGV[8] ~= '' then remove(ARGV[1], ARGV[8], ARGV[9]) end
return put_record(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]))
"""
)

# {record or {}, lost}
GET_RECORD = (
    _RECORD
    + """
local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not live(p, kind, key, now) then return {{}, 0} end
local found = record(p, kind, key)
if not found then
  remove(p, kind, key)
  return {{}, 1}
end
return {found, 0}
"""
)

TAKE_RECORD = (
    _RECORD
    + """
local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not live(p, kind, key, now) then return {{}, 0} end
local found = record(p, kind, key)
remove(p, kind, key)
if not found then return {{}, 1} end
return {found, 0}
"""
)

# 1 deleted; 0 not there; -1 lost (what was left of it removed).
DELETE_RECORD = (
    _RECORD
    + """
local p, kind, key = ARGV[1], ARGV[2], ARGV[3]
local base = p..':r:'..kind
if redis.call('HEXISTS', base..':v', key) == 1 then
  local whole = record(p, kind, key)
  remove(p, kind, key)
  if whole then return 1 end
  return -1
end
if redis.call('ZSCORE', base..':age', key) or redis.call('ZSCORE', base..':exp', key) then
  remove(p, kind, key)
  return -1
end
return 0
"""
)

SCAN_RECORDS = (
    _RECORD
    + """
local p, kind, now, since, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local found, lost = {}, 0
for _, key in ipairs(redis.call('ZREVRANGEBYSCORE', p..':r:'..kind..':age', '+inf', since)) do
  if limit >= 0 and #found >= limit then break end
  if live(p, kind, key, now) then
    local held = record(p, kind, key)
    if held then
      found[#found + 1] = held
    else
      remove(p, kind, key)
      lost = lost + 1
    end
  end
end
return {found, lost}
"""
)

EXPIRE_RECORDS = (
    _RECORD
    + """
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local expired, lost = {}, 0
for _, kind in ipairs(redis.call('SMEMBERS', p..':kinds')) do
  local room = limit - #expired - lost
  if room <= 0 then break end
  local exp = p..':r:'..kind..':exp'
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, room)) do
    local found = record(p, kind, key)
    if found then expired[#expired + 1] = found else lost = lost + 1 end
    remove(p, kind, key)
  end
end
return {expired, lost}
"""
)

_GROUP = """
local function forget(p, group)
  local g = p..':g:'..group
  local held = redis.call('HMGET', g, 'scope', 'octets')
  redis.call('DEL', g, g..':parts')
  redis.call('ZREM', p..':groups', group)
  if redis.call('HINCRBY', p..':scope_groups', held[1], -1) <= 0 then
    redis.call('HDEL', p..':scope_groups', held[1])
  end
  redis.call('DECRBY', p..':octets', held[2])
end
-- A group is made with its first part, so its hash and its parts exist together; one
-- without the other (or neither, while P:groups still names it) lost a key.
local function broken(p, group)
  local g = p..':g:'..group
  local hash, parts = redis.call('EXISTS', g) == 1, redis.call('EXISTS', g..':parts') == 1
  if hash ~= parts then return true end
  return not hash and redis.call('ZSCORE', p..':groups', group) ~= false
end
-- Removes what is left of broken groups, then counts the groups per scope and the octets
-- again from the groups that remain (a lost group's own numbers went with it).
local function discard(p, groups)
  for _, group in ipairs(groups) do
    redis.call('DEL', p..':g:'..group, p..':g:'..group..':parts')
    redis.call('ZREM', p..':groups', group)
  end
  redis.call('DEL', p..':scope_groups', p..':octets')
  for _, group in ipairs(redis.call('ZRANGE', p..':groups', 0, -1)) do
    local held = redis.call('HMGET', p..':g:'..group, 'scope', 'octets')
    if held[1] then
      redis.call('HINCRBY', p..':scope_groups', held[1], 1)
      redis.call('INCRBY', p..':octets', held[2] or 0)
    end
  end
end
"""

# {reply, lost}: reply is what the part did (kept, duplicate, conflict, complete, refused).
ADD_PART = (
    _RECORD
    + _GROUP
    + """
local p, group, index, value, total = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local scope, meta, now, expires = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local max_groups, max_bytes = tonumber(ARGV[10]), tonumber(ARGV[11])
-- keep: a group this part completes is also put as that record ('' for none), its value
-- results.encode_kept_group's netstrings (first_at as the client wrote it: repr).
local keep_kind, keep_key, keep_expires, keep_max = ARGV[12], ARGV[13], ARGV[14], ARGV[15]
local g = p..':g:'..group
local lost, record_lost = 0, 0
local function netstring(s) return #s..':'..s..',' end
local function kept(meta_, first_at, parts)
  if keep_kind == '' then return end
  local value = netstring(meta_)..netstring(first_at)..netstring(index)
  for _, part in ipairs(parts) do value = value..netstring(part) end
  local put = put_record(p, keep_kind, keep_key, value, now, keep_expires, tonumber(keep_max))
  record_lost = put[3]
end
if broken(p, group) then
  discard(p, {group})
  lost = 1
end
local function add()
  local exists = redis.call('EXISTS', g) == 1
  if exists then
    local stored = redis.call('HGET', g..':parts', index)
    if stored then return {'duplicate', stored} end
    local held = redis.call('HMGET', g, 'meta', 'total', 'first_at')
    if held[1] ~= meta or tonumber(held[2]) ~= total then
      return {'conflict', held[1], held[2]}
    end
    if redis.call('HLEN', g..':parts') + 1 == total then
      redis.call('HSET', g..':parts', index, value)
      local parts = {}
      for i = 1, total do parts[i] = redis.call('HGET', g..':parts', i) end
      forget(p, group)
      kept(held[1], held[3], parts)
      return {'complete', held[1], held[3], parts}
    end
  elseif total == 1 then
    kept(meta, now, {value})
    return {'complete', meta, now, {value}}
  elseif (tonumber(redis.call('HGET', p..':scope_groups', scope)) or 0) >= max_groups then
    return {'refused', 'groups'}
  end
  if (tonumber(redis.call('GET', p..':octets')) or 0) + #value > max_bytes then
    return {'refused', 'bytes'}
  end
  if not exists then
    redis.call('HSET', g, 'scope', scope, 'meta', meta, 'total', total, 'first_at', now,
               'expires_at', expires, 'octets', 0)
    redis.call('ZADD', p..':groups', expires, group)
    redis.call('HINCRBY', p..':scope_groups', scope, 1)
  end
  redis.call('HSET', g..':parts', index, value)
  redis.call('HINCRBY', g, 'octets', #value)
  redis.call('INCRBY', p..':octets', #value)
  return {'kept', redis.call('HLEN', g..':parts')}
end
local reply = add()
return {reply, lost, record_lost}
"""
)

EXPIRE_GROUPS = (
    _GROUP
    + """
local p, now, limit = ARGV[1], ARGV[2], ARGV[3]
local expired, lost = {}, {}
local due = redis.call('ZRANGEBYSCORE', p..':groups', '-inf', now, 'LIMIT', 0, limit)
for _, group in ipairs(due) do
  if broken(p, group) then
    lost[#lost + 1] = group
  else
    local g = p..':g:'..group
    local held = redis.call('HMGET', g, 'scope', 'meta', 'total', 'first_at', 'expires_at')
    expired[#expired + 1] = {group, held[1], held[2], held[3], held[4], held[5],
                             redis.call('HGETALL', g..':parts')}
    forget(p, group)
  end
end
if #lost > 0 then discard(p, lost) end
return {expired, #lost}
"""
)

PART_COUNTS = """
local p, scope = ARGV[1], ARGV[2]
if scope == '' then
  return {redis.call('ZCARD', p..':groups'), tonumber(redis.call('GET', p..':octets')) or 0}
end
local groups, octets = 0, 0
for _, group in ipairs(redis.call('ZRANGE', p..':groups', 0, -1)) do
  local held = redis.call('HMGET', p..':g:'..group, 'scope', 'octets')
  if held[1] == scope then
    groups = groups + 1
    octets = octets + tonumber(held[2])
  end
end
return {groups, octets}
"""

TAKE_TOKENS = """
local function fmt(x) return string.format('%.17g', x) end
local p, bucket = ARGV[1], ARGV[2]
local rate, burst, count, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
  tonumber(ARGV[6])
local k = p..':b:'..bucket
local held = redis.call('HMGET', k, 'tokens', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if not tokens then tokens, at = burst, now end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local granted, wait = 0, 0
if tokens >= count then
  tokens, granted = tokens - count, 1
elseif rate > 0 then
  wait = (count - tokens) / rate
else
  wait = math.huge
end
redis.call('HSET', k, 'tokens', fmt(tokens), 'at', fmt(math.max(now, at)))
if rate > 0 then redis.call('PEXPIRE', k, math.ceil((burst / rate + 60) * 1000)) end
return {granted, fmt(tokens), fmt(wait)}
"""

ACQUIRE_LEASE = """
local p, group, holder, limit, now, ends = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]),
  ARGV[5], ARGV[6]
local k = p..':l:'..group
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
if not redis.call('ZSCORE', k, holder) and redis.call('ZCARD', k) >= limit then return 0 end
redis.call('ZADD', k, ends, holder)
return 1
"""

RENEW_LEASES = """
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
"""

LEASE_COUNT = """
local p, group, now = ARGV[1], ARGV[2], ARGV[3]
local k = p..':l:'..group
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
return redis.call('ZCARD', k)
"""
