#!/usr/bin/env python3
"""Writes encrypted_file_fuzz_corpus.json: mutated EncryptedFile objects for EncryptedFileFuzzCorpusTest.

Bases: the spec's example image file and the two cases of vectors/encrypted_attachments_v2.json.
Structured mutations carry the outcome our documented parsing rules demand ("accept" or "reject");
seeded random mutations carry "any" (they must only never escape as an untyped exception).
Run once; the committed output is the corpus. Never regenerate in place: add new files instead.
"""
import copy, json, random, sys

SPEC = {"url": "mxc://example.org/FHyPlCeYUSFFxlgbQYZmoEoe", "v": "v2",
        "key": {"alg": "A256CTR", "ext": True, "k": "aWF6-32KGYaC3A_FEUCk1Bt0JA37zP0wrStgmdCaW-0",
                "key_ops": ["encrypt", "decrypt"], "kty": "oct"},
        "iv": "w+sE15fzSc0AAAAAAAAAAA",
        "hashes": {"sha256": "fdSLu/YkRx3Wyh3KQabP3rd6+SFiKg5lsJZQHtkSAYA"}}

REQUIRED = ["v", "key", "iv", "hashes", "key.kty", "key.alg", "key.k", "key.key_ops", "hashes.sha256"]
STRINGS = ["v", "iv", "key.kty", "key.alg", "key.k", "hashes.sha256"]
B64 = {"key.k": True, "iv": False, "hashes.sha256": False}  # path -> url-safe alphabet
JUNK = [None, 0, 1.5, True, [], {}, ""]


def get(o, path):
    for p in path.split("."):
        o = o[p]
    return o


def put(o, path, value, delete=False):
    parts = path.split(".")
    for p in parts[:-1]:
        o = o[p]
    if delete:
        o.pop(parts[-1], None)
    else:
        o[parts[-1]] = value


def structured(base):
    out = []

    def case(desc, expect, fn):
        o = copy.deepcopy(base)
        fn(o)
        out.append((desc, expect, o))

    for path in REQUIRED:
        case("delete " + path, "reject", lambda o, p=path: put(o, p, None, True))
    case("delete url", "accept", lambda o: put(o, "url", None, True))
    case("delete key.ext", "accept", lambda o: put(o, "key.ext", None, True))
    for path in STRINGS + ["url", "key.key_ops", "key", "hashes"]:
        for j in JUNK:
            if path in ("key", "hashes") and j == {}:
                continue  # an empty object is covered by the deletes inside it
            case("set %s = %s" % (path, json.dumps(j)), "reject", lambda o, p=path, v=j: put(o, p, v))
    for j in JUNK:
        case("set key.ext = %s" % json.dumps(j), "accept" if isinstance(j, bool) else "reject",
             lambda o, v=j: put(o, "key.ext", v))
    case("set key.ext = false", "accept", lambda o: put(o, "key.ext", False))
    for path, url_safe in B64.items():
        s = get(base, path)
        swapped = s.translate(str.maketrans("-_", "+/") if url_safe else str.maketrans("+/", "-_"))
        for desc, value, expect in [
            ("drop last char", s[:-1], "reject"),
            ("drop last 2 chars", s[:-2], "reject"),
            ("append A", s + "A", "reject"),
            ("append AAAA", s + "AAAA", "reject"),
            ("correct padding", s + "=" * (-len(s) % 4), "accept"),
            ("one = too many", s + "=" * (-len(s) % 4 + 1), "reject"),
            ("padding inside", s[:4] + "=" + s[4:], "reject"),
            ("other alphabet", swapped, "accept" if swapped == s else "reject"),
            ("inner space", s[:4] + " " + s[4:], "reject"),
            ("non-ASCII", s[:-1] + "\u00e9", "reject"),
            ("lower-cased", s.lower(), "any"),
        ]:
            case("%s: %s" % (path, desc), expect, lambda o, p=path, v=value: put(o, p, v))
    for v, expect in [("v1", "accept"), ("v3", "reject"), ("V2", "reject"), ("v2 ", "reject"),
                      ("", "reject"), ("v0", "reject")]:
        case("v = " + json.dumps(v), expect, lambda o, v=v: put(o, "v", v))
    for path, v in [("key.alg", "A256CTR "), ("key.alg", "A128CTR"), ("key.alg", "A256GCM"),
                    ("key.kty", "OCT"), ("key.kty", "RSA")]:
        case("%s = %s" % (path, json.dumps(v)), "reject", lambda o, p=path, v=v: put(o, p, v))
    for ops, expect in [(["decrypt"], "accept"), (["encrypt"], "reject"), (["decrypt", 1], "reject"),
                        (["decrypt", "decrypt"], "accept"), (["sign", "decrypt"], "accept"),
                        (["Decrypt"], "reject"), ([["decrypt"]], "reject")]:
        case("key.key_ops = " + json.dumps(ops), expect, lambda o, v=ops: put(o, "key.key_ops", v))
    for url, expect in [("mxc://x/y", "accept"), ("http://x/y", "reject"), ("MXC://x/y", "reject"),
                        ("file:///etc/passwd", "reject"), ("mxc:/x", "reject")]:
        case("url = " + json.dumps(url), expect, lambda o, v=url: put(o, "url", v))
    case("extra top-level field", "accept", lambda o: o.update({"extra": [1, {"a": None}]}))
    case("extra hash sha512", "accept", lambda o: o["hashes"].update({"sha512": "x"}))
    case("extra jwk field", "accept", lambda o: o["key"].update({"kid": "1"}))
    return out


def random_mutations(base, rng, count):
    paths = REQUIRED + ["url", "key.ext"]
    out = []
    for i in range(count):
        o = copy.deepcopy(base)
        steps = []
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            op = rng.choice(["delete", "junk", "flip", "garbage", "nest", "repeat"])
            try:
                cur = get(o, path)
            except (KeyError, TypeError):
                continue
            try:
                if op == "delete":
                    put(o, path, None, True)
                elif op == "junk":
                    put(o, path, rng.choice(JUNK + [-1, 2 ** 70, "\u0000"]))
                elif op == "flip" and isinstance(cur, str) and cur:
                    k = rng.randrange(len(cur))
                    put(o, path, cur[:k] + chr(rng.randrange(32, 0x3000)) + cur[k + 1:])
                elif op == "garbage":
                    n = rng.randint(0, 90)
                    put(o, path, "".join(rng.choice("ABCabc019+/-_=\\\" \u00ff") for _ in range(n)))
                elif op == "nest":
                    put(o, path, {"k": cur, "v": [cur]})
                elif op == "repeat" and isinstance(cur, str):
                    put(o, path, cur * rng.randint(2, 5))
                else:
                    continue
            except (KeyError, TypeError):
                continue
            steps.append(op + " " + path)
        out.append(("random %d: %s" % (i, ", ".join(steps) or "none"), "any", o))
    return out


def main():
    vectors = json.load(open(sys.argv[1]))
    bases = [("spec_example", SPEC)] + [(c["name"].split(" ")[0], c["file"]) for c in vectors["cases"]]
    rng = random.Random(20261123)
    cases = []
    for name, base in bases:
        for desc, expect, obj in structured(base) + random_mutations(base, rng, 40):
            cases.append({"id": "%s#%d" % (name, len(cases)), "base": name, "mutation": desc,
                          "expect": expect, "file": obj})
    cases.append({"id": "top#array", "base": "none", "mutation": "array instead of object",
                  "expect": "reject", "file": [SPEC]})
    cases.append({"id": "top#string", "base": "none", "mutation": "string instead of object",
                  "expect": "reject", "file": json.dumps(SPEC)})
    doc = {"description": __doc__.strip(),
           "generator": "core/src/test/resources/attachment/make_encrypted_file_corpus.py, seed 20261123",
           "sources": vectors["sources"] + [{"repo": "matrix-org/matrix-spec",
                                             "path": "content/client-server-api/modules/end_to_end_encryption.md",
                                             "what": "example EncryptedFile of the encrypted image event",
                                             "license": "Apache-2.0"}],
           "cases": cases}
    json.dump(doc, open(sys.argv[2], "w"), indent=1, ensure_ascii=True)
    print(len(cases), "cases")


main()
