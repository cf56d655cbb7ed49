#!/usr/bin/env python3
"""Writes sync_body_corpus.json: hostile /sync bodies for SyncBodyCorpusTest (issue 10 item 3, issue 11 item 2).

Each case is a /sync body with one or two hostile parts beside ordinary ones: events nested far
beyond the bounds, strings and numbers over the bounds, non-object events, wrong shapes of
rooms/timeline/state/to_device, and seeded random structural mutations. Huge parts are not written
out: the body holds the placeholder "@@FILL@@" (a JSON string) and "fill" says what the test puts
there, replacing the quoted placeholder with raw JSON text ({"kind": "deep_array"|"deep_object",
"levels": n} nests n levels, {"kind": "string"|"escaped_string", "chars": n} a string, {"kind":
"number", "chars": n} a number literal).
Expectations follow our documented rules: "kept_timeline" and "kept_to_device" are the ordinary
events that must survive; "dropped_min" is a lower bound on what the parser must drop; "whole":
"ok" means the body as a whole is accepted. Seeded random cases carry "whole": "any".
Run once; the committed output is the corpus. Never regenerate in place: add new files instead.
"""
import copy, json, random

SEED = 20261210
ROOM = "!room:localhost"


def msg(i):
    return {"type": "m.room.message", "event_id": "$ok%d" % i, "sender": "@a:localhost",
            "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": "hello %d" % i}}


def td(i):
    return {"type": "m.custom", "sender": "@a:localhost", "content": {"n": i}}


def base():
    return {"next_batch": "s1",
            "to_device": {"events": [td(1)]},
            "device_lists": {"changed": ["@a:localhost"], "left": []},
            "device_one_time_keys_count": {"signed_curve25519": 50},
            "rooms": {"join": {ROOM: {"state": {"events": []},
                                      "timeline": {"events": [msg(1)]}}}}}


FILL = "@@FILL@@"
cases = []


def case(cid, body, expect, fill=None):
    c = {"id": cid, "body": json.dumps(body, separators=(",", ":")), "expect": expect}
    if fill:
        c["fill"] = fill
    cases.append(c)


def hostile_timeline(content_value):
    b = base()
    ev = msg(99)
    ev["event_id"] = "$hostile"
    ev["content"]["x"] = content_value
    b["rooms"]["join"][ROOM]["timeline"]["events"].insert(0, ev)
    return b


def hostile_to_device(content_value):
    b = base()
    b["to_device"]["events"].insert(0, {"type": "m.custom", "sender": "@e:localhost",
                                        "content": {"x": content_value}})
    return b


ok = {"whole": "ok", "kept_timeline": ["$ok1"], "kept_to_device": 1, "dropped_min": 1}
for levels in [129, 900, 1000, 5000, 50000, 99000]:
    for kind in ["deep_array", "deep_object"]:
        case("timeline_%s_%d" % (kind, levels), hostile_timeline(FILL), ok,
             {"kind": kind, "levels": levels})
        case("to_device_%s_%d" % (kind, levels), hostile_to_device(FILL), ok,
             {"kind": kind, "levels": levels})
for chars in [256 * 1024 + 1, 600 * 1024, 21 * 1024 * 1024]:
    case("timeline_string_%d" % chars, hostile_timeline(FILL), ok, {"kind": "string", "chars": chars})
    case("to_device_string_%d" % chars, hostile_to_device(FILL), ok, {"kind": "string", "chars": chars})
case("timeline_escaped_string", hostile_timeline(FILL), ok, {"kind": "escaped_string", "chars": 300 * 1024})
case("timeline_long_number", hostile_timeline(FILL), ok, {"kind": "number", "chars": 5000})
case("deep_beyond_document_bound", hostile_timeline(FILL), {"whole": "refused"},
     {"kind": "deep_array", "levels": 150000})

# Wrong shapes: the ordinary parts that are well formed must survive, nothing may throw.
shape = {"whole": "ok", "kept_to_device": 1, "dropped_min": 0}
for name, edit in [
    ("rooms_is_string", lambda b: b.__setitem__("rooms", "x")),
    ("rooms_is_array", lambda b: b.__setitem__("rooms", [1, 2])),
    ("join_is_number", lambda b: b["rooms"].__setitem__("join", 5)),
    ("room_is_string", lambda b: b["rooms"]["join"].__setitem__("!other:localhost", "x")),
    ("timeline_is_array", lambda b: b["rooms"]["join"][ROOM].__setitem__("timeline", [])),
    ("timeline_events_is_object", lambda b: b["rooms"]["join"][ROOM]["timeline"].__setitem__("events", {})),
    ("state_events_non_objects", lambda b: b["rooms"]["join"][ROOM]["state"].__setitem__("events", [1, "x", None, []])),
    ("timeline_events_non_objects", lambda b: b["rooms"]["join"][ROOM]["timeline"]["events"].extend([1, "x", None, [], True])),
    ("state_event_content_string", lambda b: b["rooms"]["join"][ROOM]["state"]["events"].append(
        {"type": "m.room.member", "state_key": "@a:localhost", "content": "join"})),
    ("state_event_state_key_number", lambda b: b["rooms"]["join"][ROOM]["state"]["events"].append(
        {"type": "m.room.member", "state_key": 5, "content": {"membership": "join"}})),
    ("encryption_event_content_array", lambda b: b["rooms"]["join"][ROOM]["state"]["events"].append(
        {"type": "m.room.encryption", "state_key": "", "content": []})),
    ("encrypted_event_fields_wrong", lambda b: b["rooms"]["join"][ROOM]["timeline"]["events"].append(
        {"type": "m.room.encrypted", "event_id": 7, "sender": [], "content": {"algorithm": 5, "session_id": {}, "ciphertext": []}})),
    ("invite_is_array", lambda b: b["rooms"].__setitem__("invite", [])),
    ("invite_room_string", lambda b: b["rooms"].__setitem__("invite", {"!i:localhost": "x"})),
    ("leave_timeline_string", lambda b: b["rooms"].__setitem__("leave", {"!l:localhost": {"timeline": "x"}})),
    ("device_lists_string", lambda b: b.__setitem__("device_lists", "x")),
    ("device_lists_changed_objects", lambda b: b["device_lists"].__setitem__("changed", [{}, 5, "@b:localhost"])),
    ("otk_counts_array", lambda b: b.__setitem__("device_one_time_keys_count", [1])),
    ("fallback_types_object", lambda b: b.__setitem__("device_unused_fallback_key_types", {})),
]:
    b = base()
    edit(b)
    kept = ["$ok1"] if name not in ("rooms_is_string", "rooms_is_array", "join_is_number",
                                     "timeline_is_array", "timeline_events_is_object") else []
    e = dict(shape)
    e["kept_timeline"] = kept
    case("shape_" + name, b, e)
for name, edit in [
    ("to_device_is_string", lambda b: b.__setitem__("to_device", "x")),
    ("to_device_events_object", lambda b: b["to_device"].__setitem__("events", {})),
]:
    b = base()
    edit(b)
    case("shape_" + name, b, {"whole": "ok", "kept_timeline": ["$ok1"], "kept_to_device": 0, "dropped_min": 0})
b = base()
b["to_device"]["events"].extend([1, "x", None, [], True])
case("shape_to_device_non_objects", b, {"whole": "ok", "kept_timeline": ["$ok1"], "kept_to_device": 1, "dropped_min": 5})

# Seeded random structural mutations of the base: replace a random node with junk.
JUNK = [None, 0, -1, 1.5, True, "", "x", [], {}, [[[]]], {"events": 5}, 2 ** 60]
rnd = random.Random(SEED)


def paths(o, p=()):
    yield p
    if isinstance(o, dict):
        for k, v in o.items():
            yield from paths(v, p + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from paths(v, p + (i,))


for i in range(60):
    b = base()
    ps = [p for p in paths(b) if p and p != ("next_batch",)]
    p = rnd.choice(ps)
    o = b
    for k in p[:-1]:
        o = o[k]
    o[p[-1]] = copy.deepcopy(rnd.choice(JUNK))
    case("random_%d" % i, b, {"whole": "any", "mutation": "/".join(map(str, p))})

out = {
    "description": __doc__.strip(),
    "generator": "bridge-plugin/src/test/resources/sync/make_sync_body_corpus.py, seed %d" % SEED,
    "cases": cases,
}
with open("sync_body_corpus.json", "w") as f:
    json.dump(out, f, indent=1)
print(len(cases), "cases")
