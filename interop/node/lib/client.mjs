// A real Matrix client for mxe2ee's end-to-end tests and demo: matrix-js-sdk 43 with its Rust crypto
// (matrix-sdk-crypto-wasm, the crypto of Element Web), in memory, against a real homeserver.
// Used by js-client-peer.mjs (JSON lines for the Java tests) and chat.mjs (a terminal chat).
//
// One JsClient = one device. Keys live in memory only: a stopped client cannot come back as the same
// device (log in again for a new one).
import "./node-env.mjs";
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as sdk from "matrix-js-sdk";
import * as RustSdkCryptoJs from "@matrix-org/matrix-sdk-crypto-wasm";
import {
  CryptoEvent,
  EventShieldColour,
  EventShieldReason,
  VerificationPhase,
  VerificationRequestEvent,
  VerifierEvent,
  decodeRecoveryKey,
} from "matrix-js-sdk/lib/crypto-api/index.js";

/** An error with a stable `kind` for the protocol; `extra` fields are copied into the error reply. */
export class ClientError extends Error {
  constructor(kind, message, extra = {}) {
    super(message);
    this.kind = kind;
    this.extra = extra;
  }
}

const SHIELD_COLOURS = new Map([
  [EventShieldColour.NONE, "none"],
  [EventShieldColour.GREY, "grey"],
  [EventShieldColour.RED, "red"],
]);
const SHIELD_REASONS = new Map(
  Object.entries(EventShieldReason)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v, k.toLowerCase()]),
);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unpadded = (b64) => b64.replace(/=+$/, "");

/** Polls `check` (may be async) every `stepMs` until it returns a value other than undefined/false. */
async function pollUntil(check, timeoutMs, what, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() >= deadline) throw new ClientError("timeout", `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export class JsClient {
  /** @param {string} baseUrl homeserver base URL, e.g. http://127.0.0.1:8008 */
  constructor(baseUrl) {
    if (typeof baseUrl !== "string" || !/^https?:\/\//.test(baseUrl)) {
      throw new ClientError("bad_request", `homeserver: expected an http(s) URL, got ${JSON.stringify(baseUrl)}`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.session = null; // {userId, deviceId, accessToken}
    this.client = null;
    this.started = false;
    /** roomId -> MatrixEvent[] in arrival order (live timeline events, initial sync included). */
    this.timelines = new Map();
    /** Fault injection state for to-device sends, see delayToDevice. */
    this.toDeviceFault = null;
    this.heldToDevice = new Set();
    /** flowId -> {request, verifier, sas, verifying} for to-device verifications (see verification ops). */
    this.verifications = new Map();
    /** Flow ids of verification requests received, in arrival order, not yet taken by waitVerificationRequest. */
    this.incomingVerifications = [];
    /** To-device events received (as the SDK emits them, decrypted), the last 500 (waitForToDevice). */
    this.toDeviceEvents = [];
    /** Decrypted to-device messages received since start: ids only, never keys (toDeviceReceived). */
    this.toDeviceLog = [];
  }

  // ---------------------------------------------------------------- session

  /** Password login; `user` is a localpart or a full user id. Returns {user_id, device_id}. */
  async login({ user, password, deviceId, deviceName }) {
    if (this.session) throw new ClientError("bad_state", "already logged in");
    const anon = sdk.createClient({ baseUrl: this.baseUrl });
    const body = {
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      initial_device_display_name: deviceName ?? "mxe2ee js-client",
    };
    if (deviceId) body.device_id = deviceId;
    const res = await anon.loginRequest(body);
    this.session = { userId: res.user_id, deviceId: res.device_id, accessToken: res.access_token };
    return { user_id: res.user_id, device_id: res.device_id };
  }

  /** Uses an existing access token (the device must be new to this in-memory crypto). */
  useToken({ userId, deviceId, accessToken }) {
    if (this.session) throw new ClientError("bad_state", "already logged in");
    this.session = { userId, deviceId, accessToken };
    return { user_id: userId, device_id: deviceId };
  }

  requireSession() {
    if (!this.session) throw new ClientError("not_logged_in", "log in first");
    return this.session;
  }

  requireStarted() {
    if (!this.started) throw new ClientError("not_started", "start the client first");
    return this.client;
  }

  /**
   * Creates the MatrixClient, its Rust crypto (in-memory store) and starts syncing; resolves after the
   * first sync was processed.
   */
  async start({ initialSyncLimit = 50, timeoutMs = 60_000, recoveryKey = undefined, encryptedStateEvents = false } = {}) {
    const s = this.requireSession();
    if (this.started) throw new ClientError("bad_state", "already started");
    // With a recovery key, this client opens the account's secret storage like Element does when
    // the user types the key: every secret-storage key request is answered with it.
    const cryptoCallbacks =
      recoveryKey === undefined
        ? {}
        : {
            getSecretStorageKey: async ({ keys }) => {
              const keyId = Object.keys(keys)[0];
              return [keyId, decodeRecoveryKey(recoveryKey)];
            },
          };
    const client = sdk.createClient({
      baseUrl: this.baseUrl,
      userId: s.userId,
      deviceId: s.deviceId,
      accessToken: s.accessToken,
      timelineSupport: true,
      cryptoCallbacks,
      // MSC4362 (issue 16): encrypt state in rooms whose m.room.encryption asks for it, decrypt it.
      enableEncryptedStateEvents: encryptedStateEvents,
    });
    this.client = client;
    this.installToDeviceInterceptor(client.http);
    await client.initRustCrypto({ useIndexedDB: false });
    client.on(sdk.ClientEvent.ToDeviceEvent, (ev) => {
      this.toDeviceEvents.push({ type: ev.getType(), sender: ev.getSender(), content: ev.getContent() });
      if (this.toDeviceEvents.length > 500) this.toDeviceEvents.shift();
    });
    client.on(CryptoEvent.VerificationRequestReceived, (request) => {
      if (!request.transactionId || request.roomId) return; // to-device flows only
      this.trackVerification(request);
      this.incomingVerifications.push(request.transactionId);
    });
    client.on(sdk.ClientEvent.ReceivedToDeviceMessage, ({ message, encryptionInfo }) => {
      if (this.toDeviceLog.length >= 10_000) return; // bounded: a test's worth
      const c = message?.content ?? {};
      this.toDeviceLog.push({
        type: message?.type ?? null,
        sender: message?.sender ?? null,
        encrypted: encryptionInfo != null,
        sender_device: encryptionInfo?.senderDevice ?? null,
        room_id: typeof c.room_id === "string" ? c.room_id : null,
        session_id: typeof c.session_id === "string" ? c.session_id : null,
      });
    });
    client.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
      if (!room || toStartOfTimeline) return;
      let list = this.timelines.get(room.roomId);
      if (!list) this.timelines.set(room.roomId, (list = []));
      if (!list.includes(event)) list.push(event);
    });
    const ready = new Promise((resolve, reject) => {
      const onSync = (state, _prev, data) => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
          client.off(sdk.ClientEvent.Sync, onSync);
          resolve();
        } else if (state === sdk.SyncState.Error && data?.error?.errcode === "M_UNKNOWN_TOKEN") {
          client.off(sdk.ClientEvent.Sync, onSync);
          reject(new ClientError("http", "the homeserver refused the access token", { errcode: "M_UNKNOWN_TOKEN" }));
        }
      };
      client.on(sdk.ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit, lazyLoadMembers: false });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new ClientError("timeout", `no first sync within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.started = true;
    return { user_id: s.userId, device_id: s.deviceId };
  }

  /** Stops syncing and the crypto; the access token stays valid. Idempotent. */
  stop() {
    if (this.client) {
      this.client.stopClient();
      this.started = false;
    }
    for (const job of this.heldToDevice) clearTimeout(job.timer);
    this.heldToDevice.clear();
    return {};
  }

  /** Logs the device out (the server deletes it), then stops. */
  async logout() {
    this.requireSession();
    if (this.client) {
      await this.client.logout(true);
    } else {
      await sdk.createClient({ baseUrl: this.baseUrl, accessToken: this.session.accessToken }).logout(true);
    }
    this.stop();
    this.session = null;
    return {};
  }

  /** This device's identity: user, device, Ed25519 and Curve25519 keys, and the Ed25519 key grouped by 4. */
  async deviceInfo() {
    const client = this.requireStarted();
    const keys = await client.getCrypto().getOwnDeviceKeys();
    return {
      user_id: client.getUserId(),
      device_id: client.getDeviceId(),
      ed25519: keys.ed25519,
      curve25519: keys.curve25519,
      fingerprint: keys.ed25519.match(/.{1,4}/g).join(" "),
    };
  }

  /** The devices this client knows for `userId` (downloaded when not yet tracked). */
  async userDevices(userId) {
    const client = this.requireStarted();
    const map = await client.getCrypto().getUserDeviceInfo([userId], true);
    const devices = map.get(userId) ?? new Map();
    const out = [];
    for (const [deviceId, d] of devices) {
      const status = await client.getCrypto().getDeviceVerificationStatus(userId, deviceId);
      out.push({
        device_id: deviceId,
        ed25519: d.getFingerprint() ?? null,
        curve25519: d.getIdentityKey() ?? null,
        display_name: d.displayName ?? null,
        verified: status?.isVerified() ?? false,
      });
    }
    return out;
  }

  /**
   * How this client's crypto judges `userId`'s device `deviceId` (getDeviceVerificationStatus),
   * after downloading the user's keys if they are not tracked yet; null for an unknown device.
   */
  async deviceVerificationStatus(userId, deviceId) {
    const client = this.requireStarted();
    await client.getCrypto().getUserDeviceInfo([userId], true);
    const s = await client.getCrypto().getDeviceVerificationStatus(userId, deviceId);
    if (s === null) return null;
    return {
      signed_by_owner: s.signedByOwner,
      cross_signing_verified: s.crossSigningVerified,
      locally_verified: s.localVerified,
      tofu: s.tofu,
      verified: s.isVerified(),
    };
  }

  /** How this client's crypto judges `userId`'s identity (getUserVerificationStatus). */
  async userVerificationStatus(userId) {
    const client = this.requireStarted();
    await client.getCrypto().getUserDeviceInfo([userId], true);
    const s = await client.getCrypto().getUserVerificationStatus(userId);
    return {
      known: s.known,
      cross_signing_verified: s.isCrossSigningVerified(),
      was_cross_signing_verified: s.wasCrossSigningVerified(),
      needs_user_approval: s.needsUserApproval,
      verified: s.isVerified(),
    };
  }

  // ---------------------------------------------------------------- rooms

  /**
   * Creates a room (encrypted unless `encrypted: false`) inviting `invite`, optionally with
   * `historyVisibility` (invited | joined | shared | world_readable); resolves once this client has
   * the room from sync and, when encrypted, its crypto knows the room is encrypted.
   */
  async createRoom({ invite = [], historyVisibility, name, encrypted = true, timeoutMs = 30_000 }) {
    const client = this.requireStarted();
    const initialState = [];
    if (encrypted) {
      initialState.push({ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } });
    }
    if (historyVisibility) {
      initialState.push({
        type: "m.room.history_visibility",
        state_key: "",
        content: { history_visibility: historyVisibility },
      });
    }
    const opts = { preset: "private_chat", invite, initial_state: initialState };
    if (name) opts.name = name;
    const { room_id: roomId } = await client.createRoom(opts);
    await this.waitForRoom(roomId, encrypted, timeoutMs);
    return roomId;
  }

  async waitForRoom(roomId, encrypted, timeoutMs = 30_000) {
    const client = this.requireStarted();
    await pollUntil(
      async () =>
        client.getRoom(roomId) !== null &&
        (!encrypted || (await client.getCrypto().isEncryptionEnabledInRoom(roomId))),
      timeoutMs,
      `room ${roomId} to arrive by sync${encrypted ? " as encrypted" : ""}`,
    );
  }

  async invite(roomId, userId) {
    await this.requireStarted().invite(roomId, userId);
    return {};
  }

  /**
   * The to-device messages received since start (after decryption), optionally of one type, as
   * {type, sender, encrypted, sender_device, room_id, session_id}: ids only, never key material.
   */
  toDeviceReceived(type) {
    this.requireStarted();
    return { messages: this.toDeviceLog.filter((m) => type === undefined || m.type === type) };
  }

  async join(roomId, timeoutMs = 30_000) {
    const client = this.requireStarted();
    await client.joinRoom(roomId);
    await pollUntil(
      () => client.getRoom(roomId)?.getMyMembership() === "join",
      timeoutMs,
      `our join of ${roomId} to arrive by sync`,
    );
    return {};
  }

  /** Waits until `userId` has `membership` (default join) in the room as seen by this client's sync. */
  async waitForMember(roomId, userId, membership = "join", timeoutMs = 30_000) {
    const client = this.requireStarted();
    await pollUntil(
      () => client.getRoom(roomId)?.getMember(userId)?.membership === membership,
      timeoutMs,
      `${userId} to be '${membership}' in ${roomId}`,
    );
    return {};
  }

  /** Encrypted rooms this client is joined to. */
  async encryptedRoomIds() {
    const client = this.requireStarted();
    const ids = [];
    for (const room of client.getRooms()) {
      if (room.getMyMembership() === "join" && (await client.getCrypto().isEncryptionEnabledInRoom(room.roomId))) {
        ids.push(room.roomId);
      }
    }
    return ids;
  }

  /**
   * Sends an m.room.message; refuses to send into an unencrypted (or not yet known) room unless
   * `allowUnencrypted`. Returns {event_id, encrypted}.
   */
  async sendMessage(roomId, content, { allowUnencrypted = false, timeoutMs = 30_000 } = {}) {
    const client = this.requireStarted();
    await pollUntil(() => client.getRoom(roomId) !== null, timeoutMs, `room ${roomId} to be known`);
    const encrypted = await client.getCrypto().isEncryptionEnabledInRoom(roomId);
    if (!encrypted && !allowUnencrypted) {
      throw new ClientError("not_encrypted", `room ${roomId} is not encrypted (pass allow_unencrypted to send anyway)`);
    }
    const { event_id: eventId } = await client.sendEvent(roomId, "m.room.message", content);
    return { event_id: eventId, encrypted };
  }

  // ---------------------------------------------------------------- events

  /** The recorded timeline events of a room, sent ones only (local echoes still pending are left out). */
  roomEvents(roomId) {
    const seen = new Set();
    const out = [];
    for (const ev of this.timelines.get(roomId) ?? []) {
      const id = ev.getId();
      if (ev.status !== null || !id || !id.startsWith("$") || seen.has(id)) continue;
      seen.add(id);
      out.push(ev);
    }
    return out;
  }

  /**
   * The protocol view of one event. `decryption`: plaintext (not encrypted), pending (decryption
   * running), decrypted, or failed (then `failure` = {code, reason}, `content` null).
   */
  async describe(ev) {
    const encrypted = ev.isEncrypted();
    let decryption = "plaintext";
    if (encrypted) {
      if (ev.isBeingDecrypted() || ev.shouldAttemptDecryption()) decryption = "pending";
      else if (ev.isDecryptionFailure()) decryption = "failed";
      else decryption = "decrypted";
    }
    const out = {
      event_id: ev.getId(),
      room_id: ev.getRoomId(),
      sender: ev.getSender(),
      type: ev.getType(),
      wire_type: ev.getWireType(),
      state_key: ev.getStateKey() ?? null,
      origin_server_ts: ev.getTs(),
      encrypted,
      decryption,
      content: decryption === "failed" || decryption === "pending" ? null : ev.getContent(),
      failure: null,
      shield: null,
    };
    if (decryption === "failed") {
      out.failure = { code: ev.decryptionFailureReason, reason: ev.getContent()?.body ?? null };
    }
    if (decryption === "decrypted" && this.client) {
      const info = await this.client.getCrypto().getEncryptionInfoForEvent(ev);
      if (info) {
        out.shield = {
          colour: SHIELD_COLOURS.get(info.shieldColour) ?? String(info.shieldColour),
          reason: info.shieldReason === null ? null : (SHIELD_REASONS.get(info.shieldReason) ?? String(info.shieldReason)),
        };
      }
      out.sender_curve25519 = ev.getSenderKey();
    }
    return out;
  }

  /** Every recorded event of the room, described. */
  async events(roomId) {
    this.requireStarted();
    const out = [];
    for (const ev of this.roomEvents(roomId)) out.push(await this.describe(ev));
    return out;
  }

  /**
   * Waits for the first event of the room matching every given field of `match`: sender, type
   * (the decrypted type; m.room.encrypted for a failure), msgtype, body, body_prefix, decryption
   * (plaintext | decrypted | failed), not_event_ids (skip these). Events whose decryption is still
   * running are waited for, so a late room key turns a failure into a match.
   */
  async waitForEvent(roomId, match, timeoutMs = 30_000) {
    this.requireStarted();
    const skip = new Set(match.not_event_ids ?? []);
    return pollUntil(
      async () => {
        for (const ev of this.roomEvents(roomId)) {
          if (skip.has(ev.getId())) continue;
          const d = await this.describe(ev);
          if (d.decryption === "pending") continue;
          if (matches(d, match)) return d;
        }
        return undefined;
      },
      timeoutMs,
      `an event in ${roomId} matching ${JSON.stringify(match)}`,
    );
  }

  // ---------------------------------------------------------------- verification (SAS, to-device)

  /** Remembers a request and follows its verifier: the SAS callbacks once shown. */
  trackVerification(request) {
    const flowId = request.transactionId;
    let v = this.verifications.get(flowId);
    if (v) return v;
    v = { request, verifier: null, sas: null, verifying: null, error: null };
    this.verifications.set(flowId, v);
    const follow = () => {
      const verifier = request.verifier;
      if (verifier && v.verifier !== verifier) {
        v.verifier = verifier;
        verifier.on(VerifierEvent.ShowSas, (sas) => (v.sas = sas));
        // verify() accepts the other side's start (or sends ours) and resolves when done.
        v.verifying = verifier.verify().catch((e) => (v.error = e));
      }
    };
    request.on(VerificationRequestEvent.Change, follow);
    follow();
    return v;
  }

  requireVerification(flowId) {
    const v = this.verifications.get(flowId);
    if (!v) throw new ClientError("not_found", `no verification ${flowId}`);
    return v;
  }

  static phaseName(phase) {
    return (
      { [VerificationPhase.Unsent]: "unsent", [VerificationPhase.Requested]: "requested", [VerificationPhase.Ready]: "ready",
        [VerificationPhase.Started]: "started", [VerificationPhase.Cancelled]: "cancelled", [VerificationPhase.Done]: "done" }[phase] ??
      String(phase)
    );
  }

  describeVerification(v) {
    const r = v.request;
    return {
      flow_id: r.transactionId,
      other_user_id: r.otherUserId,
      other_device_id: r.otherDeviceId ?? null,
      initiated_by_me: r.initiatedByMe,
      phase: JsClient.phaseName(r.phase),
      cancellation_code: r.cancellationCode ?? null,
    };
  }

  /** Requests a to-device verification of `userId`'s `deviceId` (requestDeviceVerification). */
  async requestVerification(userId, deviceId) {
    const client = this.requireStarted();
    await client.getCrypto().getUserDeviceInfo([userId], true);
    const request = await client.getCrypto().requestDeviceVerification(userId, deviceId);
    return this.describeVerification(this.trackVerification(request));
  }

  /** Waits for the next verification request received from another device. */
  async waitVerificationRequest(timeoutMs) {
    this.requireStarted();
    const flowId = await pollUntil(() => this.incomingVerifications.shift(), timeoutMs, "a verification request");
    return this.describeVerification(this.requireVerification(flowId));
  }

  /** Accepts a received request (ready). */
  async acceptVerification(flowId) {
    await this.requireVerification(flowId).request.accept();
    return this.describeVerification(this.requireVerification(flowId));
  }

  /** Waits for the ready, then sends the m.sas.v1 start (startVerification) and runs the verifier. */
  async startSas(flowId, timeoutMs) {
    const v = this.requireVerification(flowId);
    await pollUntil(() => v.request.phase === VerificationPhase.Ready || v.request.phase >= VerificationPhase.Cancelled ? true : undefined, timeoutMs, `${flowId} to be ready`);
    if (v.request.phase !== VerificationPhase.Ready) throw new ClientError("bad_state", `${flowId} is ${JsClient.phaseName(v.request.phase)}`);
    await v.request.startVerification("m.sas.v1");
    this.trackVerification(v.request);
    return this.describeVerification(v);
  }

  /** Waits until the SAS is shown; returns its decimals and emoji ([{symbol, name}]). */
  async waitSas(flowId, timeoutMs) {
    const v = this.requireVerification(flowId);
    await pollUntil(
      () => (v.sas || v.verifier?.getShowSasCallbacks() || v.request.phase >= VerificationPhase.Cancelled ? true : undefined),
      timeoutMs,
      `the SAS of ${flowId}`,
    );
    v.sas = v.sas ?? v.verifier?.getShowSasCallbacks() ?? null;
    if (!v.sas) throw new ClientError("bad_state", `${flowId} ended: ${JSON.stringify(this.describeVerification(v))}`);
    return {
      ...this.describeVerification(v),
      decimals: v.sas.sas.decimal ?? [],
      emoji: (v.sas.sas.emoji ?? []).map(([symbol, name]) => ({ symbol, name })),
    };
  }

  /** The user says the strings match (sends our MAC). Does not wait for the other side. */
  async confirmSas(flowId) {
    const v = this.requireVerification(flowId);
    if (!v.sas) throw new ClientError("bad_state", "no SAS shown yet (verification_sas first)");
    v.sas.confirm().catch((e) => (v.error = e));
    return this.describeVerification(v);
  }

  /** The user says the strings differ (m.mismatched_sas). */
  async mismatchSas(flowId) {
    const v = this.requireVerification(flowId);
    if (!v.sas) throw new ClientError("bad_state", "no SAS shown yet (verification_sas first)");
    v.sas.mismatch();
    return this.describeVerification(v);
  }

  /** Waits until the flow is done or cancelled; returns its description. */
  async waitVerificationEnd(flowId, timeoutMs) {
    const v = this.requireVerification(flowId);
    await pollUntil(() => v.request.phase >= VerificationPhase.Cancelled ? true : undefined, timeoutMs, `${flowId} to end`);
    return this.describeVerification(v);
  }

  /**
   * Marks a device verified (or not) locally, as a user who compared fingerprints would
   * (setDeviceVerified). matrix-js-sdk's Rust crypto only requests room keys when at least one own
   * device is verified.
   */
  async setDeviceVerified(userId, deviceId, verified) {
    const client = this.requireStarted();
    await client.getCrypto().getUserDeviceInfo([userId], true);
    await client.getCrypto().setDeviceVerified(userId, deviceId, verified);
    return this.deviceVerificationStatus(userId, deviceId);
  }

  /** Waits until at least one to-device event of `eventType` was received; returns all of them. */
  async waitForToDevice(eventType, timeoutMs) {
    this.requireStarted();
    return pollUntil(
      () => {
        const found = this.toDeviceEvents.filter((e) => e.type === eventType);
        return found.length > 0 ? { events: found } : undefined;
      },
      timeoutMs,
      `a to-device ${eventType}`,
    );
  }

  /**
   * Decrypts the room's failed events again (as matrix-js-sdk does when keys arrive): with room key
   * requests enabled (setRoomKeyRequests), a missing key is then requested from our own devices.
   */
  async retryDecryption(roomId) {
    const client = this.requireStarted();
    let retried = 0;
    for (const ev of this.roomEvents(roomId)) {
      if (ev.isEncrypted() && ev.isDecryptionFailure()) {
        // decryptEventIfNeeded skips events that already failed; attemptDecryption retries them.
        await ev.attemptDecryption(client.getCrypto(), { isRetry: true });
        retried++;
      }
    }
    return { retried };
  }

  // ---------------------------------------------------------------- crypto knobs

  /**
   * The account's current key backup as this client's crypto sees it: the version, its algorithm,
   * and isKeyBackupTrusted (trusted = signed by a key this client trusts; matches_decryption_key =
   * the backup key this client holds, e.g. from secret storage, is the version's).
   */
  async keyBackupStatus() {
    const crypto = this.requireStarted().getCrypto();
    const info = await crypto.getKeyBackupInfo();
    if (info === null) return { version: null };
    const trust = await crypto.isKeyBackupTrusted(info);
    return {
      version: info.version ?? null,
      algorithm: info.algorithm,
      count: info.count ?? null,
      trusted: trust.trusted,
      matches_decryption_key: trust.matchesDecryptionKey,
    };
  }

  /**
   * What Element does when the user enters the recovery key on a new device (needs start with
   * recovery_key): imports the cross-signing keys from secret storage (bootstrapCrossSigning), loads
   * the backup key from secret storage, and restores every room key of the backup.
   */
  async restoreFromRecovery() {
    const client = this.requireStarted();
    const crypto = client.getCrypto();
    // The Rust crypto imports cross-signing keys only against the published identity it knows.
    await crypto.getUserDeviceInfo([client.getUserId()], true);
    await crypto.bootstrapCrossSigning({});
    await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
    const result = await crypto.restoreKeyBackup();
    return { total: result.total, imported: result.imported };
  }

  /** Enables or disables m.room_key_request for undecryptable events (matrix-js-sdk's default: off). */
  setRoomKeyRequests(enabled) {
    const machine = this.requireStarted().getCrypto()?.olmMachine;
    if (!machine) throw new ClientError("unsupported", "this matrix-js-sdk exposes no OlmMachine");
    machine.roomKeyRequestsEnabled = enabled;
    return { enabled: machine.roomKeyRequestsEnabled };
  }

  /**
   * FAULT INJECTION (not a feature of a real client): holds back to-device sends. Every PUT
   * /sendToDevice of `eventType` (default m.room.encrypted, i.e. Olm-encrypted payloads such as
   * room keys; null = every type) answers the SDK at once with success, so it goes on and sends
   * the room event, and the real request goes to the homeserver `ms` later: the recipients get
   * the room key after the message it unlocks. Applies to the next `count` matching sends (null =
   * until turned off with ms = 0). Returns the number of sends currently held.
   */
  delayToDevice({ ms, eventType = "m.room.encrypted", count = null }) {
    if (!Number.isInteger(ms) || ms < 0) throw new ClientError("bad_request", "ms: expected an integer >= 0");
    this.toDeviceFault = ms === 0 ? null : { ms, eventType, remaining: count };
    return { held: this.heldToDevice.size };
  }

  /** Sends every held to-device request now; resolves when the homeserver answered them. */
  async flushToDevice() {
    const jobs = [...this.heldToDevice];
    for (const job of jobs) clearTimeout(job.timer);
    await Promise.all(jobs.map((job) => job.release()));
    return { flushed: jobs.length };
  }

  installToDeviceInterceptor(http) {
    const original = http.authedRequest.bind(http);
    http.authedRequest = (method, path, query, body, opts) => {
      const fault = this.toDeviceFault;
      const m = /^\/_matrix\/client\/(?:v3|r0)\/sendToDevice\/([^/]+)\/[^/]+$/.exec(path);
      if (!fault || method !== "PUT" || !m) return original(method, path, query, body, opts);
      const eventType = decodeURIComponent(m[1]);
      if (fault.eventType !== null && fault.eventType !== eventType) return original(method, path, query, body, opts);
      if (fault.remaining !== null && --fault.remaining <= 0) this.toDeviceFault = null;
      const job = {
        timer: null,
        done: false,
        release: async () => {
          if (job.done) return;
          job.done = true;
          this.heldToDevice.delete(job);
          try {
            await original(method, path, query, body, opts);
            console.info(`[fault] delayed to-device ${eventType} sent`);
          } catch (e) {
            console.error(`[fault] delayed to-device ${eventType} failed: ${e?.message ?? e}`);
          }
        },
      };
      job.timer = setTimeout(job.release, fault.ms);
      this.heldToDevice.add(job);
      console.info(`[fault] holding to-device ${eventType} for ${fault.ms} ms`);
      return Promise.resolve(opts?.json === false ? "{}" : {});
    };
  }

  // ---------------------------------------------------------------- attachments

  /**
   * Encrypts `data` (a Buffer) as an EncryptedFile (AES-256-CTR, 64-bit counter, SHA-256 of the
   * ciphertext, v2), uploads the ciphertext and sends an m.room.message of `msgtype` with `file`.
   */
  async sendEncryptedFile(roomId, data, { name = "file.bin", mimetype = "application/octet-stream", msgtype = "m.file" } = {}) {
    const client = this.requireStarted();
    const key = randomBytes(32);
    const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
    const cipher = createCipheriv("aes-256-ctr", key, iv);
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const upload = await client.uploadContent(ciphertext, { type: "application/octet-stream", includeFilename: false });
    const file = {
      v: "v2",
      url: upload.content_uri,
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: key.toString("base64url"), ext: true },
      iv: unpadded(iv.toString("base64")),
      hashes: { sha256: unpadded(createHash("sha256").update(ciphertext).digest("base64")) },
    };
    const content = { msgtype, body: name, file, info: { mimetype, size: data.length } };
    const sent = await this.sendMessage(roomId, content);
    return { ...sent, file };
  }

  /**
   * Downloads an EncryptedFile (authenticated media first, the legacy endpoint as fallback),
   * checks its SHA-256 and decrypts it. At most `maxBytes` are accepted.
   */
  async downloadDecrypt(file, maxBytes = 50 * 1024 * 1024) {
    const s = this.requireSession();
    const m = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(file?.url ?? "");
    if (!m) throw new ClientError("bad_request", "file.url: expected an mxc:// URI");
    if (file.key?.alg !== "A256CTR" || typeof file.key?.k !== "string" || typeof file.iv !== "string") {
      throw new ClientError("bad_request", "file: expected key.alg A256CTR, key.k and iv");
    }
    const key = Buffer.from(file.key.k, "base64url");
    const iv = Buffer.from(file.iv, "base64");
    if (key.length !== 32 || iv.length !== 16) throw new ClientError("bad_request", "file: key must be 32 bytes, iv 16");
    const paths = [
      `/_matrix/client/v1/media/download/${encodeURIComponent(m[1])}/${encodeURIComponent(m[2])}`,
      `/_matrix/media/v3/download/${encodeURIComponent(m[1])}/${encodeURIComponent(m[2])}`,
    ];
    let res;
    for (const p of paths) {
      res = await fetch(this.baseUrl + p, { headers: { Authorization: `Bearer ${s.accessToken}` } });
      if (res.status !== 404 && res.status !== 400) break;
    }
    if (!res.ok) throw new ClientError("http", `download ${file.url}: HTTP ${res.status}`, { status: res.status });
    const ciphertext = Buffer.from(await res.arrayBuffer());
    if (ciphertext.length > maxBytes) throw new ClientError("too_big", `file is ${ciphertext.length} bytes, limit ${maxBytes}`);
    const expected = Buffer.from(file.hashes?.sha256 ?? "", "base64");
    const actual = createHash("sha256").update(ciphertext).digest();
    if (expected.length !== 32 || !timingSafeEqual(expected, actual)) {
      throw new ClientError("hash_mismatch", `the SHA-256 of ${file.url} does not match hashes.sha256`);
    }
    const decipher = createDecipheriv("aes-256-ctr", key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }

  // ---------------------------------------------------------------- bridges (issue 15)

  /**
   * Waits for an invite (to `roomId` if given, from `inviter` if given) and joins it, as a user who
   * clicks "Accept"; resolves once the join arrived by sync. Returns {room_id, inviter}.
   */
  async acceptInvite({ roomId, inviter, timeoutMs = 30_000 } = {}) {
    const client = this.requireStarted();
    const me = client.getUserId();
    const room = await pollUntil(
      () =>
        client.getRooms().find((r) => {
          if (r.getMyMembership() !== "invite") return false;
          if (roomId !== undefined && r.roomId !== roomId) return false;
          return inviter === undefined || r.getMember(me)?.events?.member?.getSender() === inviter;
        }),
      timeoutMs,
      `an invite${roomId ? ` to ${roomId}` : ""}${inviter ? ` from ${inviter}` : ""}`,
    );
    const from = room.getMember(me)?.events?.member?.getSender() ?? null;
    await this.join(room.roomId, timeoutMs);
    return { room_id: room.roomId, inviter: from };
  }

  /**
   * What this client's crypto says about a decrypted event: the shield (getEncryptionInfoForEvent:
   * colour and reason), the device that sent it (the Rust machine's encryption info: the device
   * whose Olm session delivered the room key and whose Ed25519 key signed it), and how the client
   * judges that device (signed_by_owner = cross-signed by its owner's self-signing key). Null
   * fields when the event is not (yet) decrypted or the device is unknown.
   */
  async encryptionInfo(roomId, eventId) {
    const client = this.requireStarted();
    const ev = this.roomEvents(roomId).find((e) => e.getId() === eventId);
    if (!ev) throw new ClientError("not_found", `no event ${eventId} in ${roomId}`);
    const d = await this.describe(ev);
    const out = {
      event_id: eventId,
      sender: d.sender,
      decryption: d.decryption,
      shield: d.shield,
      sender_device: null,
      sender_curve25519: d.sender_curve25519 ?? null,
      sender_claimed_ed25519: null,
      device: null,
    };
    if (d.decryption !== "decrypted") return out;
    const machine = client.getCrypto()?.olmMachine;
    if (machine) {
      const { RoomId } = await import("@matrix-org/matrix-sdk-crypto-wasm");
      const info = await machine.getRoomEventEncryptionInfo(
        JSON.stringify({
          event_id: ev.getId(),
          type: ev.getWireType(),
          sender: ev.getSender(),
          state_key: ev.getStateKey(),
          content: ev.getWireContent(),
          origin_server_ts: ev.getTs(),
        }),
        new RoomId(roomId),
      );
      if (info) {
        out.sender_device = info.senderDevice?.toString() ?? null;
        out.sender_claimed_ed25519 = info.senderClaimedEd25519Key ?? null;
      }
    }
    if (out.sender_device === null && out.sender_curve25519) {
      // Fallback: the sender's device whose Curve25519 key the session came from.
      const map = await client.getCrypto().getUserDeviceInfo([d.sender], true);
      for (const [id, dev] of map.get(d.sender) ?? new Map()) {
        if (dev.getIdentityKey() === out.sender_curve25519) out.sender_device = id;
      }
    }
    if (out.sender_device !== null) {
      out.device = await this.deviceVerificationStatus(d.sender, out.sender_device);
    }
    return out;
  }
}

// ---------------------------------------------------------------- history sharing (MSC4268)
// Appended for room history sharing (docs/interop-protocol.md, "History sharing ops").

/**
 * Sets up this user's cross-signing (bootstrapCrossSigning, answering the user-interactive auth with
 * `password` if the server asks): matrix-js-sdk shares room history on invite() only when its own
 * identity is cross-signed and verified, and accepts and sends bundles only from and to devices
 * signed by their owner. Returns the own identity's status.
 */
JsClient.prototype.bootstrapCrossSigning = async function (password) {
  const client = this.requireStarted();
  const crypto = client.getCrypto();
  const userId = client.getUserId();
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch (e) {
        if (e?.httpStatus !== 401 || typeof password !== "string") throw e;
        await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password, session: e.data?.session });
      }
    },
  });
  const identity = await crypto.getOwnIdentity?.();
  const status = await crypto.getCrossSigningStatus();
  return {
    ready: await crypto.isCrossSigningReady(),
    own_identity_verified: identity ? identity.isVerified() : null,
    public_keys_on_device: status.publicKeysOnDevice,
    private_keys_cached: status.privateKeysCachedLocally,
  };
};

/**
 * The room's timeline as this client can read it, including events from before it joined: pages
 * backwards (/messages) until `limit` events are loaded or the room's start is reached, waits for
 * each decryption, and describes every event like `events` does, plus for a failed one
 * `withheld_code` (the code the sender's bundle or withheld message gave, e.g.
 * m.history_not_shared, asked from the client's Rust OlmMachine since matrix-js-sdk reports only a
 * "historical message" code for events older than the device) and for a decrypted one `forwarder`
 * and `forwarder_device` (who vouched for its key through a room key bundle, else null).
 */
JsClient.prototype.roomHistory = async function (roomId, limit = 50, timeoutMs = 30_000) {
  const client = this.requireStarted();
  await pollUntil(() => client.getRoom(roomId) !== null, timeoutMs, `room ${roomId} to be known`);
  const room = client.getRoom(roomId);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100 && Date.now() < deadline; i++) {
    const timeline = room.getLiveTimeline();
    if (timeline.getEvents().length >= limit) break;
    if (!timeline.getPaginationToken(sdk.EventTimeline.BACKWARDS)) break;
    const more = await client.paginateEventTimeline(timeline, { backwards: true, limit: Math.min(limit, 100) });
    if (!more) break;
  }
  const olm = client.getCrypto()?.olmMachine;
  const events = room.getLiveTimeline().getEvents().slice(-limit);
  const out = [];
  for (const ev of events) {
    if (ev.isBeingDecrypted()) await ev.getDecryptionPromise?.();
    const d = await this.describe(ev);
    d.withheld_code = null;
    d.forwarder = null;
    d.forwarder_device = null;
    if (olm && d.encrypted) {
      const rid = new RustSdkCryptoJs.RoomId(roomId);
      if (d.decryption === "failed") {
        try {
          await olm.decryptRoomEvent(JSON.stringify(ev.event), rid, new RustSdkCryptoJs.DecryptionSettings(RustSdkCryptoJs.TrustRequirement.Untrusted));
        } catch (e) {
          d.withheld_code = e?.withheldCode ?? null;
        }
      } else if (d.decryption === "decrypted") {
        try {
          const info = await olm.getRoomEventEncryptionInfo(JSON.stringify(ev.event), rid);
          d.forwarder = info?.forwarder?.toString() ?? null;
          d.forwarder_device = info?.forwarderDevice?.toString() ?? null;
        } catch {
          // no encryption info: leave null
        }
      }
    }
    out.push(d);
  }
  return out;
};

/**
 * Asks this client's Rust OlmMachine to decrypt a raw encrypted room event (as the server stores
 * it), e.g. one this user's server hides from it: returns {decryption: decrypted|failed, code,
 * withheld_code, forwarder}. The reason a client would show for that event: a withheld code comes
 * from an m.room_key.withheld or a room key bundle's withheld list (MSC4268).
 */
JsClient.prototype.decryptRaw = async function (roomId, event) {
  const olm = this.requireStarted().getCrypto()?.olmMachine;
  if (!olm) throw new ClientError("unsupported", "this matrix-js-sdk exposes no OlmMachine");
  const rid = new RustSdkCryptoJs.RoomId(roomId);
  const json = JSON.stringify(event);
  try {
    await olm.decryptRoomEvent(json, rid, new RustSdkCryptoJs.DecryptionSettings(RustSdkCryptoJs.TrustRequirement.Untrusted));
  } catch (e) {
    return { decryption: "failed", code: e?.code ?? null, withheld_code: e?.withheldCode ?? null, forwarder: null };
  }
  let forwarder = null;
  try {
    forwarder = (await olm.getRoomEventEncryptionInfo(json, rid))?.forwarder?.toString() ?? null;
  } catch {
    // no encryption info
  }
  return { decryption: "decrypted", code: null, withheld_code: null, forwarder };
};

function matches(d, match) {
  if (match.sender !== undefined && d.sender !== match.sender) return false;
  if (match.type !== undefined && d.type !== match.type) return false;
  if (match.decryption !== undefined && d.decryption !== match.decryption) return false;
  const body = d.content?.body;
  if (match.msgtype !== undefined && d.content?.msgtype !== match.msgtype) return false;
  if (match.body !== undefined && body !== match.body) return false;
  if (match.body_prefix !== undefined && (typeof body !== "string" || !body.startsWith(match.body_prefix))) return false;
  return true;
}

/** Protocol error object for any thrown value; never includes request content. */
export function errorReply(e) {
  if (e instanceof ClientError) return { kind: e.kind, message: e.message, ...e.extra };
  if (e instanceof sdk.MatrixError || (e && typeof e.errcode === "string")) {
    return { kind: "http", message: e.message, errcode: e.errcode, status: e.httpStatus ?? null };
  }
  if (e?.name === "ConnectionError" || (e instanceof TypeError && e.message === "fetch failed")) {
    const cause = e.cause?.code ?? e.cause?.message;
    return { kind: "unreachable", message: `cannot reach the homeserver: ${e.message}${cause ? ` (${cause})` : ""}` };
  }
  return { kind: "internal", message: e?.message ?? String(e) };
}
