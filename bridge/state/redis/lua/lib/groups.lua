-- lib/groups.lua: the functions of the part scripts (add_part.lua, expire_groups.lua),
-- sent ahead of each of them (scripts.py joins the files).
--   forget(p, group)     the group's keys, its place in P:groups, and its share of
--                        P:scope_groups and P:octets
--   broken(p, group)     true when the group lost a key (its hash without its parts, or
--                        the reverse, or neither while P:groups still names it)
--   discard(p, groups)   removes what is left of broken groups, then counts
--                        P:scope_groups and P:octets again from the groups that remain
-- Keyspace (P = prefix, G = a group):
--   P:groups          zset group -> expires_at
--   P:g:G             hash scope, meta, total, first_at, expires_at, octets
--   P:g:G:parts       hash index -> value
--   P:scope_groups    hash scope -> groups held
--   P:octets          the octets of every part held (a string counter)

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
