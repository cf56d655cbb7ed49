"""Minimal liveness peer: proves the real Python crypto libraries load and answer.

Protocol: one JSON object per line on stdin, e.g. {"id":1,"op":"version"};
one reply per line on stdout: {"id":1,"result":{...}} or
{"id":1,"error":{"kind":"...","message":"..."}}.
The full interop peers live beside this file; keep this one tiny.
"""

import json
import sys
from importlib.metadata import version as dist_version

import _libolm  # the compiled libolm that python-olm wraps
import olm
import vodozemac


def libolm_version() -> str:
    ffi, lib = _libolm.ffi, _libolm.lib
    major, minor, patch = ffi.new("uint8_t*"), ffi.new("uint8_t*"), ffi.new("uint8_t*")
    lib.olm_get_library_version(major, minor, patch)
    return f"{major[0]}.{minor[0]}.{patch[0]}"


def op_version(_req: dict) -> dict:
    # Create real accounts so a broken native build fails here, not later in a test.
    return {
        "runtime": "python",
        "python": sys.version.split()[0],
        "vodozemac": dist_version("vodozemac"),
        "vodozemacCurve25519": vodozemac.Account().curve25519_key.to_base64(),
        "python-olm": dist_version("python-olm"),
        "libolm": libolm_version(),
        "olmAccountCurve25519": olm.Account().identity_keys["curve25519"],
    }


OPS = {"version": op_version}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            op = OPS.get(req.get("op"))
            if op is None:
                out = {"id": req_id, "error": {"kind": "unknown_op", "message": f"unknown op: {req.get('op')}"}}
            else:
                out = {"id": req_id, "result": op(req)}
        except Exception as e:  # reply with the failure instead of dying mid-conversation
            out = {"id": req_id, "error": {"kind": "peer_error", "message": str(e)}}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
