-- enqueue.lua (after lib/queue_entries.lua): an entry at the end of queue Q, and the
-- oldest dropped past the queue's bound.
-- KEYS: none; every key is built here from the prefix P (ARGV[1]), see scripts.py.
-- ARGV: 1 P, 2 queue Q, 3 body, 4 now, 5 the most entries in Q.
-- Touches P:seq, the entry id counter: a counter that is not there (a first start, or a
-- Redis that lost its data) starts from `now` in microseconds, so it starts above every id
-- given out before (unless more than a million entries per second were made since): an
-- acknowledgement still in flight for an old entry can never remove a new one.
-- And P:queues, P:q:Q:due, :age, :leased and P:q:Q:e:ID (lib/queue_entries.lua).
-- Reply: {id, dropped entries, lost}; an entry is {queue, member, body, made_at, attempts}.

local p, queue, body, now, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local base = p..':q:'..queue
if redis.call('EXISTS', p..':seq') == 0 then
  redis.call('SET', p..':seq', string.format('%.0f', math.floor(tonumber(now) * 1000000)))
end
local id = redis.call('INCR', p..':seq')
local m = member(id)
redis.call('ZADD', base..':due', now, m)
redis.call('ZADD', base..':age', now, m)
redis.call('HSET', entry_key(base, m), 'body', body, 'made', now, 'tries', 0)
redis.call('SADD', p..':queues', queue)
local dropped, lost = {}, 0
local excess = redis.call('ZCARD', base..':age') - max
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', base..':age', 0, excess - 1)) do
    local found = entry(base, queue, old)
    if found then dropped[#dropped + 1] = found else lost = lost + 1 end
    remove(p, base, queue, old)
  end
end
return {id, dropped, lost}
