-- expire_records.lua (after lib/records.lua): a sweep, removing the records of every kind
-- whose expires_at is at or before now; at most `limit` records (expired and lost) per
-- call, so the caller calls again until it gets fewer.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, 3 limit.
-- Touches P:kinds and, for each kind K in it, P:r:K:v, :age, :exp.
-- Reply: {expired records, lost}.

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
