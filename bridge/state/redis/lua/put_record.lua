-- put_record.lua (after lib/records.lua): put a record, replacing the one under its key,
-- and drop the oldest of its kind past the bound, in one step.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 kind K, 3 key, 4 value, 5 now (its stored_at), 6 expires_at, 7 the most
--       records of kind K; 8, 9 the kind and key of a record of another kind deleted with
--       the put ('' and '' for none); 10..14 the kind, key, value, expires_at and bound of
--       a record of a third kind put with it (`also`; absent for none).
-- Touches P:kinds and P:r:K:v, :age, :exp (lib/records.lua), and those of ARGV[8]'s and
-- ARGV[10]'s kinds.
-- Reply: {replaced record or {}, dropped records, lost}; a record is
--        {kind, key, value, stored_at, expires_at}; `also`'s are not in it but its lost.

local lost = 0
if ARGV[10] and ARGV[10] ~= '' then
  lost = put_record(ARGV[1], ARGV[10], ARGV[11], ARGV[12], ARGV[5], ARGV[13], tonumber(ARGV[14]))[3]
end
-- ARGV[8], ARGV[9]: a record of another kind deleted with the put (none when ARGV[8] is '')
if ARGV[8] ~= '' then remove(ARGV[1], ARGV[8], ARGV[9]) end
local done = put_record(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]))
done[3] = done[3] + lost
return done
