"""The Lua scripts of the Redis backend: one script per operation, so each is atomic.

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

Keys (P = prefix):
  P:seq                 entry id counter
  P:queues              set of queues holding entries
  P:q:Q:due             zset id -> not-before time, or the end of its lease
  P:q:Q:age             zset id -> made_at
  P:q:Q:leased          zset id -> the end of its lease (leased entries only)
  P:q:Q:body / :made / :tries / :owner   hashes id -> body, made_at, attempts, lease owner
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

_QUEUE = """
local function fmt(x) return string.format('%.17g', x) end
local function member(id) return string.format('%016d', tonumber(id)) end
local function entry(base, queue, m)
  return {queue, m, redis.call('HGET', base..':body', m), redis.call('HGET', base..':made', m),
          redis.call('HGET', base..':tries', m)}
end
local function remove(p, base, queue, m)
  redis.call('ZREM', base..':due', m)
  redis.call('ZREM', base..':age', m)
  redis.call('HDEL', base..':body', m)
  redis.call('HDEL', base..':made', m)
  redis.call('HDEL', base..':tries', m)
  redis.call('HDEL', base..':owner', m)
  redis.call('ZREM', base..':leased', m)
  if redis.call('ZCARD', base..':age') == 0 then redis.call('SREM', p..':queues', queue) end
end
"""

ENQUEUE = (
    _QUEUE
    + """
local p, queue, body, now, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local base = p..':q:'..queue
local id = redis.call('INCR', p..':seq')
local m = member(id)
redis.call('ZADD', base..':due', now, m)
redis.call('ZADD', base..':age', now, m)
redis.call('HSET', base..':body', m, body)
redis.call('HSET', base..':made', m, now)
redis.call('HSET', base..':tries', m, 0)
redis.call('SADD', p..':queues', queue)
local dropped = {}
local excess = redis.call('ZCARD', base..':age') - max
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', base..':age', 0, excess - 1)) do
    dropped[#dropped + 1] = entry(base, queue, old)
    remove(p, base, queue, old)
  end
end
return {id, dropped}
"""
)

TAKE = (
    _QUEUE
    + """
local p, queue, owner, now, ends, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local base = p..':q:'..queue
local taken = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', base..':due', '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZADD', base..':due', ends, m)
  redis.call('ZADD', base..':leased', ends, m)
  redis.call('HSET', base..':owner', m, owner)
  taken[#taken + 1] = entry(base, queue, m)
end
return taken
"""
)

ACK = (
    _QUEUE
    + """
local p, queue = ARGV[1], ARGV[2]
local base, m = p..':q:'..queue, member(ARGV[3])
if not redis.call('ZSCORE', base..':age', m) then return 0 end
remove(p, base, queue, m)
return 1
"""
)

RELEASE = (
    _QUEUE
    + """
local p, queue, owner, not_before, attempts = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local base, m = p..':q:'..queue, member(ARGV[3])
if redis.call('HGET', base..':owner', m) ~= owner then return 0 end
redis.call('HDEL', base..':owner', m)
redis.call('ZREM', base..':leased', m)
redis.call('ZADD', base..':due', not_before, m)
redis.call('HSET', base..':tries', m, attempts)
return 1
"""
)

# ARGV: prefix, queue, owner ('' = any), then the members to release (a chunk the caller
# found with HSCAN); a member leased by someone else by now is left alone.
RELEASE_LEASES = """
local p, queue, owner = ARGV[1], ARGV[2], ARGV[3]
local base = p..':q:'..queue
local released = 0
for i = 4, #ARGV do
  local m = ARGV[i]
  local held = redis.call('HGET', base..':owner', m)
  if held and (owner == '' or held == owner) then
    redis.call('HDEL', base..':owner', m)
    redis.call('ZREM', base..':leased', m)
    redis.call('ZADD', base..':due', redis.call('HGET', base..':made', m), m)
    released = released + 1
  end
end
return released
"""

DROP_ENTRIES = (
    _QUEUE
    + """
local p, made_before, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local dropped = {}
for _, queue in ipairs(redis.call('SMEMBERS', p..':queues')) do
  local base = p..':q:'..queue
  local room = limit - #dropped
  if room <= 0 then break end
  local old = redis.call('ZRANGEBYSCORE', base..':age', '-inf', made_before, 'LIMIT', 0, room)
  for _, m in ipairs(old) do
    dropped[#dropped + 1] = entry(base, queue, m)
    remove(p, base, queue, m)
  end
end
return dropped
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

_RECORD = """
local function record(p, kind, key)
  local base = p..':r:'..kind
  return {kind, key, redis.call('HGET', base..':v', key), redis.call('ZSCORE', base..':age', key),
          redis.call('ZSCORE', base..':exp', key)}
end
local function remove(p, kind, key)
  local base = p..':r:'..kind
  redis.call('HDEL', base..':v', key)
  redis.call('ZREM', base..':age', key)
  redis.call('ZREM', base..':exp', key)
  if redis.call('HLEN', base..':v') == 0 then redis.call('SREM', p..':kinds', kind) end
end
local function live(p, kind, key, now)
  local expires = redis.call('ZSCORE', p..':r:'..kind..':exp', key)
  return expires and tonumber(expires) > tonumber(now)
end
"""

PUT_RECORD = (
    _RECORD
    + """
local p, kind, key, value, now, expires, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  ARGV[6], tonumber(ARGV[7])
local base = p..':r:'..kind
local replaced = {}
if redis.call('HEXISTS', base..':v', key) == 1 then replaced = record(p, kind, key) end
redis.call('HSET', base..':v', key, value)
redis.call('ZADD', base..':age', now, key)
redis.call('ZADD', base..':exp', expires, key)
redis.call('SADD', p..':kinds', kind)
local dropped = {}
local excess = redis.call('ZCARD', base..':age') - max
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', base..':age', 0, excess - 1)) do
    dropped[#dropped + 1] = record(p, kind, old)
    remove(p, kind, old)
  end
end
return {replaced, dropped}
"""
)

GET_RECORD = (
    _RECORD
    + """
local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not live(p, kind, key, now) then return {} end
return record(p, kind, key)
"""
)

TAKE_RECORD = (
    _RECORD
    + """
local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not live(p, kind, key, now) then return {} end
local found = record(p, kind, key)
remove(p, kind, key)
return found
"""
)

DELETE_RECORD = (
    _RECORD
    + """
local p, kind, key = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', p..':r:'..kind..':v', key) == 0 then return 0 end
remove(p, kind, key)
return 1
"""
)

SCAN_RECORDS = (
    _RECORD
    + """
local p, kind, now, since, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local found = {}
for _, key in ipairs(redis.call('ZREVRANGEBYSCORE', p..':r:'..kind..':age', '+inf', since)) do
  if limit >= 0 and #found >= limit then break end
  if live(p, kind, key, now) then found[#found + 1] = record(p, kind, key) end
end
return found
"""
)

EXPIRE_RECORDS = (
    _RECORD
    + """
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local expired = {}
for _, kind in ipairs(redis.call('SMEMBERS', p..':kinds')) do
  local room = limit - #expired
  if room <= 0 then break end
  local exp = p..':r:'..kind..':exp'
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, room)) do
    expired[#expired + 1] = record(p, kind, key)
    remove(p, kind, key)
  end
end
return expired
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
"""

ADD_PART = (
    _GROUP
    + """
local p, group, index, value, total = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local scope, meta, now, expires = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local max_groups, max_bytes = tonumber(ARGV[10]), tonumber(ARGV[11])
local g = p..':g:'..group
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
    return {'complete', held[1], held[3], parts}
  end
elseif total == 1 then
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
"""
)

EXPIRE_GROUPS = (
    _GROUP
    + """
local p, now, limit = ARGV[1], ARGV[2], ARGV[3]
local expired = {}
local due = redis.call('ZRANGEBYSCORE', p..':groups', '-inf', now, 'LIMIT', 0, limit)
for _, group in ipairs(due) do
  local g = p..':g:'..group
  local held = redis.call('HMGET', g, 'scope', 'meta', 'total', 'first_at', 'expires_at')
  expired[#expired + 1] = {group, held[1], held[2], held[3], held[4], held[5],
                           redis.call('HGETALL', g..':parts')}
  forget(p, group)
end
return expired
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
