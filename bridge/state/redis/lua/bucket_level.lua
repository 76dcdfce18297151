-- bucket_level.lua: the tokens take_tokens.lua would find in bucket B now; changes nothing
-- (a bucket that is not there is full).
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 bucket B, 3 rate, 4 burst, 5 now.
-- Reads P:b:B, the hash of tokens and at that take_tokens.lua keeps.
-- Reply: the tokens, written with %.17g (Lua's default %.14g would round them).

local p, bucket = ARGV[1], ARGV[2]
local rate, burst, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local held = redis.call('HMGET', p..':b:'..bucket, 'tokens', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if not tokens then return string.format('%.17g', burst) end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
return string.format('%.17g', math.min(burst, tokens + elapsed * rate))
