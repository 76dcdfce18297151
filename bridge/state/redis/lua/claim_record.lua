-- claim_record.lua (after lib/records.lua): put a record unless a live one holds its key.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 key, 4 value, 5 now (its stored_at), 6 expires_at, 7 the most
--       records of kind K.
-- Touches P:kinds and P:r:K:v, :age, :exp (lib/records.lua).
-- Reply: {the live record or {} when it was put, lost}; lost counts the records found with
--        a part gone (removed) and those the put found so.

local p, kind, key, now = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local lost = 0
if live(p, kind, key, now) then
  local found = record(p, kind, key)
  if found then return {found, 0} end
  remove(p, kind, key)
  lost = 1
end
local done = put_record(p, kind, key, ARGV[4], now, ARGV[6], tonumber(ARGV[7]))
return {{}, lost + done[3]}
