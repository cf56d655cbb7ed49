package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.Changes;
import java.util.List;
import java.util.Map;

/**
 * Our account and its keys on the server (spec: {@code end_to_end_encryption.md}, "Uploading keys"
 * and "One-time and fallback keys"; MSC2732). Keeps the server's one-time key count topped up to
 * half of what the account can hold, uploads a fallback key and rotates it when the server reports
 * it used, and recovers when the server already holds a key id.
 *
 * <p>Persistence: every key is saved before the request that uploads it is handed out, so a crash
 * after the upload never leaves the server with a key whose private half we lost.
 */
final class AccountKeys {
  /** The one-time key algorithm Olm v1 uses. */
  static final String SIGNED_CURVE25519 = "signed_curve25519";

  /** The algorithms we support, as published in our device keys. */
  static final List<String> ALGORITHMS =
      List.of("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2");

  private final Context ctx;
  private final Account account;
  private boolean sharedWithServer;

  /** The server's count of our unclaimed one-time keys; -1 until the server has told us. */
  private long serverKeyCount = -1;

  private boolean fallbackNeeded;
  private String uploadInFlight;
  private OutgoingRequest pendingUpload;
  private DeviceKeys deviceKeys;

  private AccountKeys(Context ctx, Account account, boolean sharedWithServer) {
    this.ctx = ctx;
    this.account = account;
    this.sharedWithServer = sharedWithServer;
    this.fallbackNeeded = account.fallbackKey().isEmpty();
  }

  /** Loads our account, or creates and saves a new one. */
  static AccountKeys loadOrCreate(Context ctx) {
    var stored = ctx.store.account();
    if (stored.isPresent()) {
      Account account =
          Account.fromPickle(
              stored.get().pickle().ciphertext(), ctx.pickleKey(), ctx.config.random());
      return new AccountKeys(ctx, account, stored.get().sharedWithServer());
    }
    AccountKeys keys = new AccountKeys(ctx, Account.create(ctx.config.random()), false);
    Changes changes = new Changes();
    keys.persist(changes);
    ctx.store.save(changes);
    return keys;
  }

  Account account() {
    return account;
  }

  /** Whether the server has confirmed an upload of our device keys. */
  boolean sharedWithServer() {
    return sharedWithServer;
  }

  /** Adds the account's current state to {@code changes}. */
  void persist(Changes changes) {
    changes.putAccount(
        new AccountRecord(ctx.seal(account.pickle(ctx.pickleKey())), sharedWithServer));
  }

  /** Our signed device keys, as uploaded. */
  DeviceKeys deviceKeys() {
    if (deviceKeys == null) {
      ObjectNode json = Context.object();
      json.put("user_id", ctx.userId()).put("device_id", ctx.deviceId());
      var algorithms = json.putArray("algorithms");
      ALGORITHMS.forEach(algorithms::add);
      json.putObject("keys")
          .put("curve25519:" + ctx.deviceId(), account.curve25519Key().toBase64())
          .put("ed25519:" + ctx.deviceId(), account.ed25519Key().toBase64());
      signWithDevice(json);
      deviceKeys = DeviceKeys.parse(json);
    }
    return deviceKeys;
  }

  /** Signs {@code json} in place with our device's Ed25519 key. */
  void signWithDevice(ObjectNode json) {
    byte[] bytes = JsonSigning.signedBytes(json);
    String signature = account.sign(bytes).toBase64();
    ObjectNode signatures =
        json.has("signatures") ? (ObjectNode) json.get("signatures") : json.putObject("signatures");
    ObjectNode mine =
        signatures.has(ctx.userId())
            ? (ObjectNode) signatures.get(ctx.userId())
            : signatures.putObject(ctx.userId());
    mine.put("ed25519:" + ctx.deviceId(), signature);
  }

  /** Takes the key counts of a sync or transaction. */
  void onSyncCounts(Map<String, Integer> counts, List<String> unusedFallbackTypes) {
    if (counts != null) {
      serverKeyCount = counts.getOrDefault(SIGNED_CURVE25519, 0);
    }
    if (unusedFallbackTypes != null && !unusedFallbackTypes.contains(SIGNED_CURVE25519)) {
      fallbackNeeded = true;
    }
  }

  /** How many one-time keys to upload now. */
  private int keysToGenerate() {
    int target = account.maxNumberOfOneTimeKeys() / 2;
    long known = serverKeyCount < 0 ? (sharedWithServer ? target : 0) : serverKeyCount;
    long unpublished = account.oneTimeKeys().size();
    return (int) Math.max(0, target - known - unpublished);
  }

  /**
   * The upload request if one is needed now, with its keys already saved in {@code changes}; the
   * unanswered one again (same id) while one is in flight; null if the server has all it needs, or
   * if our device keys are not on the server yet and {@code ownDeviceConfirmed} is false.
   */
  OutgoingRequest uploadRequest(Changes changes, boolean ownDeviceConfirmed) {
    if (uploadInFlight != null) {
      return pendingUpload; // the same request again until its response comes
    }
    if (!sharedWithServer && !ownDeviceConfirmed) {
      // Our device keys go up only once the server is known to hold no other keys for our device
      // id (OwnDeviceCheck): uploading over them would replace a device's identity.
      return null;
    }
    int generate = keysToGenerate();
    boolean rotateFallback = fallbackNeeded;
    if (sharedWithServer && generate == 0 && !rotateFallback && account.oneTimeKeys().isEmpty()) {
      return null;
    }
    if (generate > 0) {
      account.generateOneTimeKeys(generate);
    }
    if (rotateFallback) {
      account.generateFallbackKey();
      fallbackNeeded = false;
    }
    ObjectNode body = Context.object();
    if (!sharedWithServer) {
      body.set("device_keys", deviceKeys().toJson());
    }
    ObjectNode otks = body.putObject("one_time_keys");
    account
        .oneTimeKeys()
        .forEach((id, key) -> otks.set(SIGNED_CURVE25519 + ":" + id, signed(key, false)));
    if (rotateFallback || !sharedWithServer) {
      ObjectNode fallback = body.putObject("fallback_keys");
      account
          .fallbackKey()
          .forEach((id, key) -> fallback.set(SIGNED_CURVE25519 + ":" + id, signed(key, true)));
    }
    persist(changes);
    uploadInFlight = ctx.newRequestId();
    pendingUpload = new OutgoingRequest(uploadInFlight, RequestType.KEYS_UPLOAD, body, null);
    return pendingUpload;
  }

  private ObjectNode signed(Curve25519PublicKey key, boolean fallback) {
    ObjectNode json = Context.object().put("key", key.toBase64());
    if (fallback) {
      json.put("fallback", true);
    }
    signWithDevice(json);
    return json;
  }

  /** The server accepted an upload: what we sent is published. */
  void onUploadResponse(String requestId, JsonNode response, Changes changes) {
    if (!requestId.equals(uploadInFlight)) {
      return;
    }
    uploadInFlight = null;
    pendingUpload = null;
    account.markKeysAsPublished();
    sharedWithServer = true;
    JsonNode count = response.path("one_time_key_counts").path(SIGNED_CURVE25519);
    serverKeyCount = count.canConvertToLong() ? count.longValue() : serverKeyCount;
    persist(changes);
  }

  /**
   * The server refused an upload. If it already holds one of our key ids (an account restored from
   * an old copy, or a crash between upload and save on another stack), the keys with clashing ids
   * are dropped from the next upload by marking them published (their ids are skipped), and the
   * next {@link #uploadRequest} generates fresh ones with later ids; a longer clashing range takes
   * one failed upload per batch.
   */
  void onUploadFailure(String requestId, int status, JsonNode error, Changes changes) {
    if (!requestId.equals(uploadInFlight)) {
      return;
    }
    uploadInFlight = null;
    pendingUpload = null;
    String message = error == null ? "" : error.path("error").asText("");
    if (status == 400 && message.contains("already exists")) {
      // The server's count is unchanged: the next upload makes up the shortfall with fresh keys,
      // whose ids come after the clashing ones.
      account.markKeysAsPublished();
      persist(changes);
    }
  }
}
