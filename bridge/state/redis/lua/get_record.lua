-- get_record.lua (after lib/records.lua): a live record.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 key, 4 now.
-- Touches P:r:K:v, :age, :exp (read; a record found with a part gone is removed) and P:kinds.
-- Reply: {record or {}, lost}; lost is 1 when the record was found with a part gone.

local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not live(p, kind, key, now) then return {{}, 0} end
local found = record(p, kind, key)
if not found then
  remove(p, kind, key)
  return {{}, 1}
end
return {found, 0}
