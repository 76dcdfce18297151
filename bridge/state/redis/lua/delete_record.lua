-- delete_record.lua (after lib/records.lua): a record removed, expired or not.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 key.
-- Touches P:r:K:v, :age, :exp and P:kinds.
-- Reply: 1 deleted; 0 not there; -1 lost (what was left of it removed).

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
