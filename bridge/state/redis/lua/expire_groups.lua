-- expire_groups.lua (after lib/groups.lua): a sweep, removing the groups whose expires_at
-- is at or before now; at most `limit` groups (expired and lost) per call.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, 3 limit.
-- Touches P:groups, P:g:G, P:g:G:parts, P:scope_groups, P:octets.
-- Reply: {expired, lost}: each expired group is
--        {group, scope, meta, total, first_at, expires_at, {index, value, index, value, ...}},
--        lost the number of broken groups discarded.

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
