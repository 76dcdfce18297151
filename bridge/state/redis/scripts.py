"""The Lua scripts of the Redis backend, read once, at import, from the .lua files in lua/.

One script per operation, so each is atomic: Redis runs a script to the end before it serves
any other command, so "exactly one caller gets it" (take, take_record, the completing part,
expiry) holds across every instance of one Redis, as in dramatiq's Redis broker, where
enqueue, fetch, ack and requeue are each one script (and each a .lua file of its own).

Every script touches a bounded number of items: the sweeps (expiry, drop by age, releasing
leases) take a limit and are called again until done, because a script blocks the whole
server while it runs, and with it every other instance.

The files: lua/NAME.lua is the script of the constant NAME (upper case) below; its header
says what ARGV it takes, which keys it touches and what it answers. lua/lib/*.lua hold the
Lua functions several scripts share (the records', the groups', the queue entries'); a
script that uses them is sent with those files in front of it, joined here (`_script`), so
Redis receives one self-contained source per script. The text goes as it is in the files,
comments included: Redis keeps each script under its SHA1 once loaded, and the calls send
only that digest (pipe.py).

Conventions: KEYS is always empty and ARGV[1] is the key prefix; keys are built inside the
scripts (this backend is for a single Redis server or a primary with replicas, not Redis
Cluster). Numbers arrive as Python's repr of a float and are stored as those strings, so
they come back exactly; a number a script computes is written with %.17g (Lua's default
%.14g would round it). Queue entry ids are zero-padded members so that a sorted set's tie
order (by member) is id order.

Data found gone (a key Redis evicted): a script that meets a record whose value is gone, an
entry whose hash is gone, or a group whose hash or parts are gone, removes what is left of
it and counts it in its reply (a sweep's or a read's last element) instead of failing;
losses.py reports the count.
"""

from __future__ import annotations

from importlib.resources import files

_LUA = files("bridge.state.redis") / "lua"

# The shared functions (lua/lib/), sent ahead of the scripts that call them.
_RECORDS = "lib/records"
_GROUPS = "lib/groups"
_QUEUE_ENTRIES = "lib/queue_entries"
_COUNTERS = "lib/counters"


def _read(name: str) -> str:
    path = _LUA
    for part in f"{name}.lua".split("/"):
        path = path / part
    return path.read_text(encoding="utf-8")


def _script(name: str, *shared: str) -> str:
    """lua/<name>.lua, after the lua/lib files it calls (in the order given)."""
    return "".join(_read(part) for part in (*shared, name))


# Records (P:kinds, P:r:K:*).
PUT_RECORD = _script("put_record", _RECORDS)
GET_RECORD = _script("get_record", _RECORDS)
TAKE_RECORD = _script("take_record", _RECORDS)
DELETE_RECORD = _script("delete_record", _RECORDS)
SCAN_RECORDS = _script("scan_records", _RECORDS)
EXPIRE_RECORDS = _script("expire_records", _RECORDS)
CLAIM_RECORD = _script("claim_record", _RECORDS)

# Parts of groups (P:groups, P:g:G*, P:scope_groups, P:octets); a completed group can be
# kept as a record in the same step, hence the records' functions.
ADD_PART = _script("add_part", _RECORDS, _GROUPS)
EXPIRE_GROUPS = _script("expire_groups", _GROUPS)
PART_COUNTS = _script("part_counts")

# Token buckets (P:b:B) and leases (P:l:L), shared by every instance.
TAKE_TOKENS = _script("take_tokens")
BUCKET_LEVEL = _script("bucket_level")
ACQUIRE_LEASE = _script("acquire_lease")
RENEW_LEASES = _script("renew_leases")
LEASE_COUNT = _script("lease_count")

# Counters raised within a limit (P:c:C), shared by every instance; claim_and_put claims
# and puts records with its reservations, hence the records' functions too.
RESERVE = _script("reserve")
UNRESERVE = _script("unreserve")
COUNTER_VALUE = _script("counter_value")
RESERVE_ALL = _script("reserve_all", _COUNTERS)
UNRESERVE_ALL = _script("unreserve_all")
CLAIM_AND_PUT = _script("claim_and_put", _RECORDS, _COUNTERS)

# Queues (P:seq, P:queues, P:q:Q:*).
ENQUEUE = _script("enqueue", _QUEUE_ENTRIES)
TAKE = _script("take", _QUEUE_ENTRIES)
ACK = _script("ack", _QUEUE_ENTRIES)
RELEASE = _script("release", _QUEUE_ENTRIES)
RELEASE_LEASES = _script("release_leases", _QUEUE_ENTRIES)
DROP_ENTRIES = _script("drop_entries", _QUEUE_ENTRIES)
QUEUE_COUNTS = _script("queue_counts")

# The epoch marker (P:epoch), at the head of every pipeline (losses.py).
EPOCH = _script("epoch")
