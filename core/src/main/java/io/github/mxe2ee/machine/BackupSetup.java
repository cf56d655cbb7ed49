package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.backup.BackupEncryptionKey;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.KeyUsage;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.secrets.EncryptedSecret;
import io.github.mxe2ee.secrets.KeyDescription;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.github.mxe2ee.store.Changes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One run of the key backup bootstrap (docs/KEY_BACKUP.md; spec {@code end_to_end_encryption.md},
 * "Server-side key backups", and {@code secrets.md}, "Storage"). Like {@link IdentitySetup} it
 * reads the server's state first and derives every write from it, so a run after a crash finishes
 * the earlier one instead of creating a second version:
 *
 * <pre>
 * phase         requests                                 why
 * ------------  ---------------------------------------  -------------------------------------
 * FETCH         GET room_keys/version, default_key,      the current version, the backup key
 *               m.megolm_backup.v1                       in secret storage
 * FETCH_KEY     GET m.secret_storage.key.[id]            the recovery key must open 4S
 * DECIDE        (none: the backup key is chosen, or      the private key is saved before any
 *               generated, and saved in this step)       request carries it
 * WRITE_SECRET  PUT m.megolm_backup.v1                   in 4S before a version uses it
 * CREATE        POST room_keys/version                   only if the server has no version
 * </pre>
 *
 * <p>An existing version is used only if its {@code auth_data} is signed by our master key or a
 * verified device of ours <em>and</em> its public key is the backup key in secret storage (or, when
 * 4S lost it, the one in this store, which is then written back). Otherwise nothing is uploaded: it
 * is somebody else's backup, or a replaced one, and replacing it is not ours to decide. A new
 * version is created only when the server has none, after its key is in this store and in 4S, so a
 * crash never leaves a version whose key is in neither, and the next run finds the version instead
 * of making another.
 *
 * <p>Holds the recovery key for the run only. Package-private; one thread.
 */
final class BackupSetup {
  /** The secret name of the backup key (spec, "Server-side key backups", "Storing the key"). */
  static final String SECRET_NAME = "m.megolm_backup.v1";

  private enum Phase {
    FETCH,
    FETCH_KEY,
    DECIDE,
    WRITE_SECRET,
    CREATE,
    FINISH
  }

  private static final JsonNode ABSENT = Context.object().put("mxe2ee.absent", true);

  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private final CrossSigning crossSigning;
  private final KeyBackups backups;
  private final SecretStorageKey recoveryKey;

  private Phase phase = Phase.FETCH;
  private final Map<String, OutgoingRequest> pending = new LinkedHashMap<>();
  private final Map<String, JsonNode> accountData = new HashMap<>();
  private JsonNode serverVersion = ABSENT;
  private String failure;
  private boolean untrusted;

  private BackupDecryptionKey key;
  private OutgoingRequest secretWrite;
  private boolean create;
  private String version;

  BackupSetup(
      Context ctx,
      AccountKeys account,
      DeviceTracker devices,
      CrossSigning crossSigning,
      KeyBackups backups,
      SecretStorageKey recoveryKey) {
    this.ctx = ctx;
    this.account = account;
    this.devices = devices;
    this.crossSigning = crossSigning;
    this.backups = backups;
    this.recoveryKey = recoveryKey;
  }

  /** True if {@code requestId} is one of this run's unanswered requests. */
  boolean owns(String requestId) {
    return pending.containsKey(requestId);
  }

  /** The request of this run with {@code requestId}, or null. */
  OutgoingRequest pending(String requestId) {
    return pending.get(requestId);
  }

  /** The next step; saves a generated or restored backup key with {@code changes}. */
  BackupStep next(Changes changes) {
    while (true) {
      if (failure != null) {
        if (untrusted) {
          backups.disable(changes);
        }
        return new BackupStep.Disabled(failure);
      }
      if (!pending.isEmpty()) {
        return new BackupStep.Send(new ArrayList<>(pending.values()));
      }
      switch (phase) {
        case FETCH -> {
          if (!crossSigning.holdsMasterKey()) {
            fail("no cross-signing identity of our own: bootstrap the identity first");
            continue;
          }
          add(
              new OutgoingRequest(
                  ctx.newRequestId(), RequestType.BACKUP_VERSION_GET, Context.object(), null));
          add(get(IdentitySetup.DEFAULT_KEY));
          add(get(SECRET_NAME));
          phase = Phase.FETCH_KEY;
        }
        case FETCH_KEY -> {
          String id = defaultKeyId();
          if (id == null) {
            fail("secret storage has no default key: bootstrap the identity first");
            continue;
          }
          add(get(IdentitySetup.KEY_PREFIX + id));
          phase = Phase.DECIDE;
        }
        case DECIDE -> {
          decide(changes);
          phase = Phase.WRITE_SECRET;
        }
        case WRITE_SECRET -> {
          if (secretWrite != null) {
            add(secretWrite);
          }
          phase = Phase.CREATE;
        }
        case CREATE -> {
          if (create) {
            add(createRequest());
          }
          phase = Phase.FINISH;
        }
        case FINISH -> {
          if (version == null) {
            fail("the server created no backup version");
            continue;
          }
          backups.enable(version, key.encryptionKey(), changes);
          if (create) {
            backups.markRestored(version, changes); // a new version holds nothing to restore
          }
          return new BackupStep.Enabled(version, create);
        }
      }
    }
  }

  /** A response to one of this run's requests. */
  void onSent(OutgoingRequest request, JsonNode response) {
    pending.remove(request.requestId());
    switch (request.type()) {
      case BACKUP_VERSION_GET -> serverVersion = response;
      case ACCOUNT_DATA_GET -> accountData.put(request.accountDataType(), response);
      case BACKUP_VERSION_CREATE -> {
        JsonNode v = response.get("version");
        if (v == null || !v.isTextual() || !MachineLimits.saneId(v.asText())) {
          fail("the server's answer to the backup version creation has no usable version");
        } else {
          version = v.asText();
        }
      }
      default -> {}
    }
  }

  /** A failure of one of this run's requests (after the caller's retries). */
  void onFailed(OutgoingRequest request, int status, JsonNode error) {
    pending.remove(request.requestId());
    String errcode = error == null ? null : error.path("errcode").asText(null);
    boolean notFound = status == 404 || "M_NOT_FOUND".equals(errcode);
    if (notFound && request.type() == RequestType.ACCOUNT_DATA_GET) {
      accountData.put(request.accountDataType(), ABSENT);
      return;
    }
    if (notFound && request.type() == RequestType.BACKUP_VERSION_GET) {
      serverVersion = ABSENT;
      return;
    }
    String what =
        request.accountDataType() != null
            ? request.type() + " " + request.accountDataType()
            : request.type().toString();
    fail(what + " failed with HTTP " + status + (errcode == null ? "" : " " + errcode));
  }

  private void fail(String reason) {
    if (failure == null) {
      failure = reason;
    }
  }

  private void add(OutgoingRequest r) {
    pending.put(r.requestId(), r);
  }

  private OutgoingRequest get(String type) {
    return OutgoingRequest.accountData(
        ctx.newRequestId(), RequestType.ACCOUNT_DATA_GET, ctx.userId(), type, Context.object());
  }

  private String defaultKeyId() {
    JsonNode k = accountData.getOrDefault(IdentitySetup.DEFAULT_KEY, ABSENT).get("key");
    return k != null && k.isTextual() && !k.asText().isEmpty() ? k.asText() : null;
  }

  // ------------------------------------------------------------ decide

  private void decide(Changes changes) {
    String keyId = defaultKeyId();
    KeyDescription description;
    try {
      description =
          KeyDescription.fromJson(
              accountData.getOrDefault(IdentitySetup.KEY_PREFIX + keyId, ABSENT));
    } catch (DecodeException e) {
      fail("the secret storage key " + keyId + " has a description this client cannot use");
      return;
    }
    if (!recoveryKey.matches(description)) {
      fail("the recovery key does not open secret storage (default key " + keyId + ")");
      return;
    }
    BackupDecryptionKey stored = storedSecret(keyId);
    BackupDecryptionKey local = backups.decryptionKey().orElse(null);
    if (serverVersion != ABSENT) {
      useExisting(stored, local, keyId, changes);
      return;
    }
    // No version on the server: 4S wins (another run or device of ours put it there), then the
    // store (a run that stopped before its 4S write), else a new key.
    key =
        stored != null
            ? stored
            : local != null ? local : BackupDecryptionKey.generate(ctx.config.random());
    if (local == null || !sameKey(local, key)) {
      backups.saveDecryptionKey(key, changes);
    }
    if (stored == null) {
      secretWrite = putSecret(keyId, key);
    }
    create = true;
  }

  private void useExisting(
      BackupDecryptionKey stored, BackupDecryptionKey local, String keyId, Changes changes) {
    String v = serverVersion.path("version").asText(null);
    if (v == null || !MachineLimits.saneId(v)) {
      fail("the server's current backup version is malformed");
      return;
    }
    String algorithm = serverVersion.path("algorithm").asText("");
    if (!BackupEncryptionKey.ALGORITHM.equals(algorithm)) {
      // The server's text goes into a log line: shown only if it is a sane, short identifier.
      String shown = MachineLimits.saneId(algorithm) ? algorithm : "(unreadable)";
      untrust(v, "it uses the algorithm " + shown + ", not " + BackupEncryptionKey.ALGORITHM);
      return;
    }
    JsonNode authData = serverVersion.get("auth_data");
    BackupEncryptionKey published;
    try {
      published = BackupEncryptionKey.fromBase64(authData.path("public_key").asText(""));
    } catch (DecodeException e) {
      untrust(v, "its auth_data has no valid public_key");
      return;
    }
    if (!(authData instanceof ObjectNode signed) || !signedByUs(signed)) {
      untrust(v, "its auth_data is not signed by our master key or a verified device of ours");
      return;
    }
    if (stored != null && stored.matches(published.publicKey())) {
      key = stored;
    } else if (stored == null && local != null && local.matches(published.publicKey())) {
      key = local; // 4S lost the key: it is written back before the backup is used
      secretWrite = putSecret(keyId, key);
    } else {
      untrust(
          v,
          stored == null
              ? "secret storage holds no backup key this recovery key opens"
              : "its public key is not the backup key in secret storage");
      return;
    }
    if (local == null || !sameKey(local, key)) {
      backups.saveDecryptionKey(key, changes);
    }
    version = v;
  }

  private void untrust(String v, String why) {
    untrusted = true;
    fail(
        "not backing up room keys to the server's backup version "
            + v
            + ": "
            + why
            + ". Nothing was replaced; see docs/KEY_BACKUP.md");
  }

  /** True if our master key or a verified device of ours (this one included) signed it. */
  private boolean signedByUs(ObjectNode authData) {
    Ed25519PublicKey master = crossSigning.privateKey(KeyUsage.MASTER).publicKey();
    if (JsonSigning.verify(authData, ctx.userId(), "ed25519:" + master.toBase64(), master)) {
      return true;
    }
    JsonNode ours = authData.path("signatures").path(ctx.userId());
    for (Iterator<String> it = ours.fieldNames(); it.hasNext(); ) {
      String keyId = it.next();
      if (!keyId.startsWith("ed25519:")) {
        continue;
      }
      String deviceId = keyId.substring("ed25519:".length());
      DeviceKeys device =
          deviceId.equals(ctx.deviceId())
              ? account.deviceKeys()
              : devices.devices(ctx.userId()).get(deviceId);
      if (device == null) {
        continue;
      }
      boolean verified =
          deviceId.equals(ctx.deviceId())
              || devices.trust(ctx.userId(), device, crossSigning.holdsMasterKey()).isVerified();
      if (verified && JsonSigning.verify(authData, ctx.userId(), keyId, device.ed25519())) {
        return true;
      }
    }
    return false;
  }

  /** The backup key in secret storage that decrypts with the recovery key, or null. */
  private BackupDecryptionKey storedSecret(String keyId) {
    JsonNode entry = accountData.getOrDefault(SECRET_NAME, ABSENT).path("encrypted").get(keyId);
    if (entry == null) {
      return null;
    }
    byte[] plain = null;
    byte[] raw = null;
    try {
      plain = recoveryKey.decrypt(SECRET_NAME, EncryptedSecret.fromJson(entry));
      String text = new String(plain, StandardCharsets.UTF_8).trim();
      while (text.endsWith("=")) {
        text = text.substring(0, text.length() - 1);
      }
      raw = UnpaddedBase64.decode(text);
      return BackupDecryptionKey.fromBytes(raw);
    } catch (CryptoException | DecodeException | IllegalArgumentException e) {
      return null; // tampered, wrong key or malformed: absent (rewritten if we hold the key)
    } finally {
      if (plain != null) {
        java.util.Arrays.fill(plain, (byte) 0);
      }
      if (raw != null) {
        java.util.Arrays.fill(raw, (byte) 0);
      }
    }
  }

  private OutgoingRequest putSecret(String keyId, BackupDecryptionKey k) {
    byte[] raw = k.exposeSecretBytes();
    byte[] text = UnpaddedBase64.encode(raw).getBytes(StandardCharsets.UTF_8);
    try {
      EncryptedSecret secret = recoveryKey.encrypt(SECRET_NAME, text, ctx.config.random());
      ObjectNode content = Context.object();
      content.putObject("encrypted").set(keyId, secret.toJson());
      return OutgoingRequest.accountData(
          ctx.newRequestId(), RequestType.ACCOUNT_DATA_PUT, ctx.userId(), SECRET_NAME, content);
    } finally {
      java.util.Arrays.fill(raw, (byte) 0);
      java.util.Arrays.fill(text, (byte) 0);
    }
  }

  /** {@code POST /room_keys/version}: auth_data signed by this device and our master key. */
  private OutgoingRequest createRequest() {
    ObjectNode authData = key.encryptionKey().authData();
    authData.remove("signatures");
    byte[] bytes = JsonSigning.signedBytes(authData);
    String deviceSignature = account.account().sign(bytes).toBase64();
    var master = crossSigning.privateKey(KeyUsage.MASTER);
    JsonSigning.sign(authData, ctx.userId(), "ed25519:" + master.publicKey().toBase64(), master);
    ((ObjectNode) authData.get("signatures").get(ctx.userId()))
        .put("ed25519:" + ctx.deviceId(), deviceSignature);
    ObjectNode body = Context.object();
    body.put("algorithm", BackupEncryptionKey.ALGORITHM);
    body.set("auth_data", authData);
    return new OutgoingRequest(ctx.newRequestId(), RequestType.BACKUP_VERSION_CREATE, body, null);
  }

  private static boolean sameKey(BackupDecryptionKey a, BackupDecryptionKey b) {
    return a.encryptionKey().equals(b.encryptionKey());
  }

  @Override
  public String toString() {
    return "BackupSetup[" + ctx.userId() + " " + phase + "]";
  }
}
