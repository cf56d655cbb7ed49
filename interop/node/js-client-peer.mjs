// matrix-js-sdk client peer: a real Matrix client (matrix-js-sdk 43 with its Rust crypto, in memory)
// against a real homeserver, driven by mxe2ee's end-to-end tests.
//
// Protocol (docs/interop-protocol.md, section "matrix-js-sdk client peer"): JSON lines.
//   stdin:  {"id":1,"op":"login","homeserver":"http://127.0.0.1:8008","user":"alice","password":"p"}
//           (arguments may also be nested: {"id":1,"op":"login","args":{...}})
//   stdout: {"id":1,"result":{...}}  or  {"id":1,"error":{"kind":"...","message":"..."}}
// Requests are handled strictly in order (a wait blocks the ones behind it). One process is one
// device. Logs go to stderr only (MXE2EE_JS_LOG = debug | info | warn | error | silent).
import { note } from "./lib/node-env.mjs";
import { createInterface } from "node:readline";
import { createHash } from "node:crypto";
import { ClientError, JsClient, errorReply } from "./lib/client.mjs";

let jc = null;
let quitRequested = false;

function requireClient() {
  if (jc === null) throw new ClientError("not_logged_in", "call login (or use_token) first");
  return jc;
}

function str(args, name, { optional = false } = {}) {
  const v = args[name];
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw new ClientError("bad_request", `'${name}': missing`);
  }
  if (typeof v !== "string" || v.length === 0) {
    throw new ClientError("bad_request", `'${name}': expected a non-empty string`);
  }
  return v;
}

function int(args, name, dflt, { min = 0, max = 3_600_000 } = {}) {
  const v = args[name];
  if (v === undefined || v === null) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ClientError("bad_request", `'${name}': expected an integer in [${min}, ${max}]`);
  }
  return v;
}

function bool(args, name, dflt) {
  const v = args[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") throw new ClientError("bad_request", `'${name}': expected a boolean`);
  return v;
}

function strList(args, name) {
  const v = args[name] ?? [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new ClientError("bad_request", `'${name}': expected an array of strings`);
  }
  return v;
}

const OPS = {
  async login(a) {
    if (jc !== null) throw new ClientError("bad_state", "already logged in");
    const c = new JsClient(str(a, "homeserver"));
    const r = await c.login({
      user: str(a, "user"),
      password: str(a, "password"),
      deviceId: str(a, "device_id", { optional: true }),
      deviceName: str(a, "device_name", { optional: true }),
    });
    jc = c;
    return r;
  },

  async use_token(a) {
    if (jc !== null) throw new ClientError("bad_state", "already logged in");
    const c = new JsClient(str(a, "homeserver"));
    const r = c.useToken({ userId: str(a, "user_id"), deviceId: str(a, "device_id"), accessToken: str(a, "access_token") });
    jc = c;
    return r;
  },

  async start(a) {
    return requireClient().start({
      initialSyncLimit: int(a, "initial_sync_limit", 50, { min: 0, max: 1000 }),
      timeoutMs: int(a, "timeout_ms", 60_000),
      recoveryKey: str(a, "recovery_key", { optional: true }),
      encryptedStateEvents: bool(a, "encrypted_state_events", false),
    });
  },

  async key_backup_status() {
    return requireClient().keyBackupStatus();
  },

  async restore_from_recovery() {
    return requireClient().restoreFromRecovery();
  },

  async create_room(a) {
    const hv = str(a, "history_visibility", { optional: true });
    if (hv !== undefined && !["invited", "joined", "shared", "world_readable"].includes(hv)) {
      throw new ClientError("bad_request", "'history_visibility': invited | joined | shared | world_readable");
    }
    const roomId = await requireClient().createRoom({
      invite: strList(a, "invite"),
      historyVisibility: hv,
      name: str(a, "name", { optional: true }),
      encrypted: bool(a, "encrypted", true),
      timeoutMs: int(a, "timeout_ms", 30_000),
    });
    return { room_id: roomId };
  },

  async invite(a) {
    return requireClient().invite(str(a, "room_id"), str(a, "user_id"));
  },

  async join(a) {
    return requireClient().join(str(a, "room_id"), int(a, "timeout_ms", 30_000));
  },

  async to_device_received(a) {
    return requireClient().toDeviceReceived(str(a, "type", { optional: true }));
  },

  async wait_for_member(a) {
    return requireClient().waitForMember(
      str(a, "room_id"),
      str(a, "user_id"),
      str(a, "membership", { optional: true }) ?? "join",
      int(a, "timeout_ms", 30_000),
    );
  },

  async send_text(a) {
    const body = a.body;
    if (typeof body !== "string") throw new ClientError("bad_request", "'body': expected a string");
    return requireClient().sendMessage(
      str(a, "room_id"),
      { msgtype: str(a, "msgtype", { optional: true }) ?? "m.text", body },
      { allowUnencrypted: bool(a, "allow_unencrypted", false), timeoutMs: int(a, "timeout_ms", 30_000) },
    );
  },

  async wait_for_event(a) {
    const match = {};
    for (const k of ["sender", "type", "msgtype", "body", "body_prefix", "decryption"]) {
      const v = str(a, k, { optional: true });
      if (v !== undefined) match[k] = v;
    }
    if (a.body === "") match.body = "";
    match.not_event_ids = strList(a, "not_event_ids");
    const event = await requireClient().waitForEvent(str(a, "room_id"), match, int(a, "timeout_ms", 30_000));
    return { event };
  },

  async events(a) {
    return { events: await requireClient().events(str(a, "room_id")) };
  },

  async device_info() {
    return requireClient().deviceInfo();
  },

  async fingerprint() {
    const d = await requireClient().deviceInfo();
    return { ed25519: d.ed25519, fingerprint: d.fingerprint };
  },

  async user_devices(a) {
    return { devices: await requireClient().userDevices(str(a, "user_id")) };
  },

  async device_verification_status(a) {
    return { status: await requireClient().deviceVerificationStatus(str(a, "user_id"), str(a, "device_id")) };
  },

  async user_verification_status(a) {
    return requireClient().userVerificationStatus(str(a, "user_id"));
  },

  async set_room_key_requests(a) {
    if (typeof a.enabled !== "boolean") throw new ClientError("bad_request", "'enabled': expected a boolean");
    return requireClient().setRoomKeyRequests(a.enabled);
  },

  async verification_request(a) {
    return requireClient().requestVerification(str(a, "user_id"), str(a, "device_id"));
  },

  async verification_wait_request(a) {
    return requireClient().waitVerificationRequest(int(a, "timeout_ms", 30_000));
  },

  async verification_accept(a) {
    return requireClient().acceptVerification(str(a, "flow_id"));
  },

  async verification_start_sas(a) {
    return requireClient().startSas(str(a, "flow_id"), int(a, "timeout_ms", 30_000));
  },

  async verification_sas(a) {
    return requireClient().waitSas(str(a, "flow_id"), int(a, "timeout_ms", 30_000));
  },

  async verification_confirm(a) {
    return requireClient().confirmSas(str(a, "flow_id"));
  },

  async verification_mismatch(a) {
    return requireClient().mismatchSas(str(a, "flow_id"));
  },

  async verification_wait_end(a) {
    return requireClient().waitVerificationEnd(str(a, "flow_id"), int(a, "timeout_ms", 30_000));
  },

  async set_device_verified(a) {
    return { status: await requireClient().setDeviceVerified(str(a, "user_id"), str(a, "device_id"), bool(a, "verified", true)) };
  },

  async wait_for_to_device(a) {
    return requireClient().waitForToDevice(str(a, "event_type"), int(a, "timeout_ms", 30_000));
  },

  async retry_decryption(a) {
    return requireClient().retryDecryption(str(a, "room_id"));
  },

  async delay_to_device(a) {
    const eventType = a.event_type === null ? null : (str(a, "event_type", { optional: true }) ?? "m.room.encrypted");
    const count = a.count === undefined || a.count === null ? null : int(a, "count", null, { min: 1, max: 1_000_000 });
    return requireClient().delayToDevice({ ms: int(a, "ms", 0), eventType, count });
  },

  async flush_to_device() {
    return requireClient().flushToDevice();
  },

  async upload_encrypted_file(a) {
    const b64 = str(a, "data_base64");
    const data = Buffer.from(b64, "base64");
    return requireClient().sendEncryptedFile(str(a, "room_id"), data, {
      name: str(a, "name", { optional: true }),
      mimetype: str(a, "mimetype", { optional: true }),
      msgtype: str(a, "msgtype", { optional: true }),
    });
  },

  async download_decrypt(a) {
    const c = requireClient();
    let file = a.file;
    if (file === undefined) {
      const roomId = str(a, "room_id");
      const eventId = str(a, "event_id");
      const ev = (await c.events(roomId)).find((e) => e.event_id === eventId);
      if (!ev) throw new ClientError("not_found", `no event ${eventId} in ${roomId}`);
      file = ev.content?.file;
    }
    if (file === null || typeof file !== "object") throw new ClientError("bad_request", "'file': expected an EncryptedFile object");
    const data = await c.downloadDecrypt(file, int(a, "max_bytes", 50 * 1024 * 1024, { max: 1 << 30 }));
    return {
      data_base64: data.toString("base64"),
      size: data.length,
      sha256_hex: createHash("sha256").update(data).digest("hex"),
    };
  },

  // ------------------------------------------------ encrypted state (issue 16, MSC4362)

  async create_room_encrypted_state(a) {
    return createRoomEncryptedState(requireClient(), a);
  },

  async set_state(a) {
    const content = a.content;
    if (content === null || typeof content !== "object" || Array.isArray(content)) {
      throw new ClientError("bad_request", "'content': expected an object");
    }
    const stateKey = str(a, "state_key", { optional: true }) ?? "";
    const r = await requireClient().requireStarted().sendStateEvent(str(a, "room_id"), str(a, "type"), content, stateKey);
    return { event_id: r.event_id };
  },

  async wait_for_state(a) {
    return waitForState(requireClient(), a);
  },

  // History sharing (MSC4268), docs/interop-protocol.md "History sharing ops".
  async bootstrap_cross_signing(a) {
    return requireClient().bootstrapCrossSigning(str(a, "password", { optional: true }));
  },

  async room_history(a) {
    const c = requireClient();
    return { events: await c.roomHistory(str(a, "room_id"), int(a, "limit", 50, { min: 1, max: 1000 }), int(a, "timeout_ms", 30_000)) };
  },

  async decrypt_raw(a) {
    const event = a.event;
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      throw new ClientError("bad_request", "'event': expected an event object");
    }
    return requireClient().decryptRaw(str(a, "room_id"), event);
  },

  // ---- bridges (issue 15; docs/interop-protocol.md, "Bridge ops")

  async accept_invite(a) {
    return requireClient().acceptInvite({
      roomId: str(a, "room_id", { optional: true }),
      inviter: str(a, "inviter", { optional: true }),
      timeoutMs: int(a, "timeout_ms", 30_000),
    });
  },

  async encryption_info(a) {
    return requireClient().encryptionInfo(str(a, "room_id"), str(a, "event_id"));
  },

  async stop() {
    return requireClient().stop();
  },

  async logout() {
    const r = await requireClient().logout();
    jc = null;
    return r;
  },

  async info() {
    return { name: "js-client", ops: Object.keys(OPS) };
  },

  async quit() {
    quitRequested = true;
    if (jc !== null) jc.stop();
    return {};
  },
};

// ---------------------------------------------------------------- encrypted state (issue 16)

// Creates a private room whose m.room.encryption enables encrypted state (MSC4362's unstable field),
// invites `invite`, and gives `power_users` their power levels; waits until the room is encrypted.
async function createRoomEncryptedState(c, a) {
  const client = c.requireStarted();
  const invite = strList(a, "invite");
  const power = a.power_users ?? {};
  if (power === null || typeof power !== "object" || Array.isArray(power)) {
    throw new ClientError("bad_request", "'power_users': expected an object of user id -> level");
  }
  // Room version 12 (Synapse's default here) refuses the creator in users: creators are privileged.
  const users = {};
  for (const [user, level] of Object.entries(power)) {
    if (!Number.isInteger(level)) throw new ClientError("bad_request", `'power_users.${user}': expected an integer`);
    users[user] = level;
  }
  const { room_id: roomId } = await client.createRoom({
    preset: "private_chat",
    invite,
    initial_state: [
      {
        type: "m.room.encryption",
        state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2", "io.element.msc4362.encrypt_state_events": true },
      },
    ],
    power_level_content_override: { users },
  });
  await c.waitForRoom(roomId, true, int(a, "timeout_ms", 30_000));
  return { room_id: roomId, encrypt_state_events: await client.getCrypto().isStateEncryptionEnabledInRoom?.(roomId) ?? null };
}

// Waits for the room's latest state event of `type`/`state_key` (after decryption) whose
// content[field] equals `value` (any, if no field); reports it as the client reads it, with its wire
// type and wire (packed) state key.
async function waitForState(c, a) {
  const client = c.requireStarted();
  const roomId = str(a, "room_id");
  const type = str(a, "type");
  const stateKey = str(a, "state_key", { optional: true }) ?? "";
  const field = str(a, "field", { optional: true });
  const value = a.value;
  const deadline = Date.now() + int(a, "timeout_ms", 30_000);
  for (;;) {
    const candidates = [...c.roomEvents(roomId)];
    const room = client.getRoom(roomId);
    if (room) {
      for (const byKey of room.currentState.events.values()) for (const ev of byKey.values()) candidates.push(ev);
    }
    let found = null;
    for (const ev of candidates) {
      if (!ev.isState()) continue;
      if (ev.isEncrypted() && (ev.shouldAttemptDecryption() || ev.isBeingDecrypted())) {
        await client.decryptEventIfNeeded(ev);
      }
      if (ev.getType() !== type || ev.getStateKey() !== stateKey) continue;
      if (field !== undefined && ev.getContent()?.[field] !== value) continue;
      if (found === null || ev.getTs() >= found.getTs()) found = ev;
    }
    if (found !== null) {
      const d = await c.describe(found);
      return { ...d, wire_state_key: found.getWireStateKey() ?? null };
    }
    if (Date.now() > deadline) {
      throw new ClientError("timeout", `no ${type}/${JSON.stringify(stateKey)} state matching in ${roomId}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { id: null, error: { kind: "bad_request", message: `not JSON: ${e.message}` } };
  }
  const id = req?.id ?? null;
  if (req === null || typeof req !== "object" || Array.isArray(req) || typeof req.op !== "string") {
    return { id, error: { kind: "bad_request", message: "expected an object with a string 'op'" } };
  }
  const op = Object.hasOwn(OPS, req.op) ? OPS[req.op] : undefined;
  if (op === undefined) return { id, error: { kind: "unknown_op", message: `unknown op '${req.op}'` } };
  const args = req.args !== undefined && req.args !== null && typeof req.args === "object" ? req.args : req;
  try {
    return { id, result: (await op(args)) ?? {} };
  } catch (e) {
    const error = errorReply(e);
    if (error.kind === "internal") note(`[js-client-peer] ${req.op} failed:`, e?.stack ?? e);
    return { id, error };
  }
}

// Serve requests one at a time, in order.
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
rl.on("line", (line) => {
  if (line.trim().length === 0) return;
  chain = chain.then(async () => {
    if (quitRequested) return;
    const reply = await handle(line);
    process.stdout.write(JSON.stringify(reply) + "\n");
    if (quitRequested) rl.close();
  });
});
rl.on("close", () => {
  chain.then(() => {
    if (jc !== null) jc.stop();
    // matrix-js-sdk keeps timers alive; end the process once every reply is out.
    process.stdout.write("", () => process.exit(0));
  });
});
