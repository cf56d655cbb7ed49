package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.device.CrossSigningKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceKeysException;
import io.github.mxe2ee.device.KeyUsage;
import io.github.mxe2ee.secrets.EncryptedSecret;
import io.github.mxe2ee.secrets.KeyDescription;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.TrackedUser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of the identity bootstrap (docs/IDENTITY.md; spec {@code end_to_end_encryption.md},
 * "Cross-signing", and {@code secrets.md}, "Storage"). It reads the server's state first and
 * derives every write from it, so a run after a crash at any point finishes the earlier run instead
 * of starting another identity:
 *
 * <pre>
 * phase          requests                                   why
 * -------------  -----------------------------------------  ------------------------------------
 * FETCH          POST keys/query (own user)                 the published identity, own device
 *                GET default_key, the 3 cross-signing secrets
 * FETCH_KEY      GET m.secret_storage.key.[id]              the default key's description
 * DECIDE         (none: keys generated or restored and      private keys are saved before any
 *                saved in this step)                        write leaves
 * WRITE_KEY      PUT m.secret_storage.key.[id]              a description before anything uses it
 * WRITE_SECRETS  PUT default_key, the missing secrets       private keys are in 4S before the
 *                                                           public keys are published
 * UPLOAD         POST keys/device_signing/upload (UIA)      only if the server lacks our keys
 * SIGN           POST keys/signatures/upload                only if this device is not signed
 * </pre>
 *
 * <p>Which private keys: if the server has a master key, only keys matching it (ours from the
 * store, else the ones in secret storage); none matching is a refusal, never an overwrite. If the
 * server has none, a complete set in secret storage (an earlier run that stopped before its upload)
 * wins over the store, and new keys are made only when neither has one. A default key that the
 * recovery key does not open is a refusal too: its secrets may be someone's only copy.
 *
 * <p>Holds the recovery key for the run only. Package-private; one thread.
 */
final class IdentitySetup {
  static final String DEFAULT_KEY = "m.secret_storage.default_key";
  static final String KEY_PREFIX = "m.secret_storage.key.";

  /** The secret names of the three private keys (spec, "Cross-signing"), in usage order. */
  static final Map<KeyUsage, String> SECRET_NAMES = new EnumMap<>(KeyUsage.class);

  static {
    SECRET_NAMES.put(KeyUsage.MASTER, "m.cross_signing.master");
    SECRET_NAMES.put(KeyUsage.SELF_SIGNING, "m.cross_signing.self_signing");
    SECRET_NAMES.put(KeyUsage.USER_SIGNING, "m.cross_signing.user_signing");
  }

  /** Name written into a key description this bootstrap creates. */
  static final String KEY_NAME = "mxe2ee recovery key";

  /** Bytes of a new secret storage key id (random, as the spec leaves the id to the client). */
  private static final int KEY_ID_BYTES = 24;

  private enum Phase {
    FETCH,
    FETCH_KEY,
    DECIDE,
    WRITE_KEY,
    WRITE_SECRETS,
    UPLOAD,
    SIGN,
    FINISH
  }

  /** Marks an account-data event the server does not have (a 404 on GET). */
  private static final JsonNode ABSENT = Context.object().put("mxe2ee.absent", true);

  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private final CrossSigning crossSigning;
  private final SecretStorageKey recoveryKey;

  private Phase phase = Phase.FETCH;
  private final Map<String, OutgoingRequest> pending = new LinkedHashMap<>();
  private final Map<String, JsonNode> accountData = new HashMap<>();
  private String queryId;
  private JsonNode query;
  private String failure;

  private String keyId;
  private final List<OutgoingRequest> keyWrites = new ArrayList<>();
  private final List<OutgoingRequest> secretWrites = new ArrayList<>();
  private boolean upload;
  private boolean sign;
  private IdentityStep.Source source = IdentityStep.Source.STORE;

  IdentitySetup(
      Context ctx,
      AccountKeys account,
      DeviceTracker devices,
      CrossSigning crossSigning,
      SecretStorageKey recoveryKey) {
    this.ctx = ctx;
    this.account = account;
    this.devices = devices;
    this.crossSigning = crossSigning;
    this.recoveryKey = recoveryKey;
  }

  /** True if {@code requestId} is one of this run's unanswered requests. */
  boolean owns(String requestId) {
    return pending.containsKey(requestId);
  }

  /** The next step; saves generated or restored keys with {@code changes}. */
  IdentityStep next(Changes changes) {
    while (true) {
      if (failure != null) {
        return new IdentityStep.Refused(failure);
      }
      if (!pending.isEmpty()) {
        return new IdentityStep.Send(new ArrayList<>(pending.values()));
      }
      switch (phase) {
        case FETCH -> {
          ObjectNode body = Context.object();
          body.putObject("device_keys").putArray(ctx.userId());
          OutgoingRequest q =
              new OutgoingRequest(ctx.newRequestId(), RequestType.KEYS_QUERY, body, null);
          queryId = q.requestId();
          add(q);
          add(get(DEFAULT_KEY));
          SECRET_NAMES.values().forEach(name -> add(get(name)));
          phase = Phase.FETCH_KEY;
        }
        case FETCH_KEY -> {
          String id = defaultKeyId();
          if (id != null) {
            add(get(KEY_PREFIX + id));
          }
          phase = Phase.DECIDE;
        }
        case DECIDE -> {
          decide(changes);
          phase = Phase.WRITE_KEY;
        }
        case WRITE_KEY -> {
          keyWrites.forEach(this::add);
          phase = Phase.WRITE_SECRETS;
        }
        case WRITE_SECRETS -> {
          secretWrites.forEach(this::add);
          phase = Phase.UPLOAD;
        }
        case UPLOAD -> {
          if (upload) {
            add(crossSigning.uploadRequest());
          }
          phase = Phase.SIGN;
        }
        case SIGN -> {
          if (sign) {
            add(crossSigning.signOwnDevice(account.deviceKeys(), changes));
          }
          phase = Phase.FINISH;
        }
        case FINISH -> {
          // Our own identity and devices are read again, now with the new signatures.
          devices.invalidateIdentity(ctx.userId());
          changes.putTrackedUser(new TrackedUser(ctx.userId(), true));
          return new IdentityStep.Done(
              crossSigning.privateKey(KeyUsage.MASTER).publicKey().toBase64(), source);
        }
      }
    }
  }

  /** A response to one of this run's requests. */
  void onSent(OutgoingRequest request, JsonNode response) {
    pending.remove(request.requestId());
    switch (request.type()) {
      case KEYS_QUERY -> query = response;
      case ACCOUNT_DATA_GET -> accountData.put(request.accountDataType(), response);
      case SIGNATURE_UPLOAD -> {
        JsonNode failed = response.path("failures").path(ctx.userId()).path(ctx.deviceId());
        if (!failed.isMissingNode()) {
          fail(
              "the server refused this device's self-signature: "
                  + failed.path("errcode").asText("no errcode"));
        }
      }
      default -> {}
    }
  }

  /** A failure of one of this run's requests (after the caller's retries and auth). */
  void onFailed(OutgoingRequest request, int status, JsonNode error) {
    pending.remove(request.requestId());
    String errcode = error == null ? null : error.path("errcode").asText(null);
    if (request.type() == RequestType.ACCOUNT_DATA_GET
        && (status == 404 || "M_NOT_FOUND".equals(errcode))) {
      accountData.put(request.accountDataType(), ABSENT);
      return;
    }
    String what =
        request.type() == RequestType.ACCOUNT_DATA_GET
                || request.type() == RequestType.ACCOUNT_DATA_PUT
            ? request.type() + " " + request.accountDataType()
            : request.type().toString();
    String detail = error == null ? "" : ": " + error.path("error").asText("");
    fail(what + " failed with HTTP " + status + (errcode == null ? "" : " " + errcode) + detail);
  }

  /** The request of this run with {@code requestId}, or null. */
  OutgoingRequest pending(String requestId) {
    return pending.get(requestId);
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

  private OutgoingRequest put(String type, ObjectNode content) {
    return OutgoingRequest.accountData(
        ctx.newRequestId(), RequestType.ACCOUNT_DATA_PUT, ctx.userId(), type, content);
  }

  private String defaultKeyId() {
    JsonNode key = accountData.getOrDefault(DEFAULT_KEY, ABSENT).get("key");
    return key != null && key.isTextual() && !key.asText().isEmpty() ? key.asText() : null;
  }

  // ------------------------------------------------------------ decide

  private void decide(Changes changes) {
    Map<KeyUsage, Ed25519PublicKey> server;
    try {
      server = serverKeys();
    } catch (DecodeException e) {
      fail("the server's cross-signing keys of " + ctx.userId() + " are malformed: " + e);
      return;
    }
    if (!openStorage()) {
      return;
    }
    Map<KeyUsage, Ed25519SecretKey> stored = storedSecrets();
    Ed25519PublicKey serverMaster = server.get(KeyUsage.MASTER);
    if (serverMaster != null) {
      if (matches(localKeys(), server)) {
        source = IdentityStep.Source.STORE;
      } else if (matches(stored, server)) {
        adopt(stored, changes);
        source = IdentityStep.Source.RESTORED;
      } else {
        fail(refusal(serverMaster, stored));
        return;
      }
    } else if (stored.size() == 3) {
      // An earlier run (maybe of a lost store) put these in 4S and stopped before its upload.
      if (!matches(localKeys(), publicKeys(stored))) {
        adopt(stored, changes);
        source = IdentityStep.Source.RESTORED;
      }
    } else if (!crossSigning.holdsKeys()) {
      crossSigning.generate(changes);
      source = IdentityStep.Source.CREATED;
    }
    Map<KeyUsage, Ed25519SecretKey> ours = localKeys();
    for (Map.Entry<KeyUsage, String> e : SECRET_NAMES.entrySet()) {
      Ed25519SecretKey have = stored.get(e.getKey());
      Ed25519SecretKey want = ours.get(e.getKey());
      if (have == null || !have.publicKey().equals(want.publicKey())) {
        secretWrites.add(put(e.getValue(), encryptedSecret(e.getValue(), want)));
      }
    }
    upload = !matches(ours, server);
    sign = upload || !ownDeviceSigned(ours.get(KeyUsage.SELF_SIGNING).publicKey());
  }

  /**
   * Reads the default key and its description: true if the recovery key opens it (keyId set) or
   * there is none (keyId and the writes of a new one set); false after a refusal.
   */
  private boolean openStorage() {
    String id = defaultKeyId();
    JsonNode descJson = id == null ? ABSENT : accountData.getOrDefault(KEY_PREFIX + id, ABSENT);
    if (id == null || descJson == ABSENT) {
      byte[] raw = new byte[KEY_ID_BYTES];
      ctx.config.random().nextBytes(raw);
      keyId = UnpaddedBase64.encodeUrlSafe(raw);
      KeyDescription description = recoveryKey.describe(KEY_NAME, null, ctx.config.random());
      keyWrites.add(put(KEY_PREFIX + keyId, description.toJson()));
      ObjectNode defaultKey = Context.object().put("key", keyId);
      secretWrites.add(put(DEFAULT_KEY, defaultKey));
      return true;
    }
    KeyDescription description;
    try {
      description = KeyDescription.fromJson(descJson);
    } catch (DecodeException e) {
      fail(
          "the secret storage key "
              + id
              + " of "
              + ctx.userId()
              + " has a description this client cannot use ("
              + e.getMessage()
              + "); nothing was changed");
      return false;
    }
    if (!recoveryKey.matches(description)) {
      fail(
          "the recovery key does not open the secret storage of "
              + ctx.userId()
              + " (default key "
              + id
              + "): configure the recovery key that created it; nothing was changed");
      return false;
    }
    keyId = id;
    return true;
  }

  /** The cross-signing keys in secret storage that decrypt with the recovery key, by usage. */
  private Map<KeyUsage, Ed25519SecretKey> storedSecrets() {
    Map<KeyUsage, Ed25519SecretKey> out = new EnumMap<>(KeyUsage.class);
    if (!keyWrites.isEmpty()) {
      return out; // a new default key: nothing can be stored under it yet
    }
    for (Map.Entry<KeyUsage, String> e : SECRET_NAMES.entrySet()) {
      JsonNode entry = accountData.getOrDefault(e.getValue(), ABSENT).path("encrypted").get(keyId);
      if (entry == null) {
        continue;
      }
      try {
        byte[] plain = recoveryKey.decrypt(e.getValue(), EncryptedSecret.fromJson(entry));
        byte[] seed = UnpaddedBase64.decode(new String(plain, StandardCharsets.UTF_8).trim());
        java.util.Arrays.fill(plain, (byte) 0);
        try {
          out.put(e.getKey(), Ed25519SecretKey.fromSeed(seed));
        } finally {
          java.util.Arrays.fill(seed, (byte) 0);
        }
      } catch (CryptoException | DecodeException | IllegalArgumentException ignored) {
        // Tampered, wrong key or malformed: treated as absent (rewritten if we hold the key).
      }
    }
    return out;
  }

  private ObjectNode encryptedSecret(String name, Ed25519SecretKey key) {
    byte[] seed = key.exposeSecretBytes();
    byte[] text = UnpaddedBase64.encode(seed).getBytes(StandardCharsets.UTF_8);
    try {
      EncryptedSecret secret = recoveryKey.encrypt(name, text, ctx.config.random());
      ObjectNode content = Context.object();
      content.putObject("encrypted").set(keyId, secret.toJson());
      return content;
    } finally {
      java.util.Arrays.fill(seed, (byte) 0);
      java.util.Arrays.fill(text, (byte) 0);
    }
  }

  private void adopt(Map<KeyUsage, Ed25519SecretKey> keys, Changes changes) {
    crossSigning.adopt(
        keys.get(KeyUsage.MASTER),
        keys.get(KeyUsage.SELF_SIGNING),
        keys.get(KeyUsage.USER_SIGNING),
        changes);
  }

  private String refusal(Ed25519PublicKey serverMaster, Map<KeyUsage, Ed25519SecretKey> stored) {
    String why =
        stored.isEmpty()
            ? "secret storage holds no cross-signing keys this recovery key opens"
            : "the keys in secret storage are not the server's";
    return "the server already has a cross-signing identity for "
        + ctx.userId()
        + " (master key "
        + serverMaster.toBase64()
        + ") and this device cannot restore it: "
        + why
        + ". Nothing was overwritten; configure the recovery key of that identity, or reset the"
        + " identity deliberately (see docs/IDENTITY.md)";
  }

  private Map<KeyUsage, Ed25519SecretKey> localKeys() {
    Map<KeyUsage, Ed25519SecretKey> out = new EnumMap<>(KeyUsage.class);
    if (crossSigning.holdsKeys()) {
      for (KeyUsage u : KeyUsage.values()) {
        out.put(u, crossSigning.privateKey(u));
      }
    }
    return out;
  }

  private static Map<KeyUsage, Ed25519PublicKey> publicKeys(Map<KeyUsage, Ed25519SecretKey> keys) {
    Map<KeyUsage, Ed25519PublicKey> out = new EnumMap<>(KeyUsage.class);
    keys.forEach((u, k) -> out.put(u, k.publicKey()));
    return out;
  }

  /** True if {@code keys} holds all three and they are exactly {@code expected}'s three. */
  private static boolean matches(
      Map<KeyUsage, Ed25519SecretKey> keys, Map<KeyUsage, Ed25519PublicKey> expected) {
    return keys.size() == 3 && publicKeys(keys).equals(expected);
  }

  /** The server's master, self-signing and user-signing keys of our user (those it has). */
  private Map<KeyUsage, Ed25519PublicKey> serverKeys() {
    Map<KeyUsage, Ed25519PublicKey> out = new EnumMap<>(KeyUsage.class);
    if (query == null) {
      throw new DecodeException("no keys/query response");
    }
    String[] fields = {"master_keys", "self_signing_keys", "user_signing_keys"};
    KeyUsage[] usages = KeyUsage.values();
    for (int i = 0; i < fields.length; i++) {
      JsonNode key = query.path(fields[i]).get(ctx.userId());
      if (key != null && !key.isNull()) {
        CrossSigningKey parsed = CrossSigningKey.parse(key);
        if (!parsed.userId().equals(ctx.userId()) || !parsed.has(usages[i])) {
          throw new DeviceKeysException(fields[i] + ": wrong owner or usage");
        }
        out.put(usages[i], parsed.publicKey());
      }
    }
    return out;
  }

  private boolean ownDeviceSigned(Ed25519PublicKey selfSigning) {
    JsonNode json = query.path("device_keys").path(ctx.userId()).get(ctx.deviceId());
    if (json == null) {
      return false;
    }
    try {
      DeviceKeys device = DeviceKeys.parse(json);
      return device.ed25519().equals(account.deviceKeys().ed25519())
          && device.isSignedBy(ctx.userId(), "ed25519:" + selfSigning.toBase64(), selfSigning);
    } catch (DecodeException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "IdentitySetup[" + ctx.userId() + " " + phase + "]";
  }
}
