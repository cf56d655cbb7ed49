package io.github.mxe2ee.examples.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One device of a real Matrix client: {@code interop/node/js-client-peer.mjs} (matrix-js-sdk 43
 * with its Rust crypto, keys in memory) against a homeserver, spoken to over JSON lines (see {@code
 * docs/interop-protocol.md}, "matrix-js-sdk client peer").
 *
 * <p>Every method returns the reply's {@code result}; an {@code error} reply throws {@link
 * PeerFailure} naming the operation, the error kind and message and the peer's log file ({@code
 * target/peer-NAME.log}), whose tail is included. Not thread-safe. {@link #close()} ends the
 * process (the device stays on the server).
 */
public final class JsClientPeer implements AutoCloseable {

  /** Slack on top of a wait inside the peer before the Java side gives up on the reply. */
  private static final long REPLY_SLACK_S = 30;

  private final String name;
  private final PeerProcess process;

  private JsClientPeer(String name) {
    this.name = name;
    this.process = PeerProcess.node("js-client-peer.mjs", "js-client-" + name);
  }

  /**
   * Starts a peer process; {@code name} names its log file ({@code
   * target/peer-js-client-NAME.log}).
   */
  public static JsClientPeer start(String name) {
    return new JsClientPeer(name);
  }

  /** An error reply of the peer, or a peer that died or did not answer in time. */
  public static final class PeerFailure extends IllegalStateException {
    private final String kind;

    PeerFailure(String message, String kind) {
      super(message);
      this.kind = kind;
    }

    /** The protocol error kind ({@code timeout}, {@code http}, ...), or {@code null}. */
    public String kind() {
      return kind;
    }
  }

  /** Sends one request and returns its result; the peer may wait up to {@code waitMs} inside. */
  public JsonObject call(String op, JsonObject args, long waitMs) {
    JsonObject reply;
    try {
      reply = process.request(op, args, waitMs / 1000 + REPLY_SLACK_S);
    } catch (IllegalStateException e) {
      throw new PeerFailure(name + ": " + op + ": " + e.getMessage() + logTail(), null);
    }
    JsonObject error = reply.getJsonObject("error");
    if (error != null) {
      throw new PeerFailure(
          name + ": " + op + " failed: " + error.encode() + logTail(), error.getString("kind"));
    }
    return reply.getJsonObject("result", new JsonObject());
  }

  private JsonObject call(String op, JsonObject args) {
    return call(op, args, 60_000);
  }

  /** Password login; returns {@code {user_id, device_id}}. */
  public JsonObject login(String homeserver, String user, String password) {
    return call(
        "login",
        new JsonObject().put("homeserver", homeserver).put("user", user).put("password", password));
  }

  /** Starts the client, its crypto and sync; returns after the first sync. */
  public void startClient() {
    call("start", new JsonObject(), 60_000);
  }

  /**
   * Starts the client like {@link #startClient()}, with a recovery key that opens the account's
   * secret storage (as if the user typed it into Element).
   */
  public void startClient(String recoveryKey) {
    call("start", new JsonObject().put("recovery_key", recoveryKey), 60_000);
  }

  /**
   * The account's current key backup as the client sees it: {@code version} (null if none), {@code
   * algorithm}, {@code trusted}, {@code matches_decryption_key}.
   */
  public JsonObject keyBackupStatus() {
    return call("key_backup_status", new JsonObject());
  }

  /**
   * What Element does with the recovery key on a new device: imports the cross-signing keys and the
   * backup key from secret storage and restores the backup; returns {@code total} and {@code
   * imported}.
   */
  public JsonObject restoreFromRecovery() {
    return call("restore_from_recovery", new JsonObject(), 120_000);
  }

  /** Creates an encrypted room inviting {@code invite}; returns its id once known to the client. */
  public String createEncryptedRoom(List<String> invite, String historyVisibility) {
    JsonObject args = new JsonObject().put("invite", new JsonArray(invite));
    if (historyVisibility != null) {
      args.put("history_visibility", historyVisibility);
    }
    return call("create_room", args).getString("room_id");
  }

  /** Invites a user. */
  public void invite(String roomId, String userId) {
    call("invite", new JsonObject().put("room_id", roomId).put("user_id", userId));
  }

  /** Waits until {@code userId} is joined as seen by this client's sync. */
  public void waitForJoin(String roomId, String userId, long timeoutMs) {
    call(
        "wait_for_member",
        new JsonObject().put("room_id", roomId).put("user_id", userId).put("timeout_ms", timeoutMs),
        timeoutMs);
  }

  /** Sends an encrypted {@code m.text}; returns its event id (refused if the room is plain). */
  public String sendText(String roomId, String body) {
    return call("send_text", new JsonObject().put("room_id", roomId).put("body", body))
        .getString("event_id");
  }

  /**
   * Waits for the first event matching every field of {@code match} (sender, type, msgtype, body,
   * body_prefix, decryption, not_event_ids); returns the described event.
   */
  public JsonObject waitForEvent(String roomId, JsonObject match, long timeoutMs) {
    JsonObject args = match.copy().put("room_id", roomId).put("timeout_ms", timeoutMs);
    return call("wait_for_event", args, timeoutMs).getJsonObject("event");
  }

  /** All recorded timeline events of the room, described. */
  public JsonArray events(String roomId) {
    return call("events", new JsonObject().put("room_id", roomId)).getJsonArray("events");
  }

  /** This device: {@code user_id, device_id, ed25519, curve25519, fingerprint}. */
  public JsonObject deviceInfo() {
    return call("device_info", new JsonObject());
  }

  /** The devices this client knows of {@code userId}. */
  public JsonArray userDevices(String userId) {
    return call("user_devices", new JsonObject().put("user_id", userId)).getJsonArray("devices");
  }

  /**
   * How this client judges a device: {@code signed_by_owner, cross_signing_verified,
   * locally_verified, tofu, verified}, or null if it does not know the device.
   */
  public JsonObject deviceVerificationStatus(String userId, String deviceId) {
    return call(
            "device_verification_status",
            new JsonObject().put("user_id", userId).put("device_id", deviceId))
        .getJsonObject("status");
  }

  /**
   * How this client judges a user's identity: {@code known, cross_signing_verified,
   * was_cross_signing_verified, needs_user_approval, verified}.
   */
  public JsonObject userVerificationStatus(String userId) {
    return call("user_verification_status", new JsonObject().put("user_id", userId));
  }

  /**
   * Requests a to-device SAS verification of {@code userId}'s {@code deviceId}; returns {@code
   * {flow_id, other_user_id, other_device_id, initiated_by_me, phase, cancellation_code}}.
   */
  public JsonObject requestVerification(String userId, String deviceId) {
    return call(
        "verification_request", new JsonObject().put("user_id", userId).put("device_id", deviceId));
  }

  /** Waits for the next verification request another device sent us; returns it described. */
  public JsonObject waitVerificationRequest(long timeoutMs) {
    return call(
        "verification_wait_request", new JsonObject().put("timeout_ms", timeoutMs), timeoutMs);
  }

  /** Accepts a received verification request (sends ready). */
  public JsonObject acceptVerification(String flowId) {
    return call("verification_accept", new JsonObject().put("flow_id", flowId));
  }

  /** Waits for ready, then starts {@code m.sas.v1}. */
  public JsonObject startSas(String flowId, long timeoutMs) {
    return call(
        "verification_start_sas",
        new JsonObject().put("flow_id", flowId).put("timeout_ms", timeoutMs),
        timeoutMs);
  }

  /** Waits until the SAS is shown; the description plus {@code decimals} and {@code emoji}. */
  public JsonObject waitSas(String flowId, long timeoutMs) {
    return call(
        "verification_sas",
        new JsonObject().put("flow_id", flowId).put("timeout_ms", timeoutMs),
        timeoutMs);
  }

  /** The user says the strings match. */
  public JsonObject confirmSas(String flowId) {
    return call("verification_confirm", new JsonObject().put("flow_id", flowId));
  }

  /** Waits until the flow is done or cancelled; returns it described. */
  public JsonObject waitVerificationEnd(String flowId, long timeoutMs) {
    return call(
        "verification_wait_end",
        new JsonObject().put("flow_id", flowId).put("timeout_ms", timeoutMs),
        timeoutMs);
  }

  /** Turns matrix-js-sdk's room key requests on or off (off by default). */
  public void setRoomKeyRequests(boolean enabled) {
    call("set_room_key_requests", new JsonObject().put("enabled", enabled));
  }

  /** Marks a device verified locally (as after comparing fingerprints); returns its status. */
  public JsonObject setDeviceVerified(String userId, String deviceId, boolean verified) {
    return call(
            "set_device_verified",
            new JsonObject()
                .put("user_id", userId)
                .put("device_id", deviceId)
                .put("verified", verified))
        .getJsonObject("status");
  }

  /**
   * Waits until a to-device event of {@code eventType} arrived; returns every one received so far
   * ({@code [{type, sender, content}]}, decrypted as the SDK emits them).
   */
  public JsonArray waitForToDevice(String eventType, long timeoutMs) {
    return call(
            "wait_for_to_device",
            new JsonObject().put("event_type", eventType).put("timeout_ms", timeoutMs),
            timeoutMs)
        .getJsonArray("events");
  }

  /** Decrypts the room's failed events again (requesting missing keys if enabled). */
  public int retryDecryption(String roomId) {
    return call("retry_decryption", new JsonObject().put("room_id", roomId)).getInteger("retried");
  }

  /** Fault injection: holds the next {@code count} Olm to-device sends back for {@code ms}. */
  public void delayToDevice(long ms, int count) {
    call("delay_to_device", new JsonObject().put("ms", ms).put("count", count));
  }

  /**
   * Encrypts {@code data} as an {@code EncryptedFile}, uploads it and sends it in an {@code
   * m.room.message} of {@code msgtype}; returns {@code {event_id, encrypted, file}} (the file with
   * its key).
   */
  public JsonObject uploadEncryptedFile(
      String roomId, byte[] data, String name, String mimetype, String msgtype) {
    return call(
        "upload_encrypted_file",
        new JsonObject()
            .put("room_id", roomId)
            .put("data_base64", java.util.Base64.getEncoder().encodeToString(data))
            .put("name", name)
            .put("mimetype", mimetype)
            .put("msgtype", msgtype));
  }

  /**
   * Downloads an {@code EncryptedFile}, checks its hash and decrypts it, as matrix-js-sdk's client
   * code does; a hash mismatch fails with a {@link PeerFailure} of kind {@code hash_mismatch}.
   */
  public byte[] downloadDecrypt(JsonObject file) {
    JsonObject r = call("download_decrypt", new JsonObject().put("file", file));
    return java.util.Base64.getDecoder().decode(r.getString("data_base64"));
  }

  /**
   * Waits for an invite ({@code roomId} and {@code inviter} may be null for any) and joins it;
   * returns {@code {room_id, inviter}} once the join arrived by sync.
   */
  public JsonObject acceptInvite(String roomId, String inviter, long timeoutMs) {
    JsonObject args = new JsonObject().put("timeout_ms", timeoutMs);
    if (roomId != null) {
      args.put("room_id", roomId);
    }
    if (inviter != null) {
      args.put("inviter", inviter);
    }
    return call("accept_invite", args, timeoutMs);
  }

  /**
   * What the client's crypto says about a decrypted event: {@code {event_id, sender, decryption,
   * shield: {colour, reason}, sender_device, sender_curve25519, sender_claimed_ed25519, device}}
   * with {@code device} as {@link #deviceVerificationStatus} for the sending device.
   */
  public JsonObject encryptionInfo(String roomId, String eventId) {
    return call(
        "encryption_info", new JsonObject().put("room_id", roomId).put("event_id", eventId));
  }

  private String logTail() {
    Path log = Path.of("target", "peer-js-client-" + name + ".log").toAbsolutePath();
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      List<String> tail = lines.subList(Math.max(0, lines.size() - 20), lines.size());
      return "\n--- " + log + " (last lines) ---\n" + String.join("\n", tail);
    } catch (IOException e) {
      return " (log " + log + ")";
    }
  }

  // ---------------------------------------------------------- history sharing (MSC4268)

  /**
   * Sets up this user's cross-signing (answering user-interactive auth with {@code password}), so
   * that matrix-js-sdk shares room history on invite and accepts bundles; returns the own
   * identity's status ({@code ready, own_identity_verified, ...}).
   */
  public JsonObject bootstrapCrossSigning(String password) {
    return call("bootstrap_cross_signing", new JsonObject().put("password", password), 60_000);
  }

  /**
   * Waits for the invite to {@code roomId}, then joins (matrix-js-sdk imports the inviter's room
   * key bundle before the join resolves); returns {@code {inviter}}.
   */
  public JsonObject acceptInvite(String roomId, long timeoutMs) {
    return call(
        "accept_invite",
        new JsonObject().put("room_id", roomId).put("timeout_ms", timeoutMs),
        timeoutMs);
  }

  /**
   * The room's last {@code limit} timeline events, paged back from the server (events from before
   * this client joined included), described, with {@code withheld_code} for failures and {@code
   * forwarder} for keys that came from a bundle.
   */
  public JsonArray roomHistory(String roomId, int limit, long timeoutMs) {
    return call(
            "room_history",
            new JsonObject()
                .put("room_id", roomId)
                .put("limit", limit)
                .put("timeout_ms", timeoutMs),
            timeoutMs)
        .getJsonArray("events");
  }

  /**
   * What the client's Rust crypto makes of a raw encrypted event: {@code {decryption, code,
   * withheld_code, forwarder}}.
   */
  public JsonObject decryptRaw(String roomId, JsonObject event) {
    return call("decrypt_raw", new JsonObject().put("room_id", roomId).put("event", event));
  }

  @Override
  public void close() {
    process.close();
  }
}
