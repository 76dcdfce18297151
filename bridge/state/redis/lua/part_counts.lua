-- part_counts.lua: the groups held and the octets of their parts, of one scope or of all.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 scope ('' for every scope).
-- Reads P:groups and P:octets; for one scope, the hash P:g:G of every group (scope, octets).
-- Reply: {groups, octets}.

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
