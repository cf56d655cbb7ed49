// Rust OlmMachine peer: drives the real `OlmMachine` of @matrix-org/matrix-sdk-crypto-wasm (the crypto
// stack of Element Web) for mxe2ee's Java interop tests.
//
// Protocol (docs/interop-protocol.md, section "Rust OlmMachine peer"):
//   stdin:  one JSON request per line   {"id":1,"op":"machine.init","user_id":"@a:x","device_id":"A"}
//   stdout: one JSON reply per line     {"id":1,"result":{...}}
//                                   or  {"id":1,"error":{"kind":"...","message":"..."}}
// Requests are handled strictly in order. The peer keeps serving after an error and exits on EOF.
// Nothing but replies is ever written to stdout: every log line (ours and the wasm tracing output) goes
// to stderr.
//
// One process holds at most one machine, backed by the in-memory store (no IndexedDB in node).
// The peer performs no I/O towards a homeserver: like the Java engine it is pushed sync changes and
// pulled for outgoing requests; the test's router answers them.
import { createInterface } from "node:readline";
import * as sdk from "@matrix-org/matrix-sdk-crypto-wasm";

// Keep stdout for protocol replies only.
const toStderr = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = toStderr;
console.trace = toStderr;

const stderrLogger = {
  debug: () => {},
  info: () => {},
  warn: (data) => toStderr("[wasm warn]", data),
  error: (data) => toStderr("[wasm error]", data),
};

await sdk.initAsync();

/** An error reply with a stable `kind`; extra fields are copied into the error object. */
class PeerError extends Error {
  constructor(kind, message, extra = {}) {
    super(message);
    this.kind = kind;
    this.extra = extra;
  }
}

const REQUEST_TYPE_NAMES = new Map([
  [sdk.RequestType.KeysUpload, "keys_upload"],
  [sdk.RequestType.KeysQuery, "keys_query"],
  [sdk.RequestType.KeysClaim, "keys_claim"],
  [sdk.RequestType.ToDevice, "to_device"],
  [sdk.RequestType.SignatureUpload, "signature_upload"],
  [sdk.RequestType.RoomMessage, "room_message"],
  [sdk.RequestType.KeysBackup, "keys_backup"],
]);
const REQUEST_TYPES_BY_NAME = new Map([...REQUEST_TYPE_NAMES].map(([k, v]) => [v, k]));

const DECRYPTION_ERROR_KINDS = new Map([
  [sdk.DecryptionErrorCode.MissingRoomKey, "missing_session"],
  [sdk.DecryptionErrorCode.UnknownMessageIndex, "unknown_index"],
  [sdk.DecryptionErrorCode.MismatchedIdentityKeys, "mismatched_identity_keys"],
  [sdk.DecryptionErrorCode.UnknownSenderDevice, "unknown_sender_device"],
  [sdk.DecryptionErrorCode.UnsignedSenderDevice, "unsigned_sender_device"],
  [sdk.DecryptionErrorCode.SenderIdentityVerificationViolation, "sender_identity_verification_violation"],
  [sdk.DecryptionErrorCode.UnableToDecrypt, "unable_to_decrypt"],
  [sdk.DecryptionErrorCode.MismatchedSender, "mismatched_sender"],
]);

const TRUST_REQUIREMENTS = {
  untrusted: sdk.TrustRequirement.Untrusted,
  cross_signed_or_legacy: sdk.TrustRequirement.CrossSignedOrLegacy,
  cross_signed: sdk.TrustRequirement.CrossSigned,
};

const HISTORY_VISIBILITY = {
  invited: sdk.HistoryVisibility.Invited,
  joined: sdk.HistoryVisibility.Joined,
  shared: sdk.HistoryVisibility.Shared,
  world_readable: sdk.HistoryVisibility.WorldReadable,
};

const LOCAL_TRUST = {
  verified: sdk.LocalTrust.Verified,
  blacklisted: sdk.LocalTrust.BlackListed,
  ignored: sdk.LocalTrust.Ignored,
  unset: sdk.LocalTrust.Unset,
};
const LOCAL_TRUST_NAMES = new Map(Object.entries(LOCAL_TRUST).map(([k, v]) => [v, k]));

const SHIELD_COLORS = new Map([
  [sdk.ShieldColor.Red, "red"],
  [sdk.ShieldColor.Grey, "grey"],
  [sdk.ShieldColor.None, "none"],
]);
const SHIELD_CODES = new Map([
  [sdk.ShieldStateCode.AuthenticityNotGuaranteed, "authenticity_not_guaranteed"],
  [sdk.ShieldStateCode.UnknownDevice, "unknown_device"],
  [sdk.ShieldStateCode.UnsignedDevice, "unsigned_device"],
  [sdk.ShieldStateCode.UnverifiedIdentity, "unverified_identity"],
  [sdk.ShieldStateCode.VerificationViolation, "verification_violation"],
  [sdk.ShieldStateCode.MismatchedSender, "mismatched_sender"],
]);

const PROCESSED_KINDS = new Map([
  [sdk.ProcessedToDeviceEventType.Decrypted, "decrypted"],
  [sdk.ProcessedToDeviceEventType.UnableToDecrypt, "unable_to_decrypt"],
  [sdk.ProcessedToDeviceEventType.PlainText, "plaintext"],
  [sdk.ProcessedToDeviceEventType.Invalid, "invalid"],
]);

// Content fields of to-device events that carry no secret and may be reported without `include_content`.
// Room keys (`session_key`), forwarded keys and secrets are exactly what this list leaves out.
const NON_SECRET_CONTENT_FIELDS = [
  "algorithm",
  "room_id",
  "session_id",
  "sender_key",
  "code",
  "reason",
  "action",
  "request_id",
  "requesting_device_id",
  "body",
  "from_device",
  "transaction_id",
  "methods",
  "name",
];

let machine = null;
let quitRequested = false;
// Requests built outside outgoingRequests() (bootstrap, verify) carry no request id of their own;
// we hand out synthetic ids so that the caller can treat every request alike. Marking such an id as sent
// is accepted and does nothing, because the wasm machine does not track those requests.
let syntheticCounter = 0;
const syntheticIds = new Set();

function syntheticId(prefix) {
  const id = `${prefix}-${++syntheticCounter}`;
  syntheticIds.add(id);
  return id;
}

function requireMachine() {
  if (machine === null) throw new PeerError("not_initialized", "machine.init has not been called");
  return machine;
}

function str(req, name) {
  const v = req[name];
  if (typeof v !== "string" || v.length === 0) {
    throw new PeerError("bad_request", `field '${name}': expected a non-empty string, got ${JSON.stringify(v)}`);
  }
  return v;
}

function obj(req, name, fallback) {
  const v = req[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new PeerError("bad_request", `field '${name}': expected an object, got ${JSON.stringify(v)}`);
  }
  return v;
}

function strArray(req, name, fallback) {
  const v = req[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new PeerError("bad_request", `field '${name}': expected an array of strings, got ${JSON.stringify(v)}`);
  }
  return v;
}

function userIds(list) {
  try {
    return list.map((u) => new sdk.UserId(u));
  } catch (e) {
    throw new PeerError("bad_request", `invalid user id in ${JSON.stringify(list)}: ${errorText(e)}`);
  }
}

function errorText(e) {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

function parseJson(text) {
  return text === undefined || text === null ? null : JSON.parse(text);
}

/** Serialises any wasm outgoing request into the protocol's request object. */
function describeRequest(r, fallbackType) {
  const type = r.type !== undefined ? REQUEST_TYPE_NAMES.get(r.type) : fallbackType;
  if (type === undefined) throw new PeerError("internal", `unknown request type ${r.type}`);
  let id = r.id;
  if (id === undefined || id === null) id = syntheticId(type);
  const out = { request_id: id, type, body: parseJson(r.body) };
  if (type === "to_device") {
    out.event_type = r.event_type;
    out.txn_id = r.txn_id;
  } else if (type === "room_message") {
    out.room_id = r.room_id;
    out.txn_id = r.txn_id;
    out.event_type = r.event_type;
  } else if (type === "keys_backup") {
    out.version = r.version;
  }
  return out;
}

function summarizeContent(content, includeContent) {
  if (includeContent || content === null || typeof content !== "object") return content;
  const summary = {};
  for (const f of NON_SECRET_CONTENT_FIELDS) {
    if (content[f] !== undefined) summary[f] = content[f];
  }
  return summary;
}

function describeProcessed(ev, includeContent) {
  const kind = PROCESSED_KINDS.get(ev.type) ?? "unknown";
  const raw = parseJson(ev.rawEvent) ?? {};
  const out = { kind, type: raw.type, sender: raw.sender };
  if (kind === "decrypted") {
    const info = ev.encryptionInfo;
    out.sender_device = info.senderDevice?.toString() ?? null;
    out.sender_curve25519_key = info.senderCurve25519Key;
    out.sender_verified = info.isSenderVerified();
    out.content = summarizeContent(raw.content, includeContent);
  } else if (kind === "unable_to_decrypt") {
    const reason = ev.utdInfo.reason;
    out.reason =
      {
        [sdk.ToDeviceUnableToDecryptReason.DecryptionFailure]: "decryption_failure",
        [sdk.ToDeviceUnableToDecryptReason.UnverifiedSenderDevice]: "unverified_sender_device",
        [sdk.ToDeviceUnableToDecryptReason.NoOlmMachine]: "no_olm_machine",
        [sdk.ToDeviceUnableToDecryptReason.EncryptionIsDisabled]: "encryption_is_disabled",
      }[reason] ?? String(reason);
    // The ciphertext itself is no secret, but it is noise: report only the algorithm and sender key.
    out.content = summarizeContent(raw.content, false);
  } else {
    out.content = summarizeContent(raw.content, includeContent);
  }
  return out;
}

function describeDevice(d) {
  return {
    found: true,
    user_id: d.userId.toString(),
    device_id: d.deviceId.toString(),
    curve25519: d.curve25519Key?.toBase64() ?? null,
    ed25519: d.ed25519Key?.toBase64() ?? null,
    is_verified: d.isVerified(),
    is_cross_signed_by_owner: d.isCrossSignedByOwner(),
    is_cross_signing_trusted: d.isCrossSigningTrusted(),
    is_locally_trusted: d.isLocallyTrusted(),
    is_blacklisted: d.isBlacklisted(),
    is_deleted: d.isDeleted(),
    local_trust: LOCAL_TRUST_NAMES.get(d.localTrustState) ?? String(d.localTrustState),
  };
}

function identityKeys(m) {
  return { curve25519: m.identityKeys.curve25519.toBase64(), ed25519: m.identityKeys.ed25519.toBase64() };
}

function encryptionSettings(settings) {
  const s = new sdk.EncryptionSettings();
  if (settings.only_allow_trusted_devices === true) {
    s.sharingStrategy = sdk.CollectStrategy.onlyTrustedDevices();
  } else if (settings.sharing_strategy === "identity_based") {
    s.sharingStrategy = sdk.CollectStrategy.identityBasedStrategy();
  } else if (settings.sharing_strategy === "error_on_unverified_user_problem") {
    s.sharingStrategy = sdk.CollectStrategy.errorOnUnverifiedUserProblem();
  } else {
    s.sharingStrategy = sdk.CollectStrategy.allDevices();
  }
  if (settings.history_visibility !== undefined) {
    const hv = HISTORY_VISIBILITY[settings.history_visibility];
    if (hv === undefined) {
      throw new PeerError("bad_request", `settings.history_visibility: expected one of ${Object.keys(HISTORY_VISIBILITY)}, got ${JSON.stringify(settings.history_visibility)}`);
    }
    s.historyVisibility = hv;
  }
  if (settings.rotation_period_msgs !== undefined) s.rotationPeriodMessages = BigInt(settings.rotation_period_msgs);
  // The wasm setting is in microseconds; the protocol uses milliseconds like m.room.encryption.
  if (settings.rotation_period_ms !== undefined) s.rotationPeriod = BigInt(settings.rotation_period_ms) * 1000n;
  return s;
}

async function decryptionError(e) {
  if (e instanceof sdk.MegolmDecryptionError) {
    const withheld = e.withheldCode ?? null;
    let kind = DECRYPTION_ERROR_KINDS.get(e.code) ?? "unable_to_decrypt";
    if (withheld !== null && e.code === sdk.DecryptionErrorCode.MissingRoomKey) kind = "withheld";
    return new PeerError(kind, e.description, {
      code: kind,
      withheld_code: withheld,
      withheld_reason: e.maybe_withheld ?? null,
    });
  }
  return new PeerError("unable_to_decrypt", errorText(e));
}

async function decrypt(m, req) {
  const roomId = new sdk.RoomId(str(req, "room_id"));
  const event = obj(req, "event");
  const trust = TRUST_REQUIREMENTS[req.trust_requirement ?? "untrusted"];
  if (trust === undefined) {
    throw new PeerError("bad_request", `trust_requirement: expected one of ${Object.keys(TRUST_REQUIREMENTS)}, got ${JSON.stringify(req.trust_requirement)}`);
  }
  let decrypted;
  try {
    decrypted = await m.decryptRoomEvent(JSON.stringify(event), roomId, new sdk.DecryptionSettings(trust));
  } catch (e) {
    throw await decryptionError(e);
  }
  const clear = JSON.parse(decrypted.event);
  const shield = decrypted.shieldState(false);
  const strict = decrypted.shieldState(true);
  return {
    type: clear.type,
    content: clear.content,
    sender: decrypted.sender.toString(),
    sender_device: decrypted.senderDevice?.toString() ?? null,
    sender_curve25519_key: decrypted.senderCurve25519Key,
    sender_claimed_ed25519_key: decrypted.senderClaimedEd25519Key ?? null,
    forwarder: decrypted.forwarder?.toString() ?? null,
    forwarder_device: decrypted.forwarderDevice?.toString() ?? null,
    verification_state: {
      color: SHIELD_COLORS.get(shield.color) ?? String(shield.color),
      code: shield.code === undefined ? null : SHIELD_CODES.get(shield.code) ?? String(shield.code),
      strict_color: SHIELD_COLORS.get(strict.color) ?? String(strict.color),
      strict_code: strict.code === undefined ? null : SHIELD_CODES.get(strict.code) ?? String(strict.code),
    },
  };
}


// ---------------------------------------------------------------- SAS verification (issue 13)

const REQUEST_PHASES = new Map([
  [sdk.VerificationRequestPhase.Created, "created"],
  [sdk.VerificationRequestPhase.Requested, "requested"],
  [sdk.VerificationRequestPhase.Ready, "ready"],
  [sdk.VerificationRequestPhase.Transitioned, "transitioned"],
  [sdk.VerificationRequestPhase.Done, "done"],
  [sdk.VerificationRequestPhase.Cancelled, "cancelled"],
]);

// The wasm machine forgets a flow once it is done or cancelled; the peer keeps the objects it saw, by
// "user|flow", so that the final state can still be read.
const seenRequests = new Map();
const seenSas = new Map();

function lookupRequest(m, userId, flowId) {
  const key = `${userId}|${flowId}`;
  const live = m.getVerificationRequest(new sdk.UserId(userId), flowId);
  if (live) seenRequests.set(key, live);
  return live ?? seenRequests.get(key);
}

function lookupSas(m, userId, flowId) {
  const key = `${userId}|${flowId}`;
  let live = m.getVerification(new sdk.UserId(userId), flowId);
  if (!(live instanceof sdk.Sas)) live = lookupRequest(m, userId, flowId)?.getVerification();
  if (live instanceof sdk.Sas) seenSas.set(key, live);
  return live instanceof sdk.Sas ? live : seenSas.get(key);
}

/** The verification request `flow_id` with `user_id`, or a `unknown_verification` error. */
function verificationRequest(m, req) {
  const r = lookupRequest(m, str(req, "user_id"), str(req, "flow_id"));
  if (!r) throw new PeerError("unknown_verification", `no verification request ${req.flow_id} with ${req.user_id}`);
  return r;
}

/** The SAS of flow `flow_id` with `user_id`, or a `no_sas` error. */
function sasOf(m, req) {
  const v = lookupSas(m, str(req, "user_id"), str(req, "flow_id"));
  if (!v) throw new PeerError("no_sas", `flow ${req.flow_id} with ${req.user_id} has no SAS (yet)`);
  return v;
}

function requestList(...requests) {
  return requests.filter((r) => r !== undefined && r !== null).map((r) => describeRequest(r, "to_device"));
}

function cancelInfo(info) {
  if (!info) return null;
  return { code: info.cancelCode(), reason: info.reason(), cancelled_by_us: info.cancelledbyUs() };
}

function describeSas(sas) {
  if (!sas) return null;
  const emoji = sas.emoji();
  const index = sas.emojiIndex();
  const decimals = sas.decimals();
  return {
    can_be_presented: sas.canBePresented(),
    has_been_accepted: sas.hasBeenAccepted(),
    have_we_confirmed: sas.haveWeConfirmed(),
    we_started: sas.weStarted(),
    is_done: sas.isDone(),
    is_cancelled: sas.isCancelled(),
    timed_out: sas.timedOut(),
    cancel_info: cancelInfo(sas.cancelInfo()),
    emoji: emoji ? emoji.map((e, i) => ({ index: index ? index[i] : null, symbol: e.symbol, description: e.description })) : null,
    decimals: decimals ? Array.from(decimals) : null,
  };
}

// ---------------------------------------------------------------- MSC4268 room key bundles (issue 14)

const COLLECT_STRATEGIES = {
  identity_based: () => sdk.CollectStrategy.identityBasedStrategy(),
  all_devices: () => sdk.CollectStrategy.allDevices(),
};

const BUNDLE_OPS = {
  async "bundle.build"(req) {
    const a = await requireMachine().buildRoomKeyBundle(new sdk.RoomId(str(req, "room_id")));
    if (!a) return { bundle: null };
    return {
      bundle: {
        ciphertext: Buffer.from(a.encryptedData).toString("base64"),
        encryption_info: JSON.parse(a.mediaEncryptionInfo),
      },
    };
  },

  async "bundle.share"(req) {
    const m = requireMachine();
    const make = COLLECT_STRATEGIES[req.strategy ?? "identity_based"];
    if (make === undefined) throw new PeerError("bad_request", `strategy: expected one of ${Object.keys(COLLECT_STRATEGIES)}`);
    const requests = await m.shareRoomKeyBundleData(
      new sdk.UserId(str(req, "user_id")),
      new sdk.RoomId(str(req, "room_id")),
      str(req, "url"),
      JSON.stringify(obj(req, "encryption_info")),
      make(),
    );
    return { requests: requests.map((r) => describeRequest(r, "to_device")) };
  },

  async "bundle.received"(req) {
    const d = await requireMachine().getReceivedRoomKeyBundleData(new sdk.RoomId(str(req, "room_id")), new sdk.UserId(str(req, "inviter")));
    if (!d) return { found: false };
    return { found: true, room_id: d.roomId.toString(), sender: d.senderUser.toString(), url: d.url };
  },

  async "bundle.receive"(req) {
    const m = requireMachine();
    const d = await m.getReceivedRoomKeyBundleData(new sdk.RoomId(str(req, "room_id")), new sdk.UserId(str(req, "inviter")));
    if (!d) throw new PeerError("no_bundle", `no room key bundle from ${req.inviter} for ${req.room_id}`);
    try {
      await m.receiveRoomKeyBundle(d, new Uint8Array(Buffer.from(str(req, "ciphertext"), "base64")));
    } catch (e) {
      throw new PeerError("bundle_rejected", errorText(e));
    }
    return { imported: true };
  },
};

const OPS = {
  async "peer.version"() {
    const v = sdk.getVersions();
    return { runtime: "node", node: process.versions.node, matrix_sdk_crypto: v.matrix_sdk_crypto, vodozemac: v.vodozemac };
  },

  async "machine.init"(req) {
    if (machine !== null) throw new PeerError("bad_state", "machine already initialised in this peer");
    const userId = str(req, "user_id");
    const deviceId = str(req, "device_id");
    const store = await sdk.StoreHandle.open(undefined, undefined, stderrLogger);
    machine = await sdk.OlmMachine.initFromStore(new sdk.UserId(userId), new sdk.DeviceId(deviceId), store, stderrLogger);
    return { user_id: userId, device_id: deviceId, identity_keys: identityKeys(machine) };
  },

  async "machine.identity_keys"() {
    return identityKeys(requireMachine());
  },

  async "machine.receive_sync_changes"(req) {
    const m = requireMachine();
    const events = req.to_device_events ?? [];
    if (!Array.isArray(events)) throw new PeerError("bad_request", "to_device_events: expected an array");
    const lists = obj(req, "changed_devices", {});
    const changed = userIds(strArray(lists, "changed", []));
    const left = userIds(strArray(lists, "left", []));
    const counts = new Map(Object.entries(obj(req, "one_time_key_counts", {})));
    const fallback = req.unused_fallback_key_types === undefined || req.unused_fallback_key_types === null
      ? undefined
      : new Set(strArray(req, "unused_fallback_key_types"));
    const processed = await m.receiveSyncChanges(JSON.stringify(events), new sdk.DeviceLists(changed, left), counts, fallback);
    return { events: processed.map((ev) => describeProcessed(ev, req.include_content === true)) };
  },

  async "machine.outgoing_requests"() {
    const m = requireMachine();
    const requests = await m.outgoingRequests();
    return { requests: requests.map((r) => describeRequest(r)) };
  },

  async "machine.mark_request_as_sent"(req) {
    const m = requireMachine();
    const id = str(req, "request_id");
    const typeName = str(req, "type");
    if (syntheticIds.has(id)) {
      syntheticIds.delete(id);
      return { marked: false };
    }
    const type = REQUEST_TYPES_BY_NAME.get(typeName);
    if (type === undefined) {
      throw new PeerError("bad_request", `type: expected one of ${[...REQUEST_TYPES_BY_NAME.keys()]}, got ${JSON.stringify(typeName)}`);
    }
    const response = obj(req, "response", {});
    await m.markRequestAsSent(id, type, JSON.stringify(response));
    return { marked: true };
  },

  async "machine.update_tracked_users"(req) {
    await requireMachine().updateTrackedUsers(userIds(strArray(req, "users")));
    return {};
  },

  async "machine.tracked_users"() {
    const users = await requireMachine().trackedUsers();
    return { users: [...users].map((u) => u.toString()).sort() };
  },

  async "machine.get_missing_sessions"(req) {
    const r = await requireMachine().getMissingSessions(userIds(strArray(req, "users")));
    return { request: r ? describeRequest(r) : null };
  },

  async "machine.share_room_key"(req) {
    const m = requireMachine();
    const roomId = new sdk.RoomId(str(req, "room_id"));
    const users = userIds(strArray(req, "users"));
    const settings = encryptionSettings(obj(req, "settings", {}));
    const requests = await m.shareRoomKey(roomId, users, settings);
    return { requests: requests.map((r) => describeRequest(r)) };
  },

  async "machine.encrypt_room_event"(req) {
    const m = requireMachine();
    const roomId = new sdk.RoomId(str(req, "room_id"));
    const content = await m.encryptRoomEvent(roomId, str(req, "type"), JSON.stringify(obj(req, "content")));
    return { content: JSON.parse(content) };
  },

  async "machine.decrypt_room_event"(req) {
    return decrypt(requireMachine(), req);
  },

  // Batch forms for benchmarks: one line carries many events, so the JSON transport is paid once.
  async "machine.encrypt_room_events"(req) {
    const m = requireMachine();
    const type = str(req, "type");
    const contents = req.contents;
    if (!Array.isArray(contents)) throw new PeerError("bad_request", "contents: expected an array of objects");
    const out = [];
    for (const content of contents) {
      out.push(JSON.parse(await m.encryptRoomEvent(new sdk.RoomId(str(req, "room_id")), type, JSON.stringify(content))));
    }
    return { contents: out };
  },

  async "machine.decrypt_room_events"(req) {
    const m = requireMachine();
    const events = req.events;
    if (!Array.isArray(events)) throw new PeerError("bad_request", "events: expected an array of events");
    const settings = new sdk.DecryptionSettings(sdk.TrustRequirement.Untrusted);
    let decrypted = 0;
    const failures = {};
    for (const event of events) {
      try {
        await m.decryptRoomEvent(JSON.stringify(event), new sdk.RoomId(str(req, "room_id")), settings);
        decrypted++;
      } catch (e) {
        const kind = (await decryptionError(e)).kind;
        failures[kind] = (failures[kind] ?? 0) + 1;
      }
    }
    return { decrypted, failures };
  },

  async "machine.invalidate_group_session"(req) {
    const invalidated = await requireMachine().invalidateGroupSession(new sdk.RoomId(str(req, "room_id")));
    return { invalidated };
  },

  async "machine.request_room_key"(req) {
    // The wasm API has no explicit "request this key" call: the machine queues an m.room_key_request
    // to the user's own devices when a decryption fails for a missing key while room key requests are
    // enabled. So we make sure they are enabled, attempt the decryption, and report the queued requests.
    const m = requireMachine();
    m.roomKeyRequestsEnabled = true;
    let decryptedNow = false;
    try {
      await decrypt(m, req);
      decryptedNow = true;
    } catch (e) {
      if (!(e instanceof PeerError)) throw e;
    }
    const requests = (await m.outgoingRequests())
      .map((r) => describeRequest(r))
      .filter((r) => r.type === "to_device" && r.event_type === "m.room_key_request");
    return { already_decryptable: decryptedNow, requests };
  },

  async "machine.configure"(req) {
    const m = requireMachine();
    if (req.room_key_forwarding !== undefined) m.roomKeyForwardingEnabled = req.room_key_forwarding === true;
    if (req.room_key_requests !== undefined) m.roomKeyRequestsEnabled = req.room_key_requests === true;
    return { room_key_forwarding: m.roomKeyForwardingEnabled, room_key_requests: m.roomKeyRequestsEnabled };
  },

  async "machine.bootstrap_cross_signing"(req) {
    const m = requireMachine();
    const b = await m.bootstrapCrossSigning(req.reset !== false);
    const requests = [];
    if (b.uploadKeysRequest) requests.push(describeRequest(b.uploadKeysRequest));
    requests.push({
      request_id: syntheticId("signing_keys_upload"),
      type: "signing_keys_upload",
      body: parseJson(b.uploadSigningKeysRequest.body),
    });
    requests.push(describeRequest(b.uploadSignaturesRequest, "signature_upload"));
    return { requests };
  },

  async "machine.cross_signing_status"() {
    const s = await requireMachine().crossSigningStatus();
    return { has_master: s.hasMaster, has_self_signing: s.hasSelfSigning, has_user_signing: s.hasUserSigning };
  },

  async "machine.get_device"(req) {
    const d = await requireMachine().getDevice(new sdk.UserId(str(req, "user_id")), new sdk.DeviceId(str(req, "device_id")));
    return d ? describeDevice(d) : { found: false };
  },

  async "machine.verify_own_device"(req) {
    const m = requireMachine();
    const deviceId = str(req, "device_id");
    const d = await m.getDevice(m.userId, new sdk.DeviceId(deviceId));
    if (!d) throw new PeerError("unknown_device", `no device ${deviceId} known for our own user (query keys first)`);
    const r = await d.verify();
    return { request: describeRequest(r, "signature_upload") };
  },

  async "machine.set_local_trust"(req) {
    const m = requireMachine();
    const trust = LOCAL_TRUST[str(req, "trust")];
    if (trust === undefined) throw new PeerError("bad_request", `trust: expected one of ${Object.keys(LOCAL_TRUST)}`);
    const d = await m.getDevice(new sdk.UserId(str(req, "user_id")), new sdk.DeviceId(str(req, "device_id")));
    if (!d) throw new PeerError("unknown_device", `device ${req.user_id}/${req.device_id} is not known`);
    await d.setLocalTrust(trust);
    return describeDevice(await m.getDevice(new sdk.UserId(req.user_id), new sdk.DeviceId(req.device_id)));
  },

  // SAS verification (docs/interop-protocol.md, "Rust OlmMachine peer", "verification.*" and "sas.*").
  async "verification.request"(req) {
    const m = requireMachine();
    const d = await m.getDevice(new sdk.UserId(str(req, "user_id")), new sdk.DeviceId(str(req, "device_id")));
    if (!d) throw new PeerError("unknown_device", `device ${req.user_id}/${req.device_id} is not known (query keys first)`);
    const [request, toDevice] = d.requestVerification([sdk.VerificationMethod.SasV1]);
    seenRequests.set(`${req.user_id}|${request.flowId}`, request);
    return { flow_id: request.flowId, requests: requestList(toDevice) };
  },

  async "verification.accept"(req) {
    const r = verificationRequest(requireMachine(), req);
    return { requests: requestList(r.acceptWithMethods([sdk.VerificationMethod.SasV1])) };
  },

  async "verification.start_sas"(req) {
    const r = verificationRequest(requireMachine(), req);
    const started = await r.startSas();
    if (started) seenSas.set(`${req.user_id}|${req.flow_id}`, started[0]);
    return { requests: started ? requestList(started[1]) : [] };
  },

  async "verification.cancel"(req) {
    const r = verificationRequest(requireMachine(), req);
    return { requests: requestList(r.cancel()) };
  },

  async "verification.state"(req) {
    const m = requireMachine();
    const r = lookupRequest(m, str(req, "user_id"), str(req, "flow_id"));
    const v = lookupSas(m, req.user_id, req.flow_id);
    return {
      request: r
        ? {
            phase: REQUEST_PHASES.get(r.phase()) ?? String(r.phase()),
            we_started: r.weStarted(),
            is_ready: r.isReady(),
            is_done: r.isDone(),
            is_cancelled: r.isCancelled(),
            other_device_id: r.otherDeviceId?.toString() ?? null,
            cancel_info: cancelInfo(r.cancelInfo),
          }
        : null,
      sas: v instanceof sdk.Sas ? describeSas(v) : null,
    };
  },

  async "verification.pending"(req) {
    const m = requireMachine();
    const list = m.getVerificationRequests(new sdk.UserId(str(req, "user_id")));
    list.forEach((r) => seenRequests.set(`${req.user_id}|${r.flowId}`, r));
    return {
      requests: list.map((r) => ({
        flow_id: r.flowId,
        phase: REQUEST_PHASES.get(r.phase()) ?? String(r.phase()),
        we_started: r.weStarted(),
      })),
    };
  },

  async "sas.accept"(req) {
    return { requests: requestList(sasOf(requireMachine(), req).accept()) };
  },

  async "sas.confirm"(req) {
    const sas = sasOf(requireMachine(), req);
    return { requests: requestList(...(await sas.confirm())) };
  },

  async "sas.cancel"(req) {
    const sas = sasOf(requireMachine(), req);
    const code = req.code === undefined ? "m.user" : str(req, "code");
    return { requests: requestList(sas.cancelWithCode(code)) };
  },

  // MSC4268 room key bundles (issue 14; docs/interop-protocol.md, "Room key bundle ops").
  ...BUNDLE_OPS,

  async quit() {
    quitRequested = true;
    return {};
  },

  async "machine.close"() {
    if (machine !== null) {
      machine.close();
      machine = null;
    }
    return {};
  },
};

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { id: null, error: { kind: "bad_request", message: `not JSON: ${errorText(e)}` } };
  }
  const id = req?.id ?? null;
  if (req === null || typeof req !== "object" || typeof req.op !== "string") {
    return { id, error: { kind: "bad_request", message: "expected an object with a string 'op'" } };
  }
  const op = OPS[req.op];
  if (op === undefined) return { id, error: { kind: "unknown_op", message: `unknown op '${req.op}'` } };
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  try {
    const result = await op(req);
    return { id, result, elapsed_ms: elapsed() };
  } catch (e) {
    if (e instanceof PeerError) return { id, error: { kind: e.kind, message: e.message, ...e.extra } };
    return { id, error: { kind: "internal", message: errorText(e) } };
  }
}

// Serve requests one at a time, in order: the machine is not re-entrant.
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
rl.on("line", (line) => {
  if (line.trim().length === 0) return;
  chain = chain.then(async () => {
    if (quitRequested) return;
    const reply = await handle(line);
    process.stdout.write(JSON.stringify(reply) + "\n");
    if (quitRequested) {
      rl.close();
    }
  });
});
rl.on("close", () => {
  chain.then(() => {
    if (machine !== null) machine.close();
    process.exit(0);
  });
});
