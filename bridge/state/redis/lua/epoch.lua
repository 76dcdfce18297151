-- epoch.lua: the marker of the data's epoch, written when it is missing (as SET NX would)
-- and returned, so the caller learns whether it changed (losses.py: a marker missing or
-- changed means Redis lost its data). Sent at the head of every pipeline.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 a new random marker.
-- Touches P:epoch, the marker (random), written once; gone means the data was lost.
-- Reply: the marker held now (ARGV[2] when this call wrote it).

local k = ARGV[1]..':epoch'
local held = redis.call('GET', k)
if held then return held end
redis.call('SET', k, ARGV[2])
return ARGV[2]
