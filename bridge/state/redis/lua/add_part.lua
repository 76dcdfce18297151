-- add_part.lua (after lib/records.lua and lib/groups.lua): one part of a group (a long
-- message's segment); the part that completes the group takes it out whole, so exactly one
-- caller gets it, and can keep it as a record in the same step.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 group G, 3 index, 4 value, 5 total, 6 scope, 7 meta, 8 now, 9 expires_at,
--       10 the most groups per scope, 11 the most octets of every part held,
--       12..15 keep: the kind K, key, expires_at and most records of the record that a
--       group this part completes is also put as ('', '', 0, 0 for none).
-- Touches P:groups, P:g:G, P:g:G:parts, P:scope_groups, P:octets (lib/groups.lua) and,
-- with keep, P:kinds and P:r:K:v, :age, :exp (lib/records.lua).
-- Reply: {reply, lost, record_lost}: lost is 1 when the group was found broken (and
--        discarded), record_lost what keep's put found lost; reply is one of
--        {'kept', parts received}, {'duplicate', value stored}, {'conflict', meta, total},
--        {'complete', meta, first_at, {parts in index order}}, {'refused', 'groups'|'bytes'}.

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
