"""bridge.pipeline: what happens to a message between the SMPP server and the iSMS client.

`MessagePipeline` (pipeline.py) answers every request a bound session hands up: submit_sm,
data_sm and submit_multi take one way (a submit_sm is a message with one destination),
query_sm reads what became of a message, cancel_sm and replace_sm are refused (iSMS can do
neither). The way, in the order a message takes it, one subpackage per step:

    checks/         the checks before anything is taken: UDH/SAR, data_coding, destinations,
                    and the text once the message is whole
    long_messages/  the parts of a long message in, one whole message out (reassembly,
                    the completing part kept for the ESME's retry)
    policy/         the account's policy before a credit is spent: number lists (with the
                    checks), RM0, the credit estimate, caps, duplicate suppression
    sending/        the iSMS requests (one per batch of destinations), the intent committed
                    before they leave, the account's slots they wait for
    outcome/        the answer from the iSMS results, and each message_id's fate: its record
                    for query_sm, the receipts it owes, what a crash left

Beside them: seams.py (the Protocols the server satisfies without being imported),
settings.py (what `bridge.app` tells the pipeline), upkeep.py (its clock and what it reports
for metrics), refusal_log.py (destination refusals, summed per interval).

Exported here: what other packages use (the pipeline, its settings, the message records
`isms-bridge messages` reads, and the text and status rules `bridge.config` and `send`
share).
"""

from bridge.pipeline.checks.encoding import (
    DefaultAlphabet,
    Ia5Alphabet,
    UndecodableText,
    decode_text,
)
from bridge.pipeline.checks.numbers import DEFAULT_COUNTRY_CODE, NumberRules
from bridge.pipeline.outcome.message_store import MessageStore
from bridge.pipeline.outcome.receipts import MessageState
from bridge.pipeline.outcome.records import (
    MESSAGE_KIND,
    RECEIPT_KIND,
    MessageRecord,
    decode_record,
    record_key,
)
from bridge.pipeline.outcome.refusals import REFUSAL_KIND, RefusedSubmit, decode_refusal
from bridge.pipeline.outcome.statuses import (
    UNKNOWN_OUTCOME_STATUSES,
    StatusMapping,
    unicode_retry,
)
from bridge.pipeline.pipeline import MessagePipeline
from bridge.pipeline.policy.lists import parse_opt_out
from bridge.pipeline.policy.settings import (
    AccountPolicy,
    Caps,
    CreditRules,
    DuplicateRules,
    NumberLists,
    Rm0Mode,
)
from bridge.pipeline.settings import (
    AccountRoute,
    PipelineSettings,
    ReassemblyLimits,
    ReceiptSettings,
)

__all__: list[str] = [
    # the pipeline and what it is told
    "MessagePipeline",
    "AccountRoute",
    "PipelineSettings",
    "ReassemblyLimits",
    "ReceiptSettings",
    # account policy (policy/): number lists, RM0, caps, duplicates, credits
    "AccountPolicy",
    "Caps",
    "CreditRules",
    "DuplicateRules",
    "NumberLists",
    "Rm0Mode",
    "parse_opt_out",
    # destinations and text (config, send)
    "DEFAULT_COUNTRY_CODE",
    "NumberRules",
    "DefaultAlphabet",
    "Ia5Alphabet",
    "UndecodableText",
    "decode_text",
    # statuses (config)
    "UNKNOWN_OUTCOME_STATUSES",
    "StatusMapping",
    "unicode_retry",
    # message records (isms-bridge messages)
    "MESSAGE_KIND",
    "RECEIPT_KIND",
    "MessageRecord",
    "MessageState",
    "MessageStore",
    "decode_record",
    "record_key",
    # refused submits (isms-bridge messages)
    "REFUSAL_KIND",
    "RefusedSubmit",
    "decode_refusal",
]
