-- take_tokens.lua: a token bucket shared by every instance; tokens refill at `rate` per
-- second up to `burst`, and `count` of them are taken, or none.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 bucket B, 3 rate, 4 burst, 5 count, 6 now.
-- Touches P:b:B, a hash of tokens and at (the time they were counted); with a rate above 0
-- it expires once the bucket would be full again (burst / rate + 60 s), so an idle bucket
-- costs nothing.
-- Reply: {granted (1 or 0), tokens left, seconds to wait for `count`}, the numbers written
--        with %.17g (Lua's default %.14g would round them).

local function fmt(x) return string.format('%.17g', x) end
local p, bucket = ARGV[1], ARGV[2]
local rate, burst, count, now = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
  tonumber(ARGV[6])
local k = p..':b:'..bucket
local held = redis.call('HMGET', k, 'tokens', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if not tokens then tokens, at = burst, now end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local granted, wait = 0, 0
if tokens >= count then
  tokens, granted = tokens - count, 1
elseif rate > 0 then
  wait = (count - tokens) / rate
else
  wait = math.huge
end
redis.call('HSET', k, 'tokens', fmt(tokens), 'at', fmt(math.max(now, at)))
if rate > 0 then redis.call('PEXPIRE', k, math.ceil((burst / rate + 60) * 1000)) end
return {granted, fmt(tokens), fmt(wait)}
