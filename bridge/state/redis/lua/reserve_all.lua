-- reserve_all.lua (after lib/counters.lua): reserve.lua for several counters, all or none.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 now, then per counter C: C, amount, limit, expires_at (for a new counter).
-- Touches P:c:C of each (reserve.lua).
-- Reply: {granted (1 or 0), {each counter's value after it (granted) or as it stands}}.

return reserve_all(ARGV[1], tonumber(ARGV[2]), ARGV, 3)
