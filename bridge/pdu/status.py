"""Every SMPP 3.4 command_status value (SMPP 3.4 §5.1.3, Table 5-2).

`command_status` on a decoded PDU stays a plain `int`: peers send values that 3.4 does not
define (0x22, 0x1D and vendor codes in 0x0400-0x04FF are seen live), and those must survive
a round trip. `CommandStatus` names the defined ones; `status_name()` gives a label for any,
and `status_description()` says what it means in words (Table 5-2's description column).
"""

from enum import IntEnum


class CommandStatus(IntEnum):
    ESME_ROK = 0x00000000
    ESME_RINVMSGLEN = 0x00000001
    ESME_RINVCMDLEN = 0x00000002
    ESME_RINVCMDID = 0x00000003
    ESME_RINVBNDSTS = 0x00000004
    ESME_RALYBND = 0x00000005
    ESME_RINVPRTFLG = 0x00000006
    ESME_RINVREGDLVFLG = 0x00000007
    ESME_RSYSERR = 0x00000008
    ESME_RINVSRCADR = 0x0000000A
    ESME_RINVDSTADR = 0x0000000B
    ESME_RINVMSGID = 0x0000000C
    ESME_RBINDFAIL = 0x0000000D
    ESME_RINVPASWD = 0x0000000E
    ESME_RINVSYSID = 0x0000000F
    ESME_RCANCELFAIL = 0x00000011
    ESME_RREPLACEFAIL = 0x00000013
    ESME_RMSGQFUL = 0x00000014
    ESME_RINVSERTYP = 0x00000015
    ESME_RINVNUMDESTS = 0x00000033
    ESME_RINVDLNAME = 0x00000034
    ESME_RINVDESTFLAG = 0x00000040
    ESME_RINVSUBREP = 0x00000042
    ESME_RINVESMCLASS = 0x00000043
    ESME_RCNTSUBDL = 0x00000044
    ESME_RSUBMITFAIL = 0x00000045
    ESME_RINVSRCTON = 0x00000048
    ESME_RINVSRCNPI = 0x00000049
    ESME_RINVDSTTON = 0x00000050
    ESME_RINVDSTNPI = 0x00000051
    ESME_RINVSYSTYP = 0x00000053
    ESME_RINVREPFLAG = 0x00000054
    ESME_RINVNUMMSGS = 0x00000055
    ESME_RTHROTTLED = 0x00000058
    ESME_RINVSCHED = 0x00000061
    ESME_RINVEXPIRY = 0x00000062
    ESME_RINVDFTMSGID = 0x00000063
    ESME_RX_T_APPN = 0x00000064
    ESME_RX_P_APPN = 0x00000065
    ESME_RX_R_APPN = 0x00000066
    ESME_RQUERYFAIL = 0x00000067
    ESME_RINVOPTPARSTREAM = 0x000000C0
    ESME_ROPTPARNOTALLWD = 0x000000C1
    ESME_RINVPARLEN = 0x000000C2
    ESME_RMISSINGOPTPARAM = 0x000000C3
    ESME_RINVOPTPARAMVAL = 0x000000C4
    ESME_RDELIVERYFAILURE = 0x000000FE
    ESME_RUNKNOWNERR = 0x000000FF


ESME_ROK = CommandStatus.ESME_ROK
ESME_RINVMSGLEN = CommandStatus.ESME_RINVMSGLEN
ESME_RINVCMDLEN = CommandStatus.ESME_RINVCMDLEN
ESME_RINVCMDID = CommandStatus.ESME_RINVCMDID
ESME_RINVBNDSTS = CommandStatus.ESME_RINVBNDSTS
ESME_RALYBND = CommandStatus.ESME_RALYBND
ESME_RINVPRTFLG = CommandStatus.ESME_RINVPRTFLG
ESME_RINVREGDLVFLG = CommandStatus.ESME_RINVREGDLVFLG
ESME_RSYSERR = CommandStatus.ESME_RSYSERR
ESME_RINVSRCADR = CommandStatus.ESME_RINVSRCADR
ESME_RINVDSTADR = CommandStatus.ESME_RINVDSTADR
ESME_RINVMSGID = CommandStatus.ESME_RINVMSGID
ESME_RBINDFAIL = CommandStatus.ESME_RBINDFAIL
ESME_RINVPASWD = CommandStatus.ESME_RINVPASWD
ESME_RINVSYSID = CommandStatus.ESME_RINVSYSID
ESME_RCANCELFAIL = CommandStatus.ESME_RCANCELFAIL
ESME_RREPLACEFAIL = CommandStatus.ESME_RREPLACEFAIL
ESME_RMSGQFUL = CommandStatus.ESME_RMSGQFUL
ESME_RINVSERTYP = CommandStatus.ESME_RINVSERTYP
ESME_RINVNUMDESTS = CommandStatus.ESME_RINVNUMDESTS
ESME_RINVDLNAME = CommandStatus.ESME_RINVDLNAME
ESME_RINVDESTFLAG = CommandStatus.ESME_RINVDESTFLAG
ESME_RINVSUBREP = CommandStatus.ESME_RINVSUBREP
ESME_RINVESMCLASS = CommandStatus.ESME_RINVESMCLASS
ESME_RCNTSUBDL = CommandStatus.ESME_RCNTSUBDL
ESME_RSUBMITFAIL = CommandStatus.ESME_RSUBMITFAIL
ESME_RINVSRCTON = CommandStatus.ESME_RINVSRCTON
ESME_RINVSRCNPI = CommandStatus.ESME_RINVSRCNPI
ESME_RINVDSTTON = CommandStatus.ESME_RINVDSTTON
ESME_RINVDSTNPI = CommandStatus.ESME_RINVDSTNPI
ESME_RINVSYSTYP = CommandStatus.ESME_RINVSYSTYP
ESME_RINVREPFLAG = CommandStatus.ESME_RINVREPFLAG
ESME_RINVNUMMSGS = CommandStatus.ESME_RINVNUMMSGS
ESME_RTHROTTLED = CommandStatus.ESME_RTHROTTLED
ESME_RINVSCHED = CommandStatus.ESME_RINVSCHED
ESME_RINVEXPIRY = CommandStatus.ESME_RINVEXPIRY
ESME_RINVDFTMSGID = CommandStatus.ESME_RINVDFTMSGID
ESME_RX_T_APPN = CommandStatus.ESME_RX_T_APPN
ESME_RX_P_APPN = CommandStatus.ESME_RX_P_APPN
ESME_RX_R_APPN = CommandStatus.ESME_RX_R_APPN
ESME_RQUERYFAIL = CommandStatus.ESME_RQUERYFAIL
ESME_RINVOPTPARSTREAM = CommandStatus.ESME_RINVOPTPARSTREAM
ESME_ROPTPARNOTALLWD = CommandStatus.ESME_ROPTPARNOTALLWD
ESME_RINVPARLEN = CommandStatus.ESME_RINVPARLEN
ESME_RMISSINGOPTPARAM = CommandStatus.ESME_RMISSINGOPTPARAM
ESME_RINVOPTPARAMVAL = CommandStatus.ESME_RINVOPTPARAMVAL
ESME_RDELIVERYFAILURE = CommandStatus.ESME_RDELIVERYFAILURE
ESME_RUNKNOWNERR = CommandStatus.ESME_RUNKNOWNERR


# Looked up once per answer and per metric: a dict read, not an enum call and its lookup.
_NAMES: dict[int, str] = {int(status): status.name for status in CommandStatus}


def status_name(command_status: int) -> str:
    """A bounded, human label for any status: its 3.4 name, or a vendor/undefined tag."""
    name = _NAMES.get(command_status)
    if name is not None:
        return name
    if 0x400 <= command_status <= 0x4FF:
        return "VENDOR_SPECIFIC"
    return "UNDEFINED"


# SMPP 3.4 §5.1.3, Table 5-2: what each status means, in words (for people reading a client's
# output or a log, beside the name).
_DESCRIPTIONS: dict[int, str] = {
    ESME_ROK: "no error",
    ESME_RINVMSGLEN: "message length is invalid",
    ESME_RINVCMDLEN: "command length is invalid",
    ESME_RINVCMDID: "invalid command ID",
    ESME_RINVBNDSTS: "incorrect bind status for given command",
    ESME_RALYBND: "ESME already in bound state",
    ESME_RINVPRTFLG: "invalid priority flag",
    ESME_RINVREGDLVFLG: "invalid registered delivery flag",
    ESME_RSYSERR: "system error",
    ESME_RINVSRCADR: "invalid source address",
    ESME_RINVDSTADR: "invalid destination address",
    ESME_RINVMSGID: "message ID is invalid",
    ESME_RBINDFAIL: "bind failed",
    ESME_RINVPASWD: "invalid password",
    ESME_RINVSYSID: "invalid system ID",
    ESME_RCANCELFAIL: "cancel_sm failed",
    ESME_RREPLACEFAIL: "replace_sm failed",
    ESME_RMSGQFUL: "message queue full",
    ESME_RINVSERTYP: "invalid service type",
    ESME_RINVNUMDESTS: "invalid number of destinations",
    ESME_RINVDLNAME: "invalid distribution list name",
    ESME_RINVDESTFLAG: "destination flag is invalid",
    ESME_RINVSUBREP: "invalid submit with replace request",
    ESME_RINVESMCLASS: "invalid esm_class field data",
    ESME_RCNTSUBDL: "cannot submit to distribution list",
    ESME_RSUBMITFAIL: "submit_sm or submit_multi failed",
    ESME_RINVSRCTON: "invalid source address TON",
    ESME_RINVSRCNPI: "invalid source address NPI",
    ESME_RINVDSTTON: "invalid destination address TON",
    ESME_RINVDSTNPI: "invalid destination address NPI",
    ESME_RINVSYSTYP: "invalid system_type field",
    ESME_RINVREPFLAG: "invalid replace_if_present flag",
    ESME_RINVNUMMSGS: "invalid number of messages",
    ESME_RTHROTTLED: "throttling error: the ESME exceeded its allowed message rate",
    ESME_RINVSCHED: "invalid scheduled delivery time",
    ESME_RINVEXPIRY: "invalid message validity period",
    ESME_RINVDFTMSGID: "predefined message invalid or not found",
    ESME_RX_T_APPN: "ESME receiver temporary application error",
    ESME_RX_P_APPN: "ESME receiver permanent application error",
    ESME_RX_R_APPN: "ESME receiver reject message error",
    ESME_RQUERYFAIL: "query_sm request failed",
    ESME_RINVOPTPARSTREAM: "error in the optional part of the PDU body",
    ESME_ROPTPARNOTALLWD: "optional parameter not allowed",
    ESME_RINVPARLEN: "invalid parameter length",
    ESME_RMISSINGOPTPARAM: "expected optional parameter missing",
    ESME_RINVOPTPARAMVAL: "invalid optional parameter value",
    ESME_RDELIVERYFAILURE: "delivery failure",
    ESME_RUNKNOWNERR: "unknown error",
}


def status_description(command_status: int) -> str:
    """What any status means, in words: the 3.4 description, or what its range is for."""
    description = _DESCRIPTIONS.get(command_status)
    if description is not None:
        return description
    if 0x400 <= command_status <= 0x4FF:
        return "SMSC vendor-specific error"
    return "not defined by SMPP 3.4"
