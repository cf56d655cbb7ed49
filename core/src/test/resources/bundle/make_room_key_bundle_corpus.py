#!/usr/bin/env python3
"""Writes room_key_bundle_fuzz_corpus.json: mutated MSC4268 room key bundles for
RoomKeyBundleFuzzCorpusTest (issue 14).

Base: one real ExportedSessionData of export/rust_sdk_interop.json (written by matrix-sdk-crypto-wasm
18.9; room !interop0:localhost) in the MSC4268 shape (no forwarding chain, no shared_history), plus one
m.history_not_shared withheld entry. Every case is the UTF-8 text handed to the parser for room
!interop0:localhost. Structured mutations carry the verdict our documented rules demand
("accept", or the rejection reason); seeded random mutations carry "any" (they must only never escape
as anything but a typed rejection). Run once; the committed output is the corpus. Never regenerate in
place: add new files instead.
"""
import copy, json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = json.load(open(os.path.join(HERE, "..", "export", "rust_sdk_interop.json")))
ENTRIES = json.loads(SRC["payload_json"])
ROOM = "!interop0:localhost"


def msc4268(e):
    e = copy.deepcopy(e)
    for k in ("forwarding_curve25519_key_chain", "shared_history", "m.shared_history"):
        e.pop(k, None)
    return e


KEY = msc4268(ENTRIES[0])
OTHER_ROOM_KEY = msc4268(ENTRIES[1])
assert KEY["room_id"] == ROOM and OTHER_ROOM_KEY["room_id"] != ROOM
WITHHELD = {"algorithm": "m.megolm.v1.aes-sha2", "code": "m.history_not_shared",
            "reason": "History not shared", "room_id": ROOM,
            "sender_key": KEY["sender_key"], "session_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
BASE = {"room_keys": [KEY], "withheld": [WITHHELD]}
JUNK = [None, 0, 1.5, True, "", "x", [], {}]

cases = []


def case(mutation, expect, value, raw=None):
    text = raw if raw is not None else json.dumps(value, separators=(",", ":"))
    cases.append({"id": "bundle#%d" % len(cases), "mutation": mutation, "expect": expect, "text": text})


def mut(fn):
    o = copy.deepcopy(BASE)
    fn(o)
    return o


case("base", "accept", BASE)
case("empty object", "accept", {})
case("only room_keys", "accept", {"room_keys": [KEY]})
case("only withheld", "accept", {"withheld": [WITHHELD]})
case("null arrays", "accept", {"room_keys": None, "withheld": None})
case("unknown top-level field", "accept", mut(lambda o: o.update({"extra": {"a": [1, 2]}})))
case("unknown entry field", "accept", mut(lambda o: o["room_keys"][0].update({"extra": 1})))
case("shared_history present", "accept", mut(lambda o: o["room_keys"][0].update({"shared_history": True})))
case("forwarding chain present", "accept",
     mut(lambda o: o["room_keys"][0].update({"forwarding_curve25519_key_chain": []})))
case("other algorithm key skipped", "accept",
     mut(lambda o: o["room_keys"].append(dict(KEY, algorithm="m.megolm.v2.aes-sha2"))))
case("withheld without reason", "accept", mut(lambda o: o["withheld"][0].pop("reason")))
case("withheld other code", "accept", mut(lambda o: o["withheld"][0].update({"code": "m.unverified"})))

# Malformed documents.
for raw in ["", " ", "{", "}", "[]", "null", "true", "1", '"x"', "{\"room_keys\":[}", "{} {}", "\u0000",
            "{\"room_keys\":[" * 20 + "]" * 20 + "}", "\ufeff{}", "{\"a\":1,}"]:
    case("raw %r" % raw[:30], "any" if raw == "\ufeff{}" else "MALFORMED", None, raw=raw)
for field in ("room_keys", "withheld"):
    for j in JUNK:
        if j is None or j == []:
            continue
        case("set %s = %s" % (field, json.dumps(j)), "MALFORMED", mut(lambda o, f=field, v=j: o.update({f: v})))
    for j in JUNK:
        if isinstance(j, dict) and field == "withheld":
            continue
        if isinstance(j, dict):
            continue
        case("%s entry = %s" % (field, json.dumps(j)), "MALFORMED",
             mut(lambda o, f=field, v=j: o[f].append(v)))
# Entry fields.
for k in ("algorithm", "sender_key", "sender_claimed_keys", "session_id", "session_key"):
    case("room_keys[0] delete " + k, "MALFORMED", mut(lambda o, k=k: o["room_keys"][0].pop(k)))
    for j in JUNK:
        if k == "algorithm" and isinstance(j, str) and j:
            case("room_keys[0] %s = %s" % (k, json.dumps(j)), "accept",
                 mut(lambda o, k=k, v=j: o["room_keys"][0].update({k: v})))
            continue
        case("room_keys[0] %s = %s" % (k, json.dumps(j)), "any" if k == "algorithm" else "MALFORMED",
             mut(lambda o, k=k, v=j: o["room_keys"][0].update({k: v})))
case("room_keys[0] delete room_id", "MALFORMED", mut(lambda o: o["room_keys"][0].pop("room_id")))
case("room_keys[0] session_id of another session", "MALFORMED",
     mut(lambda o: o["room_keys"][0].update({"session_id": OTHER_ROOM_KEY["session_id"]})))
case("room_keys[0] truncated session_key", "MALFORMED",
     mut(lambda o: o["room_keys"][0].update({"session_key": KEY["session_key"][:40]})))
for k in ("session_id", "sender_key", "code"):
    case("withheld[0] delete " + k, "MALFORMED", mut(lambda o, k=k: o["withheld"][0].pop(k)))
    for j in (0, True, "", [], {}):
        case("withheld[0] %s = %s" % (k, json.dumps(j)), "MALFORMED",
             mut(lambda o, k=k, v=j: o["withheld"][0].update({k: v})))
case("withheld[0] delete room_id", "MALFORMED", mut(lambda o: o["withheld"][0].pop("room_id")))
case("session in both lists", "MALFORMED",
     mut(lambda o: o["withheld"][0].update({"session_id": KEY["session_id"]})))
# Other rooms.
case("key for another room", "OTHER_ROOM", {"room_keys": [OTHER_ROOM_KEY]})
case("key for another room after a good one", "OTHER_ROOM", mut(lambda o: o["room_keys"].append(OTHER_ROOM_KEY)))
case("withheld for another room", "OTHER_ROOM",
     mut(lambda o: o["withheld"][0].update({"room_id": OTHER_ROOM_KEY["room_id"]})))
for r in ("", "!INTEROP0:localhost", ROOM + " ", "!interop0:localhost\u0000"):
    case("room_keys[0] room_id = %r" % r, "OTHER_ROOM", mut(lambda o, r=r: o["room_keys"][0].update({"room_id": r})))
for j in (0, True, [], {}):
    case("room_keys[0] room_id = %s" % json.dumps(j), "MALFORMED",
         mut(lambda o, v=j: o["room_keys"][0].update({"room_id": v})))

# Seeded random mutations of the base text.
rng = random.Random(20261206)
base_text = json.dumps(BASE, separators=(",", ":"))
for i in range(300):
    t = list(base_text)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(4)
        pos = rng.randrange(len(t))
        if op == 0:
            del t[pos]
        elif op == 1:
            t.insert(pos, rng.choice('{}[]",:0a\\ \u00e9\u0000'))
        elif op == 2:
            t[pos] = chr(rng.randrange(32, 127))
        else:
            j = rng.randrange(len(t))
            t[pos], t[j] = t[j], t[pos]
    case("random %d" % i, "any", None, raw="".join(t))

out = {
    "description": __doc__,
    "generator": "core/src/test/resources/bundle/make_room_key_bundle_corpus.py, seed 20261206",
    "room_id": ROOM,
    "sources": SRC["sources"],
    "cases": cases,
}
with open(os.path.join(HERE, "room_key_bundle_fuzz_corpus.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=True)
    f.write("\n")
print(len(cases), "cases")
