package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A homeserver in a box for end-to-end encryption tests: two or more machines (Java engines or Rust
 * peers) exchange keys and to-device messages through it without Synapse and without I/O.
 *
 * <p>It implements, on Jackson request bodies, the endpoints an {@code OlmMachine}'s outgoing
 * requests go to ({@code shared/spec/matrix-spec/data/api/client-server/keys.yaml}, {@code
 * to_device.yaml}, {@code cross_signing.yaml}), and the E2EE part of {@code /sync} ({@link #sync}):
 *
 * <pre>
 * request type          endpoint                                  method
 * --------------------  ----------------------------------------  ---------------------
 * keys_upload           POST /_matrix/client/v3/keys/upload        {@link #keysUpload}
 * keys_query            POST /_matrix/client/v3/keys/query         {@link #keysQuery}
 * keys_claim            POST /_matrix/client/v3/keys/claim         {@link #keysClaim}
 * to_device             PUT  /_matrix/client/v3/sendToDevice/...   {@link #sendToDevice}
 * signing_keys_upload   POST /_matrix/client/v3/keys/device_signing/upload  {@link #signingKeysUpload}
 * signature_upload      POST /_matrix/client/v3/keys/signatures/upload      {@link #signaturesUpload}
 * room_message          PUT  /_matrix/client/v3/rooms/.../send/...          {@link #sendRoomEvent}
 * account_data_get      GET  /_matrix/client/v3/user/{user}/account_data/{type}  {@link #accountData}
 * account_data_put      PUT  /_matrix/client/v3/user/{user}/account_data/{type}  {@link #putAccountData}
 * </pre>
 *
 * <p>Faithful where the protocol depends on it, strict where a lenient server would hide a client
 * bug:
 *
 * <ul>
 *   <li>device keys must name the authenticated user and device, carry {@code curve25519:} and
 *       {@code ed25519:} keys for that device, and be self-signed; a re-upload with different keys
 *       is stored and announced as a device-list change (so clients' key-change checks can be
 *       tested);
 *   <li>signed one-time and fallback keys must verify under the device's Ed25519 key; a one-time
 *       key id already on the server with different content is refused with {@code M_INVALID_PARAM}
 *       (as Synapse does); at most one fallback key per algorithm;
 *   <li>one-time keys are claimed at most once, in upload order; when none is left the fallback key
 *       is returned (and stays returnable) and reported used in {@code
 *       device_unused_fallback_key_types} until a new one is uploaded;
 *   <li>cross-signing keys are validated (user id, usage, key id, signed by the master key);
 *       uploaded signatures must match the stored object and verify under the signer's key (own
 *       devices by the self-signing key, the own master key by an own device, another user's master
 *       key by the user-signing key); another user's signatures are only shown to that signer, like
 *       Synapse;
 *   <li>to-device messages are de-duplicated by transaction id per sending device, {@code "*"}
 *       reaches every device of a user, and at most {@link #MAX_TO_DEVICE_PER_SYNC} are delivered
 *       per sync, the rest staying queued;
 *   <li>{@code device_lists.changed} is sent to every device of every user sharing a room with the
 *       user whose keys changed (and to the user's own devices); a new shared room announces both
 *       users as changed to each other, the end of the last shared room announces them as left.
 *       Every room is treated as encrypted.
 * </ul>
 *
 * <p>Not modelled: user-interactive auth on {@code device_signing/upload}, federation, key backup,
 * timeouts. An unknown user or device acting as requester gets {@code M_UNKNOWN_TOKEN}: register
 * devices first with {@link #registerDevice}.
 *
 * <p>Thread-safety: every public method is {@code synchronized}; returned JSON is always a deep
 * copy owned by the caller. Request bodies are never modified. Errors are {@link RouterException}
 * carrying the Matrix {@code errcode}; a failed request changes no state.
 */
public final class InMemoryRouter {
  /**
   * Synapse delivers at most 100 to-device messages per {@code /sync}; clients must cope with the
   * rest arriving in later syncs, so the router does the same.
   */
  public static final int MAX_TO_DEVICE_PER_SYNC = 100;

  /** The one-time key algorithm every count includes, as Synapse reports it even at zero. */
  public static final String SIGNED_CURVE25519 = "signed_curve25519";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final int CURVE25519_KEY_LENGTH = 32;

  private final Clock clock;
  private final Map<String, UserState> users = new TreeMap<>();
  private final Map<String, Set<String>> rooms = new TreeMap<>();
  private final Map<String, List<ObjectNode>> timelines = new HashMap<>();
  private final Set<String> seenTransactions = new HashSet<>();
  private final InMemoryKeyBackups keyBackups = new InMemoryKeyBackups();
  private final Map<String, Map<String, ObjectNode>> accountData = new HashMap<>();
  private long eventCounter;

  /** A router with the system clock for {@code origin_server_ts}. */
  public InMemoryRouter() {
    this(Clock.systemUTC());
  }

  /**
   * @param clock source of {@code origin_server_ts} for room events, not null
   */
  public InMemoryRouter(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  // ---------------------------------------------------------------- accounts and rooms

  /**
   * Logs a device in: it may now make requests and receives to-device messages. Idempotent. The
   * device is announced to others only once it uploads device keys.
   */
  public synchronized void registerDevice(String userId, String deviceId) {
    requireUserId(userId);
    if (deviceId == null || deviceId.isEmpty()) {
      throw new IllegalArgumentException("device id: expected non-empty, got " + deviceId);
    }
    users
        .computeIfAbsent(userId, UserState::new)
        .devices
        .computeIfAbsent(deviceId, id -> new DeviceState(userId, id));
  }

  /** Logs a device out: its keys and queued messages are deleted and the change is announced. */
  public synchronized void deleteDevice(String userId, String deviceId) {
    UserState user = users.get(userId);
    if (user == null || user.devices.remove(deviceId) == null) {
      throw new RouterException(404, "M_NOT_FOUND", "no device " + userId + " / " + deviceId);
    }
    user.extraSignatures.remove(deviceId);
    notifyChanged(userId);
  }

  /** Adds {@code userId} to {@code roomId}, announcing newly shared users to both sides. */
  public synchronized void joinRoom(String roomId, String userId) {
    requireUserId(userId);
    users.computeIfAbsent(userId, UserState::new);
    Set<String> before = usersSharingWith(userId);
    rooms.computeIfAbsent(roomId, r -> new TreeSet<>()).add(userId);
    Set<String> after = usersSharingWith(userId);
    after.removeAll(before);
    for (String other : after) {
      announce(other, userId, true);
      announce(userId, other, true);
    }
  }

  /** Removes {@code userId} from {@code roomId}; users no longer sharing any room see it left. */
  public synchronized void leaveRoom(String roomId, String userId) {
    Set<String> members = rooms.get(roomId);
    if (members == null || !members.contains(userId)) {
      throw new RouterException(403, "M_FORBIDDEN", userId + " is not in " + roomId);
    }
    Set<String> before = usersSharingWith(userId);
    members.remove(userId);
    Set<String> after = usersSharingWith(userId);
    before.removeAll(after);
    for (String other : before) {
      announce(other, userId, false);
      announce(userId, other, false);
    }
  }

  /** The members of a room, sorted; empty for an unknown room. */
  public synchronized List<String> members(String roomId) {
    return List.copyOf(rooms.getOrDefault(roomId, Set.of()));
  }

  // ---------------------------------------------------------------- dispatch

  /**
   * Serves one outgoing request of a machine, in the shape the Rust peer and {@code
   * docs/interop-protocol.md} use: {@code {type, body, event_type?, txn_id?, room_id?}}.
   *
   * @return the response body the machine should be given in {@code mark_request_as_sent}
   * @throws RouterException as the homeserver would answer with an error
   */
  public synchronized ObjectNode route(String userId, String deviceId, ObjectNode request) {
    String type = text(request, "type", "request");
    ObjectNode body = object(request, "body", "request");
    return switch (type) {
      case "keys_upload" -> keysUpload(userId, deviceId, body);
      case "keys_query" -> keysQuery(userId, deviceId, body);
      case "keys_claim" -> keysClaim(userId, deviceId, body);
      case "to_device" ->
          sendToDevice(
              userId,
              deviceId,
              text(request, "event_type", "request"),
              text(request, "txn_id", "request"),
              body);
      case "signing_keys_upload" -> signingKeysUpload(userId, deviceId, body);
      case "signature_upload" -> signaturesUpload(userId, deviceId, body);
      case "keys_backup" -> keyBackups.put(userId, text(request, "version", "request"), body);
      case "backup_version_get" -> keyBackups.currentVersion(userId);
      case "backup_version_create" -> {
        ObjectNode response = JSON.objectNode();
        response.put(
            "version",
            keyBackups.createVersion(
                userId,
                text(body, "algorithm", "room_keys/version"),
                object(body, "auth_data", "room_keys/version")));
        yield response;
      }
      case "backup_keys_get" ->
          request.has("room_id")
              ? keyBackups.getSession(
                  userId,
                  text(request, "version", "request"),
                  text(request, "room_id", "request"),
                  text(request, "session_id", "request"))
              : keyBackups.get(userId, text(request, "version", "request"));
      case "account_data_get" -> {
        ObjectNode content = accountData(userId, text(request, "account_data_type", "request"));
        if (content == null) {
          throw new RouterException(404, "M_NOT_FOUND", "Account data not found");
        }
        yield content;
      }
      case "account_data_put" -> {
        putAccountData(userId, text(request, "account_data_type", "request"), body);
        yield JSON.objectNode();
      }
      case "room_message" -> {
        ObjectNode event =
            sendRoomEvent(
                userId,
                deviceId,
                text(request, "room_id", "request"),
                text(request, "event_type", "request"),
                body);
        ObjectNode response = JSON.objectNode();
        response.put("event_id", event.get("event_id").asText());
        yield response;
      }
      default ->
          throw new RouterException(
              404,
              "M_UNRECOGNIZED",
              "request type: expected keys_upload, keys_query, keys_claim, to_device,"
                  + " signing_keys_upload, signature_upload, keys_backup, account_data_get,"
                  + " account_data_put or room_message, got "
                  + type);
    };
  }

  /**
   * Serves one outgoing request of mxe2ee's machine: the same as {@link #route(String, String,
   * ObjectNode)} with the request's type, body, event type and (for to-device) its request id as
   * transaction id.
   */
  public synchronized ObjectNode route(String userId, String deviceId, OutgoingRequest request) {
    ObjectNode wrapped = JSON.objectNode();
    wrapped.put("request_id", request.requestId());
    wrapped.put("type", request.type().name().toLowerCase(Locale.ROOT));
    wrapped.set("body", request.body());
    if (request.type() == RequestType.TO_DEVICE) {
      wrapped.put("event_type", request.eventType());
      wrapped.put("txn_id", request.requestId());
    }
    if (request.backupVersion() != null) {
      wrapped.put("version", request.backupVersion());
    }
    if (request.backupRoomId() != null) {
      wrapped.put("room_id", request.backupRoomId());
      wrapped.put("session_id", request.backupSessionId());
    }
    if (request.accountDataType() != null) {
      wrapped.put("account_data_type", request.accountDataType());
    }
    return route(userId, deviceId, wrapped);
  }

  // ---------------------------------------------------------------- account data

  /** {@code GET /user/{userId}/account_data/{type}}: a copy of the content, or null if absent. */
  public synchronized ObjectNode accountData(String userId, String type) {
    ObjectNode content = accountData.getOrDefault(userId, Map.of()).get(type);
    return content == null ? null : content.deepCopy();
  }

  /** {@code PUT /user/{userId}/account_data/{type}}: replaces the content. */
  public synchronized void putAccountData(String userId, String type, ObjectNode content) {
    requireUserId(userId);
    accountData.computeIfAbsent(userId, u -> new TreeMap<>()).put(type, content.deepCopy());
  }

  /** Deletes one account-data event (a test's fault injection; the API has no such endpoint). */
  public synchronized void deleteAccountData(String userId, String type) {
    accountData.getOrDefault(userId, new HashMap<>()).remove(type);
  }

  // ---------------------------------------------------------------- /room_keys

  /** {@code POST /room_keys/version}: a new current key backup version for {@code userId}. */
  public synchronized String createKeyBackupVersion(String userId, ObjectNode authData) {
    return keyBackups.createVersion(userId, authData);
  }

  /** {@code GET /room_keys/version}: the current version's metadata, or null if none. */
  public synchronized ObjectNode keyBackupVersion(String userId) {
    try {
      return keyBackups.currentVersion(userId);
    } catch (RouterException e) {
      return null;
    }
  }

  /** How many backup versions were ever created on this server (any user). */
  public synchronized int keyBackupVersionsCreated() {
    return keyBackups.versionsCreated();
  }

  /** {@code GET /room_keys/keys?version=}: the user's backed-up keys of that version. */
  public synchronized ObjectNode roomKeys(String userId, String version) {
    return keyBackups.get(userId, version);
  }

  // ---------------------------------------------------------------- /keys/upload

  /**
   * {@code POST /keys/upload}: stores device keys, one-time keys and fallback keys after validating
   * all of them; nothing is stored if any is invalid.
   *
   * @return {@code {"one_time_key_counts": {...}}}
   */
  public synchronized ObjectNode keysUpload(String userId, String deviceId, ObjectNode body) {
    DeviceState device = device(userId, deviceId);
    ObjectNode deviceKeys = optionalObject(body, "device_keys", "keys/upload");
    Ed25519PublicKey signingKey = device.ed25519;
    if (deviceKeys != null) {
      signingKey = validateDeviceKeys(userId, deviceId, deviceKeys);
    }
    ObjectNode otks = optionalObject(body, "one_time_keys", "keys/upload");
    Map<String, ObjectNode> newOtks = new LinkedHashMap<>();
    if (otks != null) {
      for (Map.Entry<String, JsonNode> e : iterable(otks)) {
        String keyId = e.getKey();
        ObjectNode key = validateOneTimeKey(userId, deviceId, keyId, e.getValue(), signingKey);
        ObjectNode existing = device.oneTimeKeys.get(keyId);
        if (existing != null && !existing.equals(key)) {
          throw new RouterException(
              400,
              "M_INVALID_PARAM",
              "one-time key "
                  + keyId
                  + " already exists for "
                  + deviceId
                  + " with different content");
        }
        if (existing == null) {
          newOtks.put(keyId, key);
        }
      }
    }
    ObjectNode fallbacks = optionalObject(body, "fallback_keys", "keys/upload");
    Map<String, FallbackKey> newFallbacks = new HashMap<>();
    if (fallbacks != null) {
      for (Map.Entry<String, JsonNode> e : iterable(fallbacks)) {
        String keyId = e.getKey();
        ObjectNode key = validateOneTimeKey(userId, deviceId, keyId, e.getValue(), signingKey);
        String algorithm = algorithmOf(keyId);
        if (newFallbacks.containsKey(algorithm)) {
          throw new RouterException(
              400,
              "M_INVALID_PARAM",
              "fallback_keys: expected at most one key per algorithm, got two for " + algorithm);
        }
        newFallbacks.put(algorithm, new FallbackKey(keyId, key));
      }
    }

    // All valid: apply.
    if (deviceKeys != null) {
      boolean changed =
          device.deviceKeys == null
              || !Arrays.equals(
                  JsonSigning.signedBytes(device.deviceKeys), JsonSigning.signedBytes(deviceKeys));
      device.deviceKeys = deviceKeys.deepCopy();
      device.ed25519 = signingKey;
      if (changed) {
        users.get(userId).extraSignatures.remove(deviceId);
        notifyChanged(userId);
      }
    }
    device.oneTimeKeys.putAll(newOtks);
    for (Map.Entry<String, FallbackKey> e : newFallbacks.entrySet()) {
      FallbackKey old = device.fallbackKeys.get(e.getKey());
      if (old != null && old.keyId.equals(e.getValue().keyId) && old.key.equals(e.getValue().key)) {
        continue; // the same key again: keep its used flag
      }
      device.fallbackKeys.put(e.getKey(), e.getValue());
    }
    ObjectNode response = JSON.objectNode();
    ObjectNode counts = response.putObject("one_time_key_counts");
    device.oneTimeKeyCounts().forEach(counts::put);
    return response;
  }

  private Ed25519PublicKey validateDeviceKeys(String userId, String deviceId, ObjectNode keys) {
    String ctx = "device_keys";
    String claimedUser = text(keys, "user_id", ctx);
    String claimedDevice = text(keys, "device_id", ctx);
    if (!claimedUser.equals(userId) || !claimedDevice.equals(deviceId)) {
      throw new RouterException(
          400,
          "M_INVALID_PARAM",
          "device_keys: expected user_id "
              + userId
              + " and device_id "
              + deviceId
              + ", got "
              + claimedUser
              + " and "
              + claimedDevice);
    }
    JsonNode algorithms = keys.get("algorithms");
    if (algorithms == null || !algorithms.isArray() || algorithms.isEmpty()) {
      throw new RouterException(
          400, "M_BAD_JSON", "device_keys.algorithms: expected a non-empty array");
    }
    for (JsonNode a : algorithms) {
      if (!a.isTextual()) {
        throw new RouterException(
            400, "M_BAD_JSON", "device_keys.algorithms: expected strings, got " + a);
      }
    }
    ObjectNode keyMap = object(keys, "keys", ctx);
    String curveId = "curve25519:" + deviceId;
    String edId = "ed25519:" + deviceId;
    decodeKey(text(keyMap, curveId, "device_keys.keys"), "device_keys.keys." + curveId);
    Ed25519PublicKey ed = ed25519(text(keyMap, edId, "device_keys.keys"), "device_keys.keys");
    if (!JsonSigning.verify(keys, userId, edId, ed)) {
      throw new RouterException(
          400,
          "M_INVALID_SIGNATURE",
          "device_keys: expected a valid self-signature signatures."
              + userId
              + "."
              + edId
              + ", got none or a bad one");
    }
    return ed;
  }

  private ObjectNode validateOneTimeKey(
      String userId, String deviceId, String keyId, JsonNode value, Ed25519PublicKey signingKey) {
    String algorithm = algorithmOf(keyId);
    String ctx = "key " + keyId;
    if (algorithm.equals("curve25519")) {
      if (!value.isTextual()) {
        throw new RouterException(400, "M_BAD_JSON", ctx + ": expected a base64 string");
      }
      decodeKey(value.asText(), ctx);
      ObjectNode wrapped = JSON.objectNode();
      wrapped.put("key", value.asText());
      return wrapped; // stored as an object; unsigned keys are returned as objects too
    }
    if (!(value instanceof ObjectNode key)) {
      throw new RouterException(400, "M_BAD_JSON", ctx + ": expected an object, got " + value);
    }
    decodeKey(text(key, "key", ctx), ctx);
    if (algorithm.startsWith("signed_")) {
      if (signingKey == null) {
        throw new RouterException(
            400,
            "M_INVALID_PARAM",
            ctx + ": cannot check its signature, no device keys uploaded for " + deviceId);
      }
      if (!JsonSigning.verify(key, userId, "ed25519:" + deviceId, signingKey)) {
        throw new RouterException(
            400,
            "M_INVALID_SIGNATURE",
            ctx
                + ": expected a valid signature by ed25519:"
                + deviceId
                + ", got none or a bad one");
      }
    }
    return key.deepCopy();
  }

  private static String algorithmOf(String keyId) {
    int colon = keyId.indexOf(':');
    if (colon <= 0 || colon == keyId.length() - 1) {
      throw new RouterException(
          400, "M_BAD_JSON", "key id: expected <algorithm>:<key_id>, got " + keyId);
    }
    return keyId.substring(0, colon);
  }

  // ---------------------------------------------------------------- /keys/query

  /**
   * {@code POST /keys/query}: device keys (with the signatures visible to the requester), master
   * and self-signing keys of the requested users, and the requester's own user-signing key.
   */
  public synchronized ObjectNode keysQuery(String userId, String deviceId, ObjectNode body) {
    device(userId, deviceId);
    ObjectNode wanted = object(body, "device_keys", "keys/query");
    ObjectNode response = JSON.objectNode();
    ObjectNode deviceKeys = response.putObject("device_keys");
    ObjectNode masters = response.putObject("master_keys");
    ObjectNode selfSigning = response.putObject("self_signing_keys");
    ObjectNode userSigning = response.putObject("user_signing_keys");
    response.putObject("failures");
    for (Map.Entry<String, JsonNode> e : iterable(wanted)) {
      String target = e.getKey();
      if (!e.getValue().isArray()) {
        throw new RouterException(
            400, "M_BAD_JSON", "device_keys." + target + ": expected an array of device ids");
      }
      ObjectNode out = deviceKeys.putObject(target);
      UserState user = users.get(target);
      if (user == null) {
        continue;
      }
      List<String> ids = new ArrayList<>();
      e.getValue().forEach(n -> ids.add(n.asText()));
      for (DeviceState d : user.devices.values()) {
        if (d.deviceKeys != null && (ids.isEmpty() || ids.contains(d.deviceId))) {
          out.set(d.deviceId, withSignatures(user, d.deviceId, d.deviceKeys, userId));
        }
      }
      if (user.masterKey != null) {
        masters.set(target, withSignatures(user, user.masterPublic(), user.masterKey, userId));
      }
      if (user.selfSigningKey != null) {
        selfSigning.set(target, user.selfSigningKey.deepCopy());
      }
      if (user.userSigningKey != null && target.equals(userId)) {
        userSigning.set(target, user.userSigningKey.deepCopy());
      }
    }
    return response;
  }

  private static ObjectNode withSignatures(
      UserState owner, String keyId, ObjectNode stored, String requester) {
    ObjectNode copy = stored.deepCopy();
    ObjectNode extra = owner.extraSignatures.get(keyId);
    if (extra == null) {
      return copy;
    }
    JsonNode existing = copy.get("signatures");
    ObjectNode signatures = existing instanceof ObjectNode o ? o : copy.putObject("signatures");
    for (Map.Entry<String, JsonNode> bySigner : iterable(extra)) {
      String signer = bySigner.getKey();
      if (!signer.equals(owner.userId) && !signer.equals(requester)) {
        continue; // another user's signature is private to that user
      }
      JsonNode forSigner = signatures.get(signer);
      ObjectNode target = forSigner instanceof ObjectNode o ? o : signatures.putObject(signer);
      target.setAll((ObjectNode) bySigner.getValue().deepCopy());
    }
    return copy;
  }

  // ---------------------------------------------------------------- /keys/claim

  /**
   * {@code POST /keys/claim}: for each requested device the oldest unclaimed one-time key of the
   * algorithm, removed from the server, else the device's fallback key of that algorithm (marked
   * used). Devices with neither are left out.
   */
  public synchronized ObjectNode keysClaim(String userId, String deviceId, ObjectNode body) {
    device(userId, deviceId);
    ObjectNode wanted = object(body, "one_time_keys", "keys/claim");
    // Validate the whole request before claiming anything.
    for (Map.Entry<String, JsonNode> byUser : iterable(wanted)) {
      if (!(byUser.getValue() instanceof ObjectNode devices)) {
        throw new RouterException(
            400, "M_BAD_JSON", "one_time_keys." + byUser.getKey() + ": expected an object");
      }
      for (Map.Entry<String, JsonNode> byDevice : iterable(devices)) {
        if (!byDevice.getValue().isTextual()) {
          throw new RouterException(
              400,
              "M_BAD_JSON",
              "one_time_keys."
                  + byUser.getKey()
                  + "."
                  + byDevice.getKey()
                  + ": expected an algorithm");
        }
      }
    }
    ObjectNode response = JSON.objectNode();
    ObjectNode claimed = response.putObject("one_time_keys");
    response.putObject("failures");
    for (Map.Entry<String, JsonNode> byUser : iterable(wanted)) {
      UserState user = users.get(byUser.getKey());
      if (user == null) {
        continue;
      }
      for (Map.Entry<String, JsonNode> byDevice : iterable(byUser.getValue())) {
        DeviceState d = user.devices.get(byDevice.getKey());
        if (d == null) {
          continue;
        }
        String algorithm = byDevice.getValue().asText();
        String prefix = algorithm + ":";
        String keyId = null;
        ObjectNode key = null;
        Iterator<Map.Entry<String, ObjectNode>> it = d.oneTimeKeys.entrySet().iterator();
        while (it.hasNext()) {
          Map.Entry<String, ObjectNode> candidate = it.next();
          if (candidate.getKey().startsWith(prefix)) {
            keyId = candidate.getKey();
            key = candidate.getValue();
            it.remove();
            break;
          }
        }
        if (key == null) {
          FallbackKey fallback = d.fallbackKeys.get(algorithm);
          if (fallback == null) {
            continue;
          }
          fallback.used = true;
          keyId = fallback.keyId;
          key = fallback.key;
        }
        JsonNode forUser = claimed.get(user.userId);
        ObjectNode userOut = forUser instanceof ObjectNode o ? o : claimed.putObject(user.userId);
        userOut.putObject(d.deviceId).set(keyId, key.deepCopy());
      }
    }
    return response;
  }

  // ---------------------------------------------------------------- /sendToDevice

  /**
   * {@code PUT /sendToDevice/{eventType}/{txnId}}: queues {@code {sender, type, content}} for each
   * addressed device ({@code "*"} = all devices of the user). A transaction id already used by the
   * same device is accepted and ignored. Unknown users and devices are skipped, as a homeserver
   * does.
   *
   * @return {@code {}}
   */
  public synchronized ObjectNode sendToDevice(
      String userId, String deviceId, String eventType, String txnId, ObjectNode body) {
    device(userId, deviceId);
    ObjectNode messages = object(body, "messages", "sendToDevice");
    for (Map.Entry<String, JsonNode> byUser : iterable(messages)) {
      if (!(byUser.getValue() instanceof ObjectNode devices)) {
        throw new RouterException(
            400, "M_BAD_JSON", "messages." + byUser.getKey() + ": expected an object");
      }
      for (Map.Entry<String, JsonNode> byDevice : iterable(devices)) {
        if (!byDevice.getValue().isObject()) {
          throw new RouterException(
              400,
              "M_BAD_JSON",
              "messages." + byUser.getKey() + "." + byDevice.getKey() + ": expected an object");
        }
      }
    }
    if (!seenTransactions.add(userId + "\u0000" + deviceId + "\u0000" + txnId)) {
      return JSON.objectNode();
    }
    for (Map.Entry<String, JsonNode> byUser : iterable(messages)) {
      UserState target = users.get(byUser.getKey());
      if (target == null) {
        continue;
      }
      for (Map.Entry<String, JsonNode> byDevice : iterable(byUser.getValue())) {
        List<DeviceState> recipients =
            byDevice.getKey().equals("*")
                ? List.copyOf(target.devices.values())
                : target.devices.containsKey(byDevice.getKey())
                    ? List.of(target.devices.get(byDevice.getKey()))
                    : List.of();
        for (DeviceState r : recipients) {
          ObjectNode event = JSON.objectNode();
          event.put("sender", userId);
          event.put("type", eventType);
          event.set("content", byDevice.getValue().deepCopy());
          r.toDevice.add(event);
        }
      }
    }
    return JSON.objectNode();
  }

  // ---------------------------------------------------------------- cross-signing

  /**
   * {@code POST /keys/device_signing/upload}: stores the master, self-signing and user-signing keys
   * after checking user id, usage, key id and that the subkeys are signed by the master key (the
   * accompanying one, else the stored one). User-interactive auth is not modelled.
   *
   * @return {@code {}}
   */
  public synchronized ObjectNode signingKeysUpload(
      String userId, String deviceId, ObjectNode body) {
    device(userId, deviceId);
    UserState user = users.get(userId);
    ObjectNode master = optionalObject(body, "master_key", "device_signing/upload");
    ObjectNode selfSigning = optionalObject(body, "self_signing_key", "device_signing/upload");
    ObjectNode userSigning = optionalObject(body, "user_signing_key", "device_signing/upload");
    Ed25519PublicKey masterKey;
    String masterPublic;
    if (master != null) {
      masterPublic = validateCrossSigningKey(userId, master, "master");
      masterKey = ed25519(masterPublic, "master_key");
    } else if (user.masterKey != null) {
      masterPublic = user.masterPublic();
      masterKey = ed25519(masterPublic, "stored master key");
    } else {
      throw new RouterException(400, "M_MISSING_PARAM", "no master signing key is available");
    }
    String selfPublic = null;
    String userPublic = null;
    if (selfSigning != null) {
      selfPublic = validateCrossSigningKey(userId, selfSigning, "self_signing");
      requireSignedBy(selfSigning, userId, masterPublic, masterKey, "self_signing_key");
    }
    if (userSigning != null) {
      userPublic = validateCrossSigningKey(userId, userSigning, "user_signing");
      requireSignedBy(userSigning, userId, masterPublic, masterKey, "user_signing_key");
    }
    for (String pub : Arrays.asList(master != null ? masterPublic : null, selfPublic, userPublic)) {
      if (pub != null && user.devices.containsKey(pub)) {
        throw new RouterException(403, "M_FORBIDDEN", "Key ID in use: " + pub);
      }
    }
    if (master != null) {
      if (user.masterKey != null && !user.masterPublic().equals(masterPublic)) {
        user.extraSignatures.remove(user.masterPublic());
      }
      user.masterKey = master.deepCopy();
    }
    if (selfSigning != null) {
      user.selfSigningKey = selfSigning.deepCopy();
    }
    if (userSigning != null) {
      user.userSigningKey = userSigning.deepCopy();
    }
    notifyChanged(userId);
    return JSON.objectNode();
  }

  private static String validateCrossSigningKey(String userId, ObjectNode key, String usage) {
    String ctx = usage + " key";
    String owner = text(key, "user_id", ctx);
    if (!owner.equals(userId)) {
      throw new RouterException(
          400, "M_INVALID_PARAM", ctx + ": expected user_id " + userId + ", got " + owner);
    }
    JsonNode usages = key.get("usage");
    boolean hasUsage = false;
    if (usages != null && usages.isArray()) {
      for (JsonNode u : usages) {
        hasUsage |= usage.equals(u.asText());
      }
    }
    if (!hasUsage) {
      throw new RouterException(
          400, "M_INVALID_PARAM", ctx + ": expected usage to contain " + usage + ", got " + usages);
    }
    ObjectNode keys = object(key, "keys", ctx);
    if (keys.size() != 1) {
      throw new RouterException(
          400, "M_INVALID_PARAM", ctx + ": expected exactly one key, got " + keys.size());
    }
    Map.Entry<String, JsonNode> only = keys.fields().next();
    String pub = only.getValue().asText();
    if (!only.getKey().equals("ed25519:" + pub)) {
      throw new RouterException(
          400,
          "M_INVALID_PARAM",
          ctx + ": expected key id ed25519:<public key>, got " + only.getKey());
    }
    ed25519(pub, ctx);
    return pub;
  }

  private static void requireSignedBy(
      ObjectNode obj, String userId, String signerPublic, Ed25519PublicKey signer, String what) {
    if (!JsonSigning.verify(obj, userId, "ed25519:" + signerPublic, signer)) {
      throw new RouterException(
          400,
          "M_INVALID_SIGNATURE",
          what + ": expected a valid signature by the master key, got none or a bad one");
    }
  }

  /**
   * {@code POST /keys/signatures/upload}: adds the requester's new signatures to stored device keys
   * and master keys. Each object must equal the stored one apart from {@code signatures} and {@code
   * unsigned}; each new signature by the requester must verify under an allowed key of the
   * requester. Failures are reported per key in {@code failures}, the others are stored.
   */
  public synchronized ObjectNode signaturesUpload(String userId, String deviceId, ObjectNode body) {
    device(userId, deviceId);
    UserState signer = users.get(userId);
    ObjectNode response = JSON.objectNode();
    ObjectNode failures = response.putObject("failures");
    for (Map.Entry<String, JsonNode> byUser : iterable(body)) {
      if (!byUser.getValue().isObject()) {
        throw new RouterException(400, "M_BAD_JSON", byUser.getKey() + ": expected an object");
      }
    }
    boolean ownKeysChanged = false;
    Set<String> othersSigned = new LinkedHashSet<>();
    for (Map.Entry<String, JsonNode> byUser : iterable(body)) {
      String targetUser = byUser.getKey();
      ObjectNode keys = (ObjectNode) byUser.getValue();
      for (Map.Entry<String, JsonNode> byKey : iterable(keys)) {
        try {
          boolean stored = storeSignatures(signer, targetUser, byKey.getKey(), byKey.getValue());
          if (stored && targetUser.equals(userId)) {
            ownKeysChanged = true;
          } else if (stored) {
            othersSigned.add(targetUser);
          }
        } catch (RouterException e) {
          JsonNode forUser = failures.get(targetUser);
          ObjectNode userFailures =
              forUser instanceof ObjectNode o ? o : failures.putObject(targetUser);
          ObjectNode failure = userFailures.putObject(byKey.getKey());
          failure.put("errcode", e.errcode());
          failure.put("error", e.getMessage());
        }
      }
    }
    if (ownKeysChanged) {
      notifyChanged(userId); // everyone who sees our devices sees the new signatures
    }
    for (String other : othersSigned) {
      announce(userId, other, true); // a user-signing signature is visible to the signer only
    }
    return response;
  }

  private boolean storeSignatures(
      UserState signer, String targetUser, String keyId, JsonNode value) {
    if (!(value instanceof ObjectNode uploaded)) {
      throw new RouterException(400, "M_BAD_JSON", keyId + ": expected a signed object");
    }
    UserState target = users.get(targetUser);
    if (target == null) {
      throw new RouterException(404, "M_NOT_FOUND", "unknown user " + targetUser);
    }
    ObjectNode stored;
    List<String> allowedSignerKeys = new ArrayList<>();
    boolean own = target == signer;
    DeviceState targetDevice = own ? target.devices.get(keyId) : null;
    if (targetDevice != null && targetDevice.deviceKeys != null) {
      stored = targetDevice.deviceKeys;
      if (signer.selfSigningKey != null) {
        allowedSignerKeys.add(signer.selfSigningPublic());
      }
    } else if (target.masterKey != null && target.masterPublic().equals(keyId)) {
      stored = target.masterKey;
      if (own) {
        for (DeviceState d : signer.devices.values()) {
          if (d.ed25519 != null) {
            allowedSignerKeys.add(d.deviceId);
          }
        }
      } else if (signer.userSigningKey != null) {
        allowedSignerKeys.add(signer.userSigningPublic());
      }
    } else {
      throw new RouterException(
          404, "M_NOT_FOUND", "no signable key " + keyId + " of " + targetUser);
    }
    if (!Arrays.equals(JsonSigning.signedBytes(stored), JsonSigning.signedBytes(uploaded))) {
      throw new RouterException(
          400,
          "M_INVALID_SIGNATURE",
          keyId + ": the signed object does not match the key stored on the server");
    }
    JsonNode bySigner = uploaded.path("signatures").path(signer.userId);
    ObjectNode known = target.extraSignatures.get(keyId);
    ObjectNode accepted = JSON.objectNode();
    for (Map.Entry<String, JsonNode> sig : iterable(bySigner)) {
      String signerKeyId = sig.getKey();
      if (stored.path("signatures").path(signer.userId).has(signerKeyId)
          || (known != null && known.path(signer.userId).has(signerKeyId))) {
        continue; // not new
      }
      if (!signerKeyId.startsWith("ed25519:")) {
        throw new RouterException(
            400, "M_INVALID_SIGNATURE", keyId + ": unsupported signing key " + signerKeyId);
      }
      String signerKey = signerKeyId.substring("ed25519:".length());
      if (!allowedSignerKeys.contains(signerKey)) {
        throw new RouterException(
            400,
            "M_INVALID_SIGNATURE",
            keyId
                + ": expected a signature by one of "
                + allowedSignerKeys
                + ", got "
                + signerKeyId);
      }
      Ed25519PublicKey key =
          signer.devices.containsKey(signerKey)
              ? signer.devices.get(signerKey).ed25519
              : ed25519(signerKey, signerKeyId);
      ObjectNode check = stored.deepCopy();
      ObjectNode checkSignatures = check.putObject("signatures");
      checkSignatures.putObject(signer.userId).set(signerKeyId, sig.getValue());
      if (!JsonSigning.verify(check, signer.userId, signerKeyId, key)) {
        throw new RouterException(
            400, "M_INVALID_SIGNATURE", keyId + ": bad signature by " + signerKeyId);
      }
      accepted.set(signerKeyId, sig.getValue().deepCopy());
    }
    if (accepted.isEmpty()) {
      return false;
    }
    ObjectNode all = target.extraSignatures.computeIfAbsent(keyId, k -> JSON.objectNode());
    JsonNode forSigner = all.get(signer.userId);
    ObjectNode signerSigs = forSigner instanceof ObjectNode o ? o : all.putObject(signer.userId);
    signerSigs.setAll(accepted);
    return true;
  }

  // ---------------------------------------------------------------- rooms

  /**
   * {@code PUT /rooms/{roomId}/send/{type}/{txnId}}: appends an event to the room's timeline.
   *
   * @return the full event as {@code /sync} would deliver it: {@code event_id, room_id, sender,
   *     type, content, origin_server_ts}
   */
  public synchronized ObjectNode sendRoomEvent(
      String userId, String deviceId, String roomId, String type, ObjectNode content) {
    device(userId, deviceId);
    if (!rooms.getOrDefault(roomId, Set.of()).contains(userId)) {
      throw new RouterException(403, "M_FORBIDDEN", userId + " is not in " + roomId);
    }
    ObjectNode event = JSON.objectNode();
    event.put("event_id", "$" + (++eventCounter) + "-router:" + serverOf(roomId));
    event.put("room_id", roomId);
    event.put("sender", userId);
    event.put("type", type);
    event.set("content", content.deepCopy());
    event.put("origin_server_ts", clock.millis());
    timelines.computeIfAbsent(roomId, r -> new ArrayList<>()).add(event);
    return event.deepCopy();
  }

  /** The room's timeline, oldest first (deep copies). */
  public synchronized List<ObjectNode> roomEvents(String roomId) {
    return timelines.getOrDefault(roomId, List.of()).stream().map(ObjectNode::deepCopy).toList();
  }

  // ---------------------------------------------------------------- /sync

  /**
   * The E2EE part of the next {@code /sync} for a device: drains up to {@link
   * #MAX_TO_DEVICE_PER_SYNC} queued to-device events and the pending device-list changes, and
   * reports the current one-time key counts and unused fallback key types.
   */
  public synchronized RouterSync sync(String userId, String deviceId) {
    DeviceState d = device(userId, deviceId);
    List<ObjectNode> events = new ArrayList<>();
    while (!d.toDevice.isEmpty() && events.size() < MAX_TO_DEVICE_PER_SYNC) {
      events.add(d.toDevice.poll());
    }
    List<String> changed = List.copyOf(d.changed);
    List<String> left = List.copyOf(d.left);
    d.changed.clear();
    d.left.clear();
    List<String> unusedFallback = new ArrayList<>();
    d.fallbackKeys.forEach(
        (algorithm, key) -> {
          if (!key.used) {
            unusedFallback.add(algorithm);
          }
        });
    unusedFallback.sort(null);
    return new RouterSync(
        events, changed, left, d.oneTimeKeyCounts(), unusedFallback, "s" + (++d.syncCount));
  }

  /** How many to-device events wait for the device (test observability). */
  public synchronized int pendingToDevice(String userId, String deviceId) {
    return device(userId, deviceId).toDevice.size();
  }

  /** The unclaimed one-time key counts of a device, as {@code /sync} reports them. */
  public synchronized Map<String, Integer> oneTimeKeyCounts(String userId, String deviceId) {
    return device(userId, deviceId).oneTimeKeyCounts();
  }

  // ---------------------------------------------------------------- internals

  private DeviceState device(String userId, String deviceId) {
    UserState user = users.get(userId);
    DeviceState d = user == null ? null : user.devices.get(deviceId);
    if (d == null) {
      throw new RouterException(
          401, "M_UNKNOWN_TOKEN", "no registered device " + userId + " / " + deviceId);
    }
    return d;
  }

  private Set<String> usersSharingWith(String userId) {
    Set<String> out = new TreeSet<>();
    for (Set<String> members : rooms.values()) {
      if (members.contains(userId)) {
        out.addAll(members);
      }
    }
    out.remove(userId);
    return out;
  }

  /** Tells every device of {@code observer} that {@code subject} changed (or left). */
  private void announce(String observer, String subject, boolean changed) {
    UserState user = users.get(observer);
    if (user == null) {
      return;
    }
    for (DeviceState d : user.devices.values()) {
      if (changed) {
        d.left.remove(subject);
        d.changed.add(subject);
      } else {
        d.changed.remove(subject);
        d.left.add(subject);
      }
    }
  }

  private void notifyChanged(String userId) {
    announce(userId, userId, true);
    for (String other : usersSharingWith(userId)) {
      announce(other, userId, true);
    }
  }

  private static void requireUserId(String userId) {
    if (userId == null || !userId.startsWith("@") || userId.indexOf(':') < 2) {
      throw new IllegalArgumentException("user id: expected @localpart:server, got " + userId);
    }
  }

  private static String serverOf(String roomId) {
    int colon = roomId.indexOf(':');
    return colon < 0 ? "localhost" : roomId.substring(colon + 1);
  }

  private static String text(ObjectNode obj, String field, String ctx) {
    JsonNode v = obj.get(field);
    if (v == null || !v.isTextual()) {
      throw new RouterException(
          400, "M_BAD_JSON", ctx + "." + field + ": expected a string, got " + v);
    }
    return v.asText();
  }

  private static ObjectNode object(ObjectNode obj, String field, String ctx) {
    JsonNode v = obj.get(field);
    if (!(v instanceof ObjectNode o)) {
      throw new RouterException(
          400, "M_BAD_JSON", ctx + "." + field + ": expected an object, got " + v);
    }
    return o;
  }

  private static ObjectNode optionalObject(ObjectNode obj, String field, String ctx) {
    JsonNode v = obj.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    return object(obj, field, ctx);
  }

  private static byte[] decodeKey(String base64, String ctx) {
    byte[] bytes;
    try {
      bytes = UnpaddedBase64.decode(base64);
    } catch (DecodeException e) {
      throw new RouterException(400, "M_INVALID_PARAM", ctx + ": not base64");
    }
    if (bytes.length != CURVE25519_KEY_LENGTH) {
      throw new RouterException(
          400,
          "M_INVALID_PARAM",
          ctx + ": expected a " + CURVE25519_KEY_LENGTH + "-byte key, got " + bytes.length);
    }
    return bytes;
  }

  private static Ed25519PublicKey ed25519(String base64, String ctx) {
    try {
      return Ed25519PublicKey.fromBase64(base64);
    } catch (DecodeException e) {
      throw new RouterException(
          400,
          "M_INVALID_PARAM",
          ctx + ": not a valid Ed25519 public key (" + e.getMessage() + ")");
    }
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
    return node::fields;
  }

  private static final class UserState {
    final String userId;
    final Map<String, DeviceState> devices = new LinkedHashMap<>();
    ObjectNode masterKey;
    ObjectNode selfSigningKey;
    ObjectNode userSigningKey;

    /**
     * Signatures uploaded later, by key id (device id or master public key): signer → key → sig.
     */
    final Map<String, ObjectNode> extraSignatures = new HashMap<>();

    UserState(String userId) {
      this.userId = userId;
    }

    String masterPublic() {
      return onlyKey(masterKey);
    }

    String selfSigningPublic() {
      return onlyKey(selfSigningKey);
    }

    String userSigningPublic() {
      return onlyKey(userSigningKey);
    }

    private static String onlyKey(ObjectNode crossSigningKey) {
      return crossSigningKey.get("keys").elements().next().asText();
    }
  }

  private static final class DeviceState {
    final String userId;
    final String deviceId;
    ObjectNode deviceKeys;
    Ed25519PublicKey ed25519;
    final LinkedHashMap<String, ObjectNode> oneTimeKeys = new LinkedHashMap<>();
    final Map<String, FallbackKey> fallbackKeys = new TreeMap<>();
    final ArrayDeque<ObjectNode> toDevice = new ArrayDeque<>();
    final Set<String> changed = new TreeSet<>();
    final Set<String> left = new TreeSet<>();
    long syncCount;

    DeviceState(String userId, String deviceId) {
      this.userId = userId;
      this.deviceId = deviceId;
    }

    TreeMap<String, Integer> oneTimeKeyCounts() {
      TreeMap<String, Integer> counts = new TreeMap<>();
      counts.put(SIGNED_CURVE25519, 0);
      for (String keyId : oneTimeKeys.keySet()) {
        counts.merge(algorithmOf(keyId), 1, Integer::sum);
      }
      return counts;
    }
  }

  private static final class FallbackKey {
    final String keyId;
    final ObjectNode key;
    boolean used;

    FallbackKey(String keyId, ObjectNode key) {
      this.keyId = keyId;
      this.key = key;
    }
  }
}
