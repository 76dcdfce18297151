"""Durable state, at the bottom of the house: queues with acknowledgement, records with an
expiry, groups of parts completed atomically, token buckets and leases, over plain values
(str, int, float, bytes). Knows neither SMPP nor iSMS; `app` chooses the backend."""

from bridge.state.errors import StateError, StateFileError, StateUnavailable
from bridge.state.memory import MemoryState
from bridge.state.redis_store import DEFAULT_PREFIX, RedisState, log_safe_url
from bridge.state.results import (
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
    TokensTaken,
    decode_kept_group,
    encode_kept_group,
)
from bridge.state.sqlite_backup import BackupAbandoned, BackupDone, backup_file
from bridge.state.sqlite_file import Fsync
from bridge.state.sqlite_store import SqliteReadOnly, SqliteState
from bridge.state.store import (
    ClusterStore,
    CommitObserver,
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
    "ClusterStore",
    "CommitObserver",
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
    "RedisState",
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
