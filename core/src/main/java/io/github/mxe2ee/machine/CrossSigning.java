package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.UserIdentity;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.DeviceRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Our own cross-signing identity (spec: {@code end_to_end_encryption.md}, "Cross-signing"): create
 * it and upload it ({@link #bootstrap}), sign our devices with the self-signing key ({@link
 * #signOwnDevice}). The private keys are stored encrypted with the pickle key, and saved before the
 * upload request leaves, so an identity the server knows is never lost.
 */
final class CrossSigning {
  private static final String PRIVATE_KEYS = "xsign.private";

  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private Ed25519SecretKey master;
  private Ed25519SecretKey selfSigning;
  private Ed25519SecretKey userSigning;

  CrossSigning(Context ctx, AccountKeys account, DeviceTracker devices) {
    this.ctx = ctx;
    this.account = account;
    this.devices = devices;
    ctx.store.value(PRIVATE_KEYS).ifPresent(this::load);
  }

  private void load(byte[] sealed) {
    byte[] plain =
        PickleCipher.mxe2ee(ctx.pickleKey()).decrypt(new String(sealed, StandardCharsets.US_ASCII));
    ObjectNode keys = Context.parseObject(new String(plain, StandardCharsets.UTF_8));
    master = Ed25519SecretKey.fromSeed(UnpaddedBase64.decode(keys.path("master").asText()));
    selfSigning =
        Ed25519SecretKey.fromSeed(UnpaddedBase64.decode(keys.path("self_signing").asText()));
    userSigning =
        Ed25519SecretKey.fromSeed(UnpaddedBase64.decode(keys.path("user_signing").asText()));
  }

  /**
   * True if we hold the private master key of our published identity (or have created one not yet
   * seen on the server): our own identity is then trusted.
   */
  boolean holdsMasterKey() {
    if (master == null) {
      return false;
    }
    UserIdentity published = devices.identity(ctx.userId());
    return published == null || published.master().publicKey().equals(master.publicKey());
  }

  /** Creates keys, saves them, and returns the upload and our device's signature upload. */
  List<OutgoingRequest> bootstrap(Changes changes) {
    generate(changes);
    OutgoingRequest keys = uploadRequest();
    OutgoingRequest device = signOwnDevice(account.deviceKeys(), changes);
    devices.invalidateIdentity(ctx.userId());
    devices.track(List.of(ctx.userId()), changes);
    changes.putTrackedUser(new io.github.mxe2ee.store.TrackedUser(ctx.userId(), true));
    return List.of(keys, device);
  }

  /** True if we hold all three private keys. */
  boolean holdsKeys() {
    return master != null && selfSigning != null && userSigning != null;
  }

  /** Creates three new keys and saves them with {@code changes} (before anything is uploaded). */
  void generate(Changes changes) {
    adopt(
        Ed25519SecretKey.generate(ctx.config.random()),
        Ed25519SecretKey.generate(ctx.config.random()),
        Ed25519SecretKey.generate(ctx.config.random()),
        changes);
  }

  /** Takes these private keys (restored from secret storage) as ours and saves them. */
  void adopt(
      Ed25519SecretKey master,
      Ed25519SecretKey selfSigning,
      Ed25519SecretKey userSigning,
      Changes changes) {
    this.master = master;
    this.selfSigning = selfSigning;
    this.userSigning = userSigning;
    ObjectNode sealed = Context.object();
    sealed.put("master", UnpaddedBase64.encode(master.exposeSecretBytes()));
    sealed.put("self_signing", UnpaddedBase64.encode(selfSigning.exposeSecretBytes()));
    sealed.put("user_signing", UnpaddedBase64.encode(userSigning.exposeSecretBytes()));
    String encrypted =
        PickleCipher.mxe2ee(ctx.pickleKey())
            .encrypt(sealed.toString().getBytes(StandardCharsets.UTF_8));
    changes.putValue(PRIVATE_KEYS, encrypted.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Our private keys by usage ({@code master}, {@code self_signing}, {@code user_signing}), or null
   * if we hold none. Secret: callers encrypt them and never log them.
   */
  Ed25519SecretKey privateKey(io.github.mxe2ee.device.KeyUsage usage) {
    return switch (usage) {
      case MASTER -> master;
      case SELF_SIGNING -> selfSigning;
      case USER_SIGNING -> userSigning;
    };
  }

  /**
   * The {@code /keys/device_signing/upload} request for the keys we hold: the same body every time
   * (Ed25519 signatures are deterministic), so a repeated upload after a lost response is a no-op.
   *
   * @throws IllegalStateException if we hold no keys
   */
  OutgoingRequest uploadRequest() {
    if (!holdsKeys()) {
      throw new IllegalStateException("no cross-signing keys: generate or restore them first");
    }
    ObjectNode masterJson = keyJson("master", master);
    account.signWithDevice(masterJson);
    ObjectNode selfJson = keyJson("self_signing", selfSigning);
    sign(selfJson, master);
    ObjectNode userJson = keyJson("user_signing", userSigning);
    sign(userJson, master);
    ObjectNode upload = Context.object();
    upload.set("master_key", masterJson);
    upload.set("self_signing_key", selfJson);
    upload.set("user_signing_key", userJson);
    return new OutgoingRequest(ctx.newRequestId(), RequestType.SIGNING_KEYS_UPLOAD, upload, null);
  }

  private ObjectNode keyJson(String usage, Ed25519SecretKey key) {
    ObjectNode json = Context.object();
    json.put("user_id", ctx.userId());
    json.putArray("usage").add(usage);
    String b64 = key.publicKey().toBase64();
    json.putObject("keys").put("ed25519:" + b64, b64);
    return json;
  }

  private void sign(ObjectNode json, Ed25519SecretKey key) {
    JsonSigning.sign(json, ctx.userId(), "ed25519:" + key.publicKey().toBase64(), key);
  }

  /**
   * Signs one of our own devices with the self-signing key: the stored copy gets the signature at
   * once (so trust is computed from it) and the returned request uploads it.
   *
   * @throws IllegalStateException if we hold no self-signing key, or the device is not ours
   */
  OutgoingRequest signOwnDevice(DeviceKeys device, Changes changes) {
    if (selfSigning == null) {
      throw new IllegalStateException("no self-signing key: bootstrap cross-signing first");
    }
    if (!device.userId().equals(ctx.userId())) {
      throw new IllegalStateException("only devices of our own user can be self-signed");
    }
    ObjectNode json = device.toJson();
    json.remove("unsigned");
    sign(json, selfSigning);
    Optional<DeviceRecord> record = devices.deviceRecord(ctx.userId(), device.deviceId());
    if (record.isPresent()) {
      // Trust attaches to keys: the row's local trust carries over only if it was given to these.
      devices.putDevice(
          new DeviceRecord(
              ctx.userId(),
              device.deviceId(),
              json.toString(),
              devices.localTrust(ctx.userId(), device),
              record.get().deleted()),
          changes);
    }
    ObjectNode body = Context.object();
    body.putObject(ctx.userId()).set(device.deviceId(), json);
    return new OutgoingRequest(ctx.newRequestId(), RequestType.SIGNATURE_UPLOAD, body, null);
  }

  /**
   * Signs another user's master key with our user-signing key (spec: "Cross-signing": a user
   * verified by us is signed by our user-signing key): the stored identity gets the signature at
   * once, with its local trust set to verified, and the returned request uploads it.
   *
   * @param other the other user's stored identity, whose master key a verification proved
   * @throws IllegalStateException if we hold no user-signing key, or {@code other} is our own
   */
  OutgoingRequest signUserIdentity(UserIdentity other, Changes changes) {
    if (userSigning == null) {
      throw new IllegalStateException("no user-signing key: bootstrap cross-signing first");
    }
    String user = other.master().userId();
    if (user.equals(ctx.userId())) {
      throw new IllegalStateException("our own master key is not signed by our user-signing key");
    }
    ObjectNode master = other.master().toJson().deepCopy();
    master.remove("unsigned");
    sign(master, userSigning);
    ObjectNode stored = Context.object();
    stored.set("master_key", master);
    stored.set("self_signing_key", other.selfSigning().toJson());
    if (other.userSigning() != null) {
      stored.set("user_signing_key", other.userSigning().toJson());
    }
    devices.putIdentityRecord(
        new io.github.mxe2ee.store.CrossSigningIdentityRecord(
            user, stored.toString(), io.github.mxe2ee.device.LocalTrust.VERIFIED),
        changes);
    ObjectNode body = Context.object();
    body.putObject(user).set(other.master().publicKey().toBase64(), master);
    return new OutgoingRequest(ctx.newRequestId(), RequestType.SIGNATURE_UPLOAD, body, null);
  }
}
