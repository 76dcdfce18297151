"""bridge.pipeline"""

from bridge.pipeline.counters import PipelineCounters
from bridge.pipeline.encoding import (
    ISMS_TYPE_ASCII,
    ISMS_TYPE_UNICODE,
    DefaultAlphabet,
    Ia5Alphabet,
    RefusalKind,
    UndecodableText,
    decode_text,
    isms_type,
)
from bridge.pipeline.gsm7 import decode_gsm7, encode_gsm7, is_gsm7_encodable
from bridge.pipeline.message_ids import MESSAGE_ID_LENGTH, MessageIdGenerator
from bridge.pipeline.message_store import MessageStore, StoredMessage, absolute_time
from bridge.pipeline.numbers import (
    DEFAULT_COUNTRY_CODE,
    InvalidNumber,
    Npi,
    NumberRules,
    Ton,
    isms_number,
)
from bridge.pipeline.pipeline import MessagePipeline
from bridge.pipeline.priority import PrioritySlots
from bridge.pipeline.reassembly import (
    AddResult,
    AnsweredPart,
    Complete,
    Expired,
    MessageOrigin,
    Pending,
    Reassembly,
    ReassemblyLimits,
    Rejected,
)
from bridge.pipeline.receipt_outbox import ReceiptOutbox
from bridge.pipeline.receipts import (
    ERR_NONE,
    ERR_REASSEMBLY_TIMEOUT,
    ERR_REFUSED_BY_BRIDGE,
    ERR_UNKNOWN,
    ESM_CLASS_DELIVERY_RECEIPT,
    DeliveryReceipt,
    MessageState,
    receipt_deliver_sm,
    receipt_error_code,
    receipt_text,
    receipt_wanted,
    success_state,
)
from bridge.pipeline.records import (
    MESSAGE_KIND,
    RECEIPT_KIND,
    MessageRecord,
    decode_record,
    encode_record,
    record_key,
)
from bridge.pipeline.seams import PipelineRequest, ReceiverRegistry, SessionInfo
from bridge.pipeline.sender_ids import (
    MAX_SENDER_ID,
    choose_sender_id,
    is_valid_sender_id,
    sender_id_replaced_in_malaysia,
)
from bridge.pipeline.settings import (
    DEFAULT_MAX_TEXT_LENGTH,
    URGENT_PRIORITY,
    AccountRoute,
    PipelineSettings,
    ReceiptSettings,
)
from bridge.pipeline.statuses import (
    DEFAULT_STATUSES,
    NOT_SENT_STATUS,
    UNKNOWN_OUTCOME_STATUSES,
    UNLISTED_CODE_STATUS,
    StatusMapping,
    SubmitStatus,
    unicode_retry,
)
from bridge.pipeline.udh import (
    UDHI,
    ConcatenatedPart,
    Concatenation,
    IncompleteSar,
    InformationElement,
    InvalidSar,
    MalformedUdh,
    MessagePdu,
    PayloadConflict,
    UserDataError,
    UserDataHeader,
    concatenation_of,
    parse_udh,
    payload_of,
)
from bridge.pipeline.upkeep import Recovered, StoreSizes

__all__: list[str] = [
    # encoding
    "ISMS_TYPE_ASCII",
    "ISMS_TYPE_UNICODE",
    "DefaultAlphabet",
    "Ia5Alphabet",
    "RefusalKind",
    "UndecodableText",
    "decode_text",
    "isms_type",
    # gsm7
    "decode_gsm7",
    "encode_gsm7",
    "is_gsm7_encodable",
    # message_ids
    "MESSAGE_ID_LENGTH",
    "MessageIdGenerator",
    # message_store
    "MessageStore",
    "StoredMessage",
    "absolute_time",
    # reassembly
    "AddResult",
    "AnsweredPart",
    "Complete",
    "Expired",
    "MessageOrigin",
    "Pending",
    "Reassembly",
    "ReassemblyLimits",
    "Rejected",
    # receipts
    "ERR_NONE",
    "ERR_REASSEMBLY_TIMEOUT",
    "ERR_REFUSED_BY_BRIDGE",
    "ERR_UNKNOWN",
    "ESM_CLASS_DELIVERY_RECEIPT",
    "DeliveryReceipt",
    "MessageState",
    "receipt_deliver_sm",
    "receipt_error_code",
    "receipt_text",
    "receipt_wanted",
    "success_state",
    # udh
    "UDHI",
    "ConcatenatedPart",
    "Concatenation",
    "IncompleteSar",
    "InformationElement",
    "InvalidSar",
    "MalformedUdh",
    "MessagePdu",
    "PayloadConflict",
    "UserDataError",
    "UserDataHeader",
    "concatenation_of",
    "parse_udh",
    "payload_of",
    # numbers
    "DEFAULT_COUNTRY_CODE",
    "InvalidNumber",
    "Npi",
    "NumberRules",
    "Ton",
    "isms_number",
    # sender_ids
    "MAX_SENDER_ID",
    "choose_sender_id",
    "is_valid_sender_id",
    "sender_id_replaced_in_malaysia",
    # statuses
    "DEFAULT_STATUSES",
    "NOT_SENT_STATUS",
    "UNKNOWN_OUTCOME_STATUSES",
    "UNLISTED_CODE_STATUS",
    "StatusMapping",
    "SubmitStatus",
    "unicode_retry",
    # the orchestrating pipeline
    "DEFAULT_MAX_TEXT_LENGTH",
    "URGENT_PRIORITY",
    "AccountRoute",
    "MessagePipeline",
    "Recovered",
    "StoreSizes",
    # records
    "MESSAGE_KIND",
    "RECEIPT_KIND",
    "MessageRecord",
    "decode_record",
    "encode_record",
    "record_key",
    "PipelineCounters",
    "PipelineRequest",
    "PipelineSettings",
    "PrioritySlots",
    "ReceiptOutbox",
    "ReceiptSettings",
    "ReceiverRegistry",
    "SessionInfo",
]
