-- scan_records.lua (after lib/records.lua): the live records of one kind, newest first.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 now, 4 since (stored_at at least; '-inf' for all), 5 the most
--       records to return (-1: no limit).
-- Touches P:r:K:v, :age, :exp (read; records found with a part gone are removed) and P:kinds.
-- Reply: {records, lost}.

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
