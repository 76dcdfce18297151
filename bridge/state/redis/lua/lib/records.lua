-- lib/records.lua: the functions of the record scripts, sent ahead of each of them
-- (scripts.py joins the files; put_record is also what add_part.lua's keep uses).
--   record(p, kind, key)        {kind, key, value, stored_at, expires_at}, or nil when the
--                               value or one of its index entries is gone
--   remove(p, kind, key)        the record and its index entries (also the remains of a
--                               lost one); the kind leaves P:kinds when it holds nothing
--   live(p, kind, key, now)     true while the record has not expired
--   put_record(p, kind, key, value, now, expires, max)
--                               {replaced or {}, dropped, lost}: puts it, then drops the
--                               oldest of its kind past `max`
-- Keyspace (P = prefix, K = a record kind):
--   P:kinds        set of the kinds holding records
--   P:r:K:v        hash key -> value
--   P:r:K:age      zset key -> stored_at
--   P:r:K:exp      zset key -> expires_at
-- A record is whole when its value and both scores are there; one without the others lost
-- a key (an eviction), and whoever meets it removes what is left and counts it lost.

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
