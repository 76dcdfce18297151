-- claim_and_put.lua (after lib/records.lua, lib/counters.lua): claim a record (as
-- claim_record.lua), reserve counters (as reserve_all.lua) and put a record (as
-- put_record.lua), all in one step, or nothing when the claim finds a live record or a
-- counter would pass its limit.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 key, 4 value, 5 now (stored_at), 6 expires_at, 7 the most records
--       of kind K; 8 the claim's kind ('' for none), 9 its key, 10 value, 11 expires_at,
--       12 the most records of its kind; then per counter C: C, amount, limit, expires_at.
-- Touches P:kinds, P:r:K:* of both kinds (lib/records.lua) and P:c:C of each counter.
-- Reply: {the live record the claim found or {}, {each counter's value}, done (1 or 0), lost}.

local p, now = ARGV[1], ARGV[5]
local lost = 0
if ARGV[8] ~= '' and live(p, ARGV[8], ARGV[9], now) then
  local found = record(p, ARGV[8], ARGV[9])
  if found then return {found, {}, 0, 0} end
  remove(p, ARGV[8], ARGV[9])
  lost = 1
end
local reserved = reserve_all(p, tonumber(now), ARGV, 13)
if reserved[1] == 0 then return {{}, reserved[2], 0, lost} end
if ARGV[8] ~= '' then
  lost = lost + put_record(p, ARGV[8], ARGV[9], ARGV[10], now, ARGV[11], tonumber(ARGV[12]))[3]
end
lost = lost + put_record(p, ARGV[2], ARGV[3], ARGV[4], now, ARGV[6], tonumber(ARGV[7]))[3]
return {{}, reserved[2], 1, lost}
