-- drop_entries.lua (after lib/queue_entries.lua): a sweep, removing the entries made at or
-- before `made_before`, of every queue; at most `limit` entries (dropped and lost) per call.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 made_before, 3 limit.
-- Touches P:queues and, for each queue Q in it, P:q:Q:due, :age, :leased and P:q:Q:e:ID.
-- Reply: {dropped entries, lost}.

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
