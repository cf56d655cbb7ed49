#!/usr/bin/env python3
"""Interop peer over vodozemac's Python bindings (Element's Rust Olm/Megolm).

Speaks the JSON-lines protocol of docs/interop-protocol.md on stdin/stdout.
Native pickle format: ``vodozemac`` (vodozemac's own encrypted pickles, which
need a 32-byte key). Imports ``libolm`` pickles for account, session and
inbound group session (the bindings offer no libolm import for outbound group
sessions, so that one answers ``unsupported``).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vodozemac as vz  # noqa: E402

from peer_common import (  # noqa: E402
    Peer,
    PeerError,
    b64decode,
    b64encode,
    configure_stdio,
    describe,
)

PRE_KEY = 0

try:
    from importlib.metadata import version as _dist_version

    VERSION = _dist_version("vodozemac")
except Exception:  # noqa: BLE001 - only informational
    VERSION = "unknown"


def classify(exc):
    """Maps a vodozemac exception to a protocol error kind by its type and text."""
    text = str(exc)
    lowered = text.lower()
    message = describe(exc)
    if isinstance(exc, vz.MegolmDecryptionException):
        if "unknown message index" in lowered:
            return "unknown_index", message
        if "signature" in lowered or "mac" in lowered or "padding" in lowered:
            return "crypto", message
        return "decode", message
    if isinstance(exc, vz.OlmDecryptionException):
        if "can't be created" in lowered:
            return "missing_message_key", message
        if "gap" in lowered:
            return "too_big_gap", message
        if "mac" in lowered or "padding" in lowered:
            return "crypto", message
        return "decode", message
    if isinstance(exc, vz.SessionCreationException):
        if "one-time key" in lowered or "one time key" in lowered:
            return "missing_one_time_key", message
        if "identity key doesn't match" in lowered:
            return "crypto", message
        if "mac" in lowered or "padding" in lowered or "decrypt" in lowered:
            return "crypto", message
        return "decode", message
    if isinstance(exc, vz.SignatureException):
        return "crypto", message
    if isinstance(exc, vz.PkDecodeException):
        if "mac" in lowered or "padding" in lowered or "decrypt" in lowered:
            return "crypto", message
        return "decode", message
    if isinstance(exc, vz.SessionKeyDecodeException) and "signature" in lowered:
        return "crypto", message
    if isinstance(exc, (vz.PickleException, vz.LibolmPickleException)):
        if "size" in lowered and "key" in lowered:
            return "bad_request", message
        if "decrypt" in lowered or "mac" in lowered:
            return "crypto", message
        return "decode", message
    if isinstance(
        exc, (vz.DecodeException, vz.KeyException, vz.SessionKeyDecodeException, ValueError)
    ):
        return "decode", message
    return "internal", message


peer = Peer("vodozemac", VERSION, "vodozemac", classify)
handles = peer.handles


def identity_keys(account):
    return {
        "curve25519": account.curve25519_key.to_base64(),
        "ed25519": account.ed25519_key.to_base64(),
    }


def key_map(keys):
    return {key_id: key.to_base64() for key_id, key in keys.items()}


def curve_key(req, name):
    return vz.Curve25519PublicKey.from_base64(req.str(name))


def olm_message(req, name="message"):
    msg_type, body = req.message(name)
    return msg_type, vz.AnyOlmMessage.from_parts(msg_type, b64decode(body, name + ".body"))


def pre_key_message(req, name="message"):
    msg_type, message = olm_message(req, name)
    if msg_type != PRE_KEY:
        raise PeerError("bad_request", "%s must be a pre-key message (type 0)" % name)
    pre_key = message.to_pre_key()
    if pre_key is None:
        raise PeerError("decode", "%s is not a pre-key message" % name)
    return pre_key


def message_json(message):
    msg_type, body = message.to_parts()
    return {"type": msg_type, "body": b64encode(body)}


def text(data):
    return data.decode("utf-8", errors="replace")


# --- account ---------------------------------------------------------------


@peer.op("account.create")
def account_create(req):
    account = vz.Account()
    return {"account": handles.add("account", account), "identity_keys": identity_keys(account)}


@peer.op("account.identity_keys")
def account_identity_keys(req):
    return {"identity_keys": identity_keys(handles.get(req.str("account"), "account"))}


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
    account = handles.get(req.str("account"), "account")
    return {"max_one_time_keys": account.max_number_of_one_time_keys}


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
    return {"signature": account.sign(req.str("message").encode("utf-8")).to_base64()}


# --- Olm session -----------------------------------------------------------


@peer.op("session.create_outbound")
def session_create_outbound(req):
    account = handles.get(req.str("account"), "account")
    session = account.create_outbound_session(
        curve_key(req, "identity_key"), curve_key(req, "one_time_key")
    )
    return {"session": handles.add("session", session), "session_id": session.session_id}


@peer.op("session.create_inbound")
def session_create_inbound(req):
    account = handles.get(req.str("account"), "account")
    sender = curve_key(req, "sender_identity_key")
    session, plaintext = account.create_inbound_session(sender, pre_key_message(req))
    return {
        "session": handles.add("session", session),
        "session_id": session.session_id,
        "plaintext": text(plaintext),
    }


@peer.op("session.encrypt")
def session_encrypt(req):
    session = handles.get(req.str("session"), "session")
    return {"message": message_json(session.encrypt(req.str("plaintext").encode("utf-8")))}


@peer.op("session.decrypt")
def session_decrypt(req):
    session = handles.get(req.str("session"), "session")
    _, message = olm_message(req)
    return {"plaintext": text(session.decrypt(message))}


@peer.op("session.id")
def session_id(req):
    return {"session_id": handles.get(req.str("session"), "session").session_id}


@peer.op("session.matches_inbound")
def session_matches_inbound(req):
    session = handles.get(req.str("session"), "session")
    return {"matches": bool(session.session_matches(pre_key_message(req)))}


# --- Megolm ----------------------------------------------------------------


@peer.op("group.create_outbound")
def group_create_outbound(req):
    group = vz.GroupSession()
    return {
        "group": handles.add("group_outbound", group),
        "session_id": group.session_id,
        "session_key": group.session_key.to_base64(),
        "message_index": group.message_index,
    }


@peer.op("group.encrypt")
def group_encrypt(req):
    group = handles.get(req.str("group"), "group_outbound")
    return {"ciphertext": group.encrypt(req.str("plaintext").encode("utf-8")).to_base64()}


@peer.op("group.session_key")
def group_session_key(req):
    group = handles.get(req.str("group"), "group_outbound")
    return {"session_key": group.session_key.to_base64(), "message_index": group.message_index}


@peer.op("group.message_index")
def group_message_index(req):
    return {"message_index": handles.get(req.str("group"), "group_outbound").message_index}


def inbound_reply(group):
    return {
        "group": handles.add("group_inbound", group),
        "session_id": group.session_id,
        "first_known_index": group.first_known_index,
    }


@peer.op("group.create_inbound")
def group_create_inbound(req):
    return inbound_reply(vz.InboundGroupSession(vz.SessionKey(req.str("session_key"))))


@peer.op("group.import_exported")
def group_import_exported(req):
    exported = vz.ExportedSessionKey(req.str("exported_key"))
    return inbound_reply(vz.InboundGroupSession.import_session(exported))


@peer.op("group.first_known_index")
def group_first_known_index(req):
    group = handles.get(req.str("group"), "group_inbound")
    return {"first_known_index": group.first_known_index}


@peer.op("group.session_id")
def group_session_id(req):
    group = handles.get(req.str("group"), "group_outbound", "group_inbound")
    return {"session_id": group.session_id}


@peer.op("group.decrypt")
def group_decrypt(req):
    group = handles.get(req.str("group"), "group_inbound")
    decrypted = group.decrypt(vz.MegolmMessage.from_base64(req.str("ciphertext")))
    return {"plaintext": text(decrypted.plaintext), "message_index": decrypted.message_index}


@peer.op("group.export")
def group_export(req):
    group = handles.get(req.str("group"), "group_inbound")
    index = req.int("index")
    exported = group.export_at(index)
    if exported is None:
        raise PeerError(
            "unknown_index",
            "cannot export at index %d, first known index is %d" % (index, group.first_known_index),
        )
    return {"exported_key": exported.to_base64()}


# --- Key backup (m.megolm_backup.v1.curve25519-aes-sha2, vodozemac's libolm-compatible Pk*) -------


@peer.op("backup.create_decryption")
def backup_create_decryption(req):
    decryption = vz.PkDecryption()
    return {
        "decryption": handles.add("backup_decryption", decryption),
        "public_key": decryption.public_key.to_base64(),
    }


@peer.op("backup.encrypt")
def backup_encrypt(req):
    key = vz.Curve25519PublicKey.from_base64(req.str("public_key"))
    message = vz.PkEncryption.from_key(key).encrypt(req.str("plaintext").encode("utf-8"))
    return {
        "ephemeral": b64encode(message.ephemeral_key),
        "ciphertext": b64encode(message.ciphertext),
        "mac": b64encode(message.mac),
    }


@peer.op("backup.decrypt")
def backup_decrypt(req):
    decryption = handles.get(req.str("decryption"), "backup_decryption")
    message = vz.Message.from_base64(req.str("ciphertext"), req.str("mac"), req.str("ephemeral"))
    return {"plaintext": decryption.decrypt(message).decode("utf-8")}


@peer.op("util.verify_ed25519")
def util_verify_ed25519(req):
    key = vz.Ed25519PublicKey.from_base64(req.str("key"))
    signature = vz.Ed25519Signature.from_base64(req.str("signature"))
    try:
        key.verify_signature(req.str("message").encode("utf-8"), signature)
    except vz.SignatureException:
        return {"valid": False}
    return {"valid": True}


# --- pickles ---------------------------------------------------------------

NATIVE = {
    "account": vz.Account,
    "session": vz.Session,
    "group_outbound": vz.GroupSession,
    "group_inbound": vz.InboundGroupSession,
}

# The Python bindings expose libolm import for these kinds only.
FROM_LIBOLM = {
    "account": vz.Account,
    "session": vz.Session,
    "group_inbound": vz.InboundGroupSession,
}


@peer.op("pickle")
def pickle(req):
    handle = req.str("handle")
    obj = handles.get(handle)
    return {"pickle": obj.pickle(req.key()), "format": "vodozemac"}


@peer.op("unpickle")
def unpickle(req):
    kind = req.str("kind")
    fmt = req.str("format")
    if kind not in NATIVE:
        raise PeerError("bad_request", "unknown pickle kind %r" % (kind,))
    pickle_text = req.str("pickle")
    key = req.key()
    if fmt == "vodozemac":
        obj = NATIVE[kind].from_pickle(pickle_text, key)
    elif fmt == "libolm":
        if kind not in FROM_LIBOLM:
            raise PeerError("unsupported", "vodozemac's bindings cannot import a libolm %s" % kind)
        obj = FROM_LIBOLM[kind].from_libolm_pickle(pickle_text, key)
    elif fmt == "mxe2ee":
        raise PeerError("unsupported", "the mxe2ee pickle format is only read by the mxe2ee peer")
    else:
        raise PeerError("bad_request", "unknown pickle format %r" % (fmt,))
    return {"handle": handles.add(kind, obj)}


if __name__ == "__main__":
    configure_stdio()
    peer.serve()
