"""The Redis backend: the state every instance of one Redis shares, so that several bridges
can serve one account (`RedisState`; a single server, or a primary found through Sentinel).

    store.py      RedisState: the StateStore, one Lua script per operation
    pipe.py       every operation of one event-loop turn in one pipeline (one round trip)
    scripts.py    the Lua scripts, read once from lua/*.lua (lua/lib/: shared functions)
    losses.py     eviction refused at open, the epoch marker, keys found gone
    sentinel.py   the client to whichever server Sentinel says is the primary

The keyspace, in short (P = the key prefix; each .lua file's header says exactly which keys
its script reads and writes, and what they hold):

    P:epoch                       the data's epoch marker, written once (gone = data lost)
    P:seq, P:queues, P:q:Q:*      queues: the id counter, the queues, each queue's sorted
                                  sets (due, age, leased) and one hash per entry (e:ID)
    P:kinds, P:r:K:*              records: their kinds; per kind a hash of values (v) and
                                  sorted sets of stored_at (age) and expires_at (exp)
    P:groups, P:g:G, P:g:G:parts  parts: groups by expiry, one hash per group and one of
                                  its parts
    P:scope_groups, P:octets      groups held per scope, octets of every part held
    P:b:B                         a token bucket (expires once it would be full)
    P:l:L                         leases: holder -> the end of its lease
    P:probe                       written by the health check (`writable`)
"""

from bridge.state.redis.store import DEFAULT_PREFIX, RedisState, log_safe_url

__all__ = ["DEFAULT_PREFIX", "RedisState", "log_safe_url"]
