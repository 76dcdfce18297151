"""Durable state, at the bottom of the house: queues with acknowledgement, records with an
expiry, groups of parts completed atomically, token buckets and leases, over plain values
(str, int, float, bytes). Knows neither SMPP nor iSMS; `app` chooses the backend.

The interface and the memory backend are modules here; each other backend is a subpackage:

    store.py, results.py    the interface every backend offers, and the values it hands back
    errors.py, arguments.py what can go wrong, and the argument checks every backend makes
    memory.py               the memory backend, the model the shared test holds the others to
    in_process.py           token buckets and leases kept in the process (memory, SQLite)
    sqlite/                 the SQLite backend: one file, one writer committing in groups
    redis/                  the Redis backend, shared by every instance (Lua in redis/lua/)

Other packages import only the names below.
"""

from bridge.state.errors import StateError, StateFileError, StateUnavailable
from bridge.state.memory import MemoryState
from bridge.state.redis import DEFAULT_PREFIX, RedisState, log_safe_url
from bridge.state.results import (
    ClaimedAndPut,
    Enqueued,
    ExpiredGroup,
    GroupComplete,
    KeepGroup,
    KeptGroup,
    PartAdded,
    PartConflict,
    PartCounts,
    PartDuplicate,
    PartKept,
    PartLimits,
    PartRefused,
    Put,
    QueueCounts,
    QueueEntry,
    Record,
    RecordWrite,
    Reservation,
    Reserved,
    TokensTaken,
    decode_kept_group,
    encode_kept_group,
)
from bridge.state.sqlite import (
    BackupAbandoned,
    BackupDone,
    Fsync,
    SqliteReadOnly,
    SqliteState,
    backup_file,
)
from bridge.state.store import (
    ClusterStore,
    CommitObserver,
    CounterStore,
    LossObserver,
    NoCommitObserver,
    NoLossObserver,
    PartStore,
    QueueStore,
    RecordStore,
    StateStore,
)

__all__ = [
    "DEFAULT_PREFIX",
    "BackupAbandoned",
    "BackupDone",
    "ClaimedAndPut",
    "ClusterStore",
    "CommitObserver",
    "CounterStore",
    "Enqueued",
    "ExpiredGroup",
    "Fsync",
    "GroupComplete",
    "KeepGroup",
    "KeptGroup",
    "LossObserver",
    "MemoryState",
    "NoCommitObserver",
    "NoLossObserver",
    "PartAdded",
    "PartConflict",
    "PartCounts",
    "PartDuplicate",
    "PartKept",
    "PartLimits",
    "PartRefused",
    "PartStore",
    "Put",
    "QueueCounts",
    "QueueEntry",
    "QueueStore",
    "Record",
    "RecordStore",
    "RecordWrite",
    "RedisState",
    "Reservation",
    "Reserved",
    "SqliteReadOnly",
    "SqliteState",
    "StateError",
    "StateFileError",
    "StateStore",
    "StateUnavailable",
    "TokensTaken",
    "backup_file",
    "decode_kept_group",
    "encode_kept_group",
    "log_safe_url",
]
