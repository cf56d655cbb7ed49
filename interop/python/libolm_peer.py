#!/usr/bin/env python3
"""Interop peer over libolm (the C reference implementation) through python-olm.

Speaks the JSON-lines protocol of docs/interop-protocol.md on stdin/stdout.
Native pickle format: ``libolm``. python-olm only takes text passphrases, while
the protocol passes arbitrary key bytes, so pickling calls libolm's
``olm_pickle_*`` / ``olm_unpickle_*`` functions directly with the raw key.

Behaviour aligned with the other peers: ``session.create_inbound`` decrypts the
pre-key message and, only once that succeeded, removes the one-time key it used
from the account (vodozemac does both in one step).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import olm  # noqa: E402
from _libolm import ffi, lib  # noqa: E402  (python-olm's cffi module)

from peer_common import Peer, PeerError, configure_stdio, describe  # noqa: E402

PRE_KEY = 0

try:
    from importlib.metadata import version as _dist_version

    VERSION = "python-olm " + _dist_version("python-olm")
except Exception:  # noqa: BLE001 - only informational
    VERSION = "unknown"

# libolm error codes (python-olm raises them as the exception text, group
# session errors with an "OLM_" prefix) and the protocol kind of each.
ERROR_KINDS = {
    "BAD_MESSAGE_MAC": "crypto",
    "BAD_SIGNATURE": "crypto",
    "BAD_ACCOUNT_KEY": "crypto",
    "UNKNOWN_MESSAGE_INDEX": "unknown_index",
    "BAD_MESSAGE_VERSION": "decode",
    "BAD_MESSAGE_FORMAT": "decode",
    "INVALID_BASE64": "decode",
    "BAD_SESSION_KEY": "decode",
    "CORRUPTED_PICKLE": "decode",
    "UNKNOWN_PICKLE_VERSION": "decode",
    "BAD_LEGACY_ACCOUNT_PICKLE": "decode",
    "PICKLE_EXTRA_DATA": "decode",
    "INPUT_BUFFER_TOO_SMALL": "decode",
    "BAD_MESSAGE_KEY_ID": "missing_message_key",
}

LIBOLM_ERRORS = (
    olm.OlmAccountError,
    olm.OlmSessionError,
    olm.OlmGroupSessionError,
    olm.OlmVerifyError,
    olm.PkDecryptionError,
    olm.PkEncryptionError,
)


def error_code(exc):
    code = str(exc).strip()
    return code[4:] if code.startswith("OLM_") else code


def classify(exc):
    if isinstance(exc, LIBOLM_ERRORS):
        return ERROR_KINDS.get(error_code(exc), "internal"), describe(exc)
    if isinstance(exc, (ValueError, TypeError)):
        return "decode", describe(exc)
    return "internal", describe(exc)


peer = Peer("libolm", VERSION, "libolm", classify)
handles = peer.handles


def key_map(keys):
    return dict(keys.get("curve25519", {}))


def olm_message(req, name="message"):
    msg_type, body = req.message(name)
    if not body:
        raise PeerError("decode", "%s.body is empty" % name)
    if msg_type == PRE_KEY:
        return olm.OlmPreKeyMessage(body)
    return olm.OlmMessage(body)


def pre_key_message(req, name="message"):
    message = olm_message(req, name)
    if not isinstance(message, olm.OlmPreKeyMessage):
        raise PeerError("bad_request", "%s must be a pre-key message (type 0)" % name)
    return message


def message_json(message):
    return {"type": message.message_type, "body": message.ciphertext}


# --- account ---------------------------------------------------------------


@peer.op("account.create")
def account_create(req):
    account = olm.Account()
    return {"account": handles.add("account", account), "identity_keys": account.identity_keys}


@peer.op("account.identity_keys")
def account_identity_keys(req):
    return {"identity_keys": handles.get(req.str("account"), "account").identity_keys}


@peer.op("account.generate_one_time_keys")
def account_generate_one_time_keys(req):
    account = handles.get(req.str("account"), "account")
    account.generate_one_time_keys(req.count("count"))
    return {"one_time_keys": key_map(account.one_time_keys)}


@peer.op("account.one_time_keys")
def account_one_time_keys(req):
    return {"one_time_keys": key_map(handles.get(req.str("account"), "account").one_time_keys)}


@peer.op("account.max_one_time_keys")
def account_max_one_time_keys(req):
    return {"max_one_time_keys": handles.get(req.str("account"), "account").max_one_time_keys}


@peer.op("account.generate_fallback_key")
def account_generate_fallback_key(req):
    account = handles.get(req.str("account"), "account")
    account.generate_fallback_key()
    return {"fallback_key": key_map(account.fallback_key)}


@peer.op("account.fallback_key")
def account_fallback_key(req):
    return {"fallback_key": key_map(handles.get(req.str("account"), "account").fallback_key)}


@peer.op("account.mark_published")
def account_mark_published(req):
    handles.get(req.str("account"), "account").mark_keys_as_published()
    return {}


@peer.op("account.sign")
def account_sign(req):
    account = handles.get(req.str("account"), "account")
    return {"signature": account.sign(req.str("message"))}


# --- Olm session -----------------------------------------------------------


@peer.op("session.create_outbound")
def session_create_outbound(req):
    account = handles.get(req.str("account"), "account")
    session = olm.OutboundSession(account, req.str("identity_key"), req.str("one_time_key"))
    return {"session": handles.add("session", session), "session_id": session.id}


@peer.op("session.create_inbound")
def session_create_inbound(req):
    account = handles.get(req.str("account"), "account")
    sender = req.str("sender_identity_key")
    message = pre_key_message(req)
    try:
        session = olm.InboundSession(account, message, sender)
    except olm.OlmSessionError as e:
        if error_code(e) != "BAD_MESSAGE_KEY_ID":
            raise
        # libolm reports a foreign identity key and an unknown one-time key alike; creating the
        # session without the identity check (no side effects) tells them apart.
        try:
            olm.InboundSession(account, message)
        except olm.OlmSessionError:
            raise PeerError(
                "missing_one_time_key", "the pre-key message names a one-time key we do not have"
            )
        raise PeerError(
            "crypto", "the pre-key message was sent from another identity key than expected"
        )
    plaintext = session.decrypt(message)
    try:
        account.remove_one_time_keys(session)
    except olm.OlmAccountError:
        # A session made from the fallback key has no one-time key to remove.
        pass
    return {"session": handles.add("session", session), "session_id": session.id, "plaintext": plaintext}


@peer.op("session.encrypt")
def session_encrypt(req):
    session = handles.get(req.str("session"), "session")
    return {"message": message_json(session.encrypt(req.str("plaintext")))}


@peer.op("session.decrypt")
def session_decrypt(req):
    session = handles.get(req.str("session"), "session")
    return {"plaintext": session.decrypt(olm_message(req))}


@peer.op("session.id")
def session_id(req):
    return {"session_id": handles.get(req.str("session"), "session").id}


@peer.op("session.matches_inbound")
def session_matches_inbound(req):
    session = handles.get(req.str("session"), "session")
    return {"matches": bool(session.matches(pre_key_message(req)))}


# --- Megolm ----------------------------------------------------------------


@peer.op("group.create_outbound")
def group_create_outbound(req):
    group = olm.OutboundGroupSession()
    return {
        "group": handles.add("group_outbound", group),
        "session_id": group.id,
        "session_key": group.session_key,
        "message_index": group.message_index,
    }


@peer.op("group.encrypt")
def group_encrypt(req):
    group = handles.get(req.str("group"), "group_outbound")
    return {"ciphertext": group.encrypt(req.str("plaintext"))}


@peer.op("group.session_key")
def group_session_key(req):
    group = handles.get(req.str("group"), "group_outbound")
    return {"session_key": group.session_key, "message_index": group.message_index}


@peer.op("group.message_index")
def group_message_index(req):
    return {"message_index": handles.get(req.str("group"), "group_outbound").message_index}


def inbound_reply(group):
    return {
        "group": handles.add("group_inbound", group),
        "session_id": group.id,
        "first_known_index": group.first_known_index,
    }


@peer.op("group.create_inbound")
def group_create_inbound(req):
    return inbound_reply(olm.InboundGroupSession(req.str("session_key")))


@peer.op("group.import_exported")
def group_import_exported(req):
    return inbound_reply(olm.InboundGroupSession.import_session(req.str("exported_key")))


@peer.op("group.first_known_index")
def group_first_known_index(req):
    group = handles.get(req.str("group"), "group_inbound")
    return {"first_known_index": group.first_known_index}


@peer.op("group.session_id")
def group_session_id(req):
    return {"session_id": handles.get(req.str("group"), "group_outbound", "group_inbound").id}


@peer.op("group.decrypt")
def group_decrypt(req):
    group = handles.get(req.str("group"), "group_inbound")
    ciphertext = req.str("ciphertext")
    if not ciphertext:
        raise PeerError("decode", "ciphertext is empty")
    plaintext, index = group.decrypt(ciphertext)
    return {"plaintext": plaintext, "message_index": index}


@peer.op("group.export")
def group_export(req):
    group = handles.get(req.str("group"), "group_inbound")
    return {"exported_key": group.export_session(req.int("index"))}


# --- Key backup (m.megolm_backup.v1.curve25519-aes-sha2 = libolm's PkEncryption) -------------


@peer.op("backup.create_decryption")
def backup_create_decryption(req):
    decryption = olm.PkDecryption()
    return {
        "decryption": handles.add("backup_decryption", decryption),
        "public_key": decryption.public_key,
    }


@peer.op("backup.encrypt")
def backup_encrypt(req):
    message = olm.PkEncryption(req.str("public_key")).encrypt(req.str("plaintext"))
    return {
        "ephemeral": message.ephemeral_key,
        "ciphertext": message.ciphertext,
        "mac": message.mac,
    }


@peer.op("backup.decrypt")
def backup_decrypt(req):
    decryption = handles.get(req.str("decryption"), "backup_decryption")
    message = olm.PkMessage(req.str("ephemeral"), req.str("mac"), req.str("ciphertext"))
    return {"plaintext": decryption.decrypt(message)}


@peer.op("util.verify_ed25519")
def util_verify_ed25519(req):
    key = req.str("key")
    message = req.str("message")
    signature = req.str("signature")
    try:
        olm.ed25519_verify(key, message, signature)
    except olm.OlmVerifyError as e:
        if error_code(e) == "BAD_MESSAGE_MAC":
            return {"valid": False}
        raise
    return {"valid": True}


# --- pickles ---------------------------------------------------------------
# kind -> (python-olm class, attribute holding the C object, pickle length fn,
#          pickle fn, unpickle fn)
PICKLERS = {
    "account": (
        olm.Account,
        "_account",
        lib.olm_pickle_account_length,
        lib.olm_pickle_account,
        lib.olm_unpickle_account,
    ),
    "session": (
        olm.Session,
        "_session",
        lib.olm_pickle_session_length,
        lib.olm_pickle_session,
        lib.olm_unpickle_session,
    ),
    "group_outbound": (
        olm.OutboundGroupSession,
        "_session",
        lib.olm_pickle_outbound_group_session_length,
        lib.olm_pickle_outbound_group_session,
        lib.olm_unpickle_outbound_group_session,
    ),
    "group_inbound": (
        olm.InboundGroupSession,
        "_session",
        lib.olm_pickle_inbound_group_session_length,
        lib.olm_pickle_inbound_group_session,
        lib.olm_unpickle_inbound_group_session,
    ),
}


def _wipe(buffer):
    for i in range(len(buffer)):
        buffer[i] = 0


@peer.op("pickle")
def pickle(req):
    handle = req.str("handle")
    kind = handles.kind(handle)
    obj = handles.get(handle)
    cls, attr, length_fn, pickle_fn, _ = PICKLERS[kind]
    key = bytearray(req.key())
    native = getattr(obj, attr)
    length = length_fn(native)
    out = ffi.new("char[]", length)
    try:
        obj._check_error(pickle_fn(native, ffi.from_buffer(key), len(key), out, length))
    finally:
        _wipe(key)
    return {"pickle": ffi.unpack(out, length).decode("ascii"), "format": "libolm"}


@peer.op("unpickle")
def unpickle(req):
    kind = req.str("kind")
    fmt = req.str("format")
    if kind not in PICKLERS:
        raise PeerError("bad_request", "unknown pickle kind %r" % (kind,))
    if fmt in ("mxe2ee", "vodozemac"):
        raise PeerError("unsupported", "libolm reads only its own pickle format")
    if fmt != "libolm":
        raise PeerError("bad_request", "unknown pickle format %r" % (fmt,))
    pickle_text = req.str("pickle").encode("ascii", errors="replace")
    if not pickle_text:
        raise PeerError("decode", "pickle is empty")
    key = bytearray(req.key())
    cls, attr, _, _, unpickle_fn = PICKLERS[kind]
    obj = cls.__new__(cls)
    # libolm decodes the pickle in place, so hand it a copy.
    buffer = ffi.new("char[]", pickle_text)
    try:
        obj._check_error(
            unpickle_fn(getattr(obj, attr), ffi.from_buffer(key), len(key), buffer, len(pickle_text))
        )
    finally:
        _wipe(key)
    return {"handle": handles.add(kind, obj)}


if __name__ == "__main__":
    configure_stdio()
    peer.serve()
