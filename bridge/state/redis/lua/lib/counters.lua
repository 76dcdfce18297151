-- lib/counters.lua: the counters of reserve.lua (P:c:C, a hash of value and exp), several
-- at once, sent ahead of reserve_all.lua and claim_and_put.lua (scripts.py joins the files).
--   reserve_all(p, now, args, first)
--       args[first..] are (counter, amount, limit, expires_at) per counter; raises each as
--       reserve.lua does when every one stays within its limit, else none.
--       {granted (1 or 0), {each value after it (granted) or as it stands (refused)}}
local function reserve_all(p, now, args, first)
  local used, exps, granted = {}, {}, 1
  for i = first, #args, 4 do
    local held = redis.call('HMGET', p..':c:'..args[i], 'value', 'exp')
    local u, exp = tonumber(held[1]), held[2]
    if not u or not exp or tonumber(exp) <= now then u, exp = 0, false end
    used[#used + 1], exps[#exps + 1] = u, exp
    if u + tonumber(args[i + 1]) > tonumber(args[i + 2]) then granted = 0 end
  end
  if granted == 0 then return {0, used} end
  local n = 0
  for i = first, #args, 4 do
    n = n + 1
    local k, amount, exp = p..':c:'..args[i], tonumber(args[i + 1]), exps[n]
    if not exp then
      exp = args[i + 3]
      redis.call('HSET', k, 'value', amount, 'exp', exp)
    else
      redis.call('HINCRBY', k, 'value', amount)
    end
    redis.call('PEXPIRE', k, math.max(1, math.ceil((tonumber(exp) - now + 60) * 1000)))
    used[n] = used[n] + amount
  end
  return {1, used}
end
