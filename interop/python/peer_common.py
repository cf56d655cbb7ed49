"""Shared plumbing for the JSON-lines interop peers (see docs/interop-protocol.md).

Each peer module builds a ``Peer`` with a table of operation handlers and calls
``Peer.serve()``. This module owns everything that is the same for every peer:
reading one JSON request per line, replying one JSON object per line, the
handle table, argument checking, base64 helpers and the error model.

Errors never carry key material, pickles or plaintexts: handlers raise
``PeerError(kind, message)`` with a short description, and anything else is
reported by exception type and the library's own message, which for both
libolm and vodozemac names the failure (e.g. ``BAD_MESSAGE_MAC``) and never
secret bytes.
"""

import base64
import binascii
import itertools
import json
import sys


# Largest `count` of account.generate_one_time_keys: no implementation keeps more than a few
# hundred one-time keys, and an unbounded count lets one request exhaust memory.
MAX_KEY_COUNT = 10000


class PeerError(Exception):
    """A failure reported to the caller as ``{"error": {"kind", "message"}}``."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def b64encode(data):
    """Unpadded standard base64, as Matrix puts keys and ciphertexts on the wire."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(text, what):
    """Decodes standard base64 with or without padding; ``decode`` error otherwise."""
    if not isinstance(text, str):
        raise PeerError("bad_request", "%s must be a base64 string" % what)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise PeerError("decode", "%s is not valid base64" % what)


class Request:
    """Typed access to the arguments of one request."""

    def __init__(self, obj):
        self.obj = obj

    def _get(self, name, types, what):
        if name not in self.obj:
            raise PeerError("bad_request", "missing argument '%s'" % name)
        value = self.obj[name]
        # bool is an int in Python; never accept it where a number is expected.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise PeerError("bad_request", "argument '%s' must be %s" % (name, what))
        return value

    def str(self, name):
        return self._get(name, (str,), "a string")

    def int(self, name):
        value = self._get(name, (int,), "an integer")
        if value < 0:
            raise PeerError("bad_request", "argument '%s' must not be negative" % name)
        return value

    def count(self, name):
        """A key count, bounded so a bad request cannot exhaust the peer's memory."""
        value = self.int(name)
        if value > MAX_KEY_COUNT:
            raise PeerError("bad_request", "argument '%s' must be at most %d" % (name, MAX_KEY_COUNT))
        return value

    def message(self, name="message"):
        """An Olm message ``{type: 0|1, body: base64}`` as ``(type, body)``."""
        value = self._get(name, (dict,), "an object {type, body}")
        msg_type = value.get("type")
        body = value.get("body")
        if msg_type not in (0, 1) or isinstance(msg_type, bool):
            raise PeerError("bad_request", "message.type must be 0 (pre-key) or 1 (normal)")
        if not isinstance(body, str):
            raise PeerError("bad_request", "message.body must be a base64 string")
        return msg_type, body

    def key(self, name="key"):
        return b64decode(self.str(name), name)


class Handles:
    """Opaque string handles for live objects, each tagged with its kind."""

    def __init__(self):
        self._objects = {}
        self._counter = itertools.count(1)

    def add(self, kind, obj):
        handle = "%s-%d" % (kind, next(self._counter))
        self._objects[handle] = (kind, obj)
        return handle

    def get(self, handle, *kinds):
        entry = self._objects.get(handle)
        if entry is None:
            raise PeerError("unknown_handle", "no object with handle %r" % (handle,))
        if kinds and entry[0] not in kinds:
            raise PeerError(
                "unknown_handle",
                "handle %r is of kind %s, expected %s" % (handle, entry[0], " or ".join(kinds)),
            )
        return entry[1]

    def kind(self, handle):
        entry = self._objects.get(handle)
        if entry is None:
            raise PeerError("unknown_handle", "no object with handle %r" % (handle,))
        return entry[0]

    def free(self, handle):
        if self._objects.pop(handle, None) is None:
            raise PeerError("unknown_handle", "no object with handle %r" % (handle,))


class Peer:
    """The serving loop: one request per stdin line, one reply per stdout line."""

    def __init__(self, name, version, pickle_format, classify):
        """``classify(exc) -> (kind, message)`` maps library exceptions to error kinds."""
        self.name = name
        self.version = version
        self.pickle_format = pickle_format
        self.classify = classify
        self.handles = Handles()
        self.ops = {
            "info": self._info,
            "free": self._free,
            "quit": self._quit,
        }
        self._running = True

    def op(self, name):
        def register(fn):
            self.ops[name] = fn
            return fn

        return register

    def _info(self, req):
        return {
            "name": self.name,
            "version": self.version,
            "pickle_format": self.pickle_format,
            "ops": sorted(self.ops),
        }

    def _free(self, req):
        self.handles.free(req.str("handle"))
        return {}

    def _quit(self, req):
        self._running = False
        return {}

    def handle_line(self, line):
        try:
            obj = json.loads(line)
        except ValueError:
            return {"id": None, "error": {"kind": "bad_request", "message": "request is not JSON"}}
        if not isinstance(obj, dict):
            return {"id": None, "error": {"kind": "bad_request", "message": "request is not an object"}}
        req_id = obj.get("id")
        op = obj.get("op")
        handler = self.ops.get(op) if isinstance(op, str) else None
        if handler is None:
            return {"id": req_id, "error": {"kind": "unknown_op", "message": "unknown op %r" % (op,)}}
        try:
            result = handler(Request(obj))
        except PeerError as e:
            return {"id": req_id, "error": {"kind": e.kind, "message": e.message}}
        except Exception as e:  # noqa: BLE001 - every failure becomes an error reply
            kind, message = self.classify(e)
            return {"id": req_id, "error": {"kind": kind, "message": message}}
        return {"id": req_id, "result": result}

    def serve(self):
        stdin = sys.stdin
        stdout = sys.stdout
        for line in stdin:
            if not line.strip():
                continue
            reply = self.handle_line(line)
            # ASCII-only output: plaintext is escaped, so the stream never carries a bad byte.
            stdout.write(json.dumps(reply, separators=(",", ":")))
            stdout.write("\n")
            stdout.flush()
            if not self._running:
                break


def describe(exc):
    """Exception type and the library's message (never contains secret bytes)."""
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def configure_stdio():
    """UTF-8 line-oriented stdio regardless of the caller's locale."""
    sys.stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")
    sys.stdout.reconfigure(encoding="utf-8", errors="strict", newline="\n", line_buffering=False)
