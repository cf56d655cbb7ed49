package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.InboundCreationResult;
import io.github.mxe2ee.olm.PreKeyMessage;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.OlmSessionRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Olm sessions with other devices (spec: {@code end_to_end_encryption.md},
 * "m.olm.v1.curve25519-aes-sha2" and "Recovering from undecryptable messages").
 *
 * <ul>
 *   <li>Encryption uses the session that most recently decrypted a message (or, never having
 *       received one, was created most recently).
 *   <li>A pre-key message is tried on the sessions it matches, then creates a new inbound session;
 *       that session and the account without its one-time key are kept and saved only after the
 *       decrypt succeeded <em>and</em> the caller checked the payload ({@link #commit}); at most
 *       {@link MachineLimits#maxNewOlmSessionsPerSenderPerHour()} are created per sending user per
 *       hour.
 *   <li>When nothing decrypts a message, the channel is wedged: at most once per hour per device
 *       ({@link #UNWEDGE_INTERVAL_MS}) and {@link MachineLimits#maxUnwedgesPerHour()} times an hour
 *       overall, a fresh session is created and announced with {@code m.dummy}. The times live in
 *       one bounded value ({@code olm.unwedged}), pruned after an hour.
 * </ul>
 */
final class OlmSessions {
  /** The spec: do not create a new session with a device more than once an hour. */
  static final long UNWEDGE_INTERVAL_MS = 60 * 60 * 1000L;

  /** The Olm algorithm name. */
  static final String OLM_ALGORITHM = "m.olm.v1.curve25519-aes-sha2";

  /** The one key-value row holding recent unwedging times by sender key (a JSON object). */
  static final String UNWEDGE_KEY = "olm.unwedged";

  private static final long HOUR_MS = 60 * 60 * 1000L;

  /** New inbound sessions per sending user in the last hour (times); in memory. */
  private final Map<String, java.util.ArrayDeque<Long>> created = new HashMap<>();

  /** Recent unwedging times by sender key, loaded from {@link #UNWEDGE_KEY} on first use. */
  private Map<String, Long> unwedged;

  /** A pre-key message was refused because its sender reached the hourly cap on new sessions. */
  static final class SessionLimitException extends OlmPayloadException {
    private static final long serialVersionUID = 1L;

    SessionLimitException() {
      super("sender reached the hourly limit on new Olm sessions");
    }
  }

  private final Context ctx;
  private final AccountKeys account;

  /** Our signed device keys as JSON (MSC4147 {@code sender_device_keys}), built once. */
  private ObjectNode ownDeviceKeysJson;

  /** Unpickled sessions by sender key, loaded on first use. */
  private final Map<String, List<LiveSession>> cache = new HashMap<>();

  /** A session with its timestamps. */
  static final class LiveSession {
    final Session session;
    final long createdAt;
    long lastDecryptedAt;

    LiveSession(Session session, long createdAt, long lastDecryptedAt) {
      this.session = session;
      this.createdAt = createdAt;
      this.lastDecryptedAt = lastDecryptedAt;
    }

    long recency() {
      return lastDecryptedAt > 0 ? lastDecryptedAt : createdAt;
    }
  }

  OlmSessions(Context ctx, AccountKeys account) {
    this.ctx = ctx;
    this.account = account;
  }

  List<LiveSession> sessions(String senderKey) {
    return cache.computeIfAbsent(
        senderKey,
        key -> {
          List<LiveSession> list = new ArrayList<>();
          for (OlmSessionRecord r : ctx.store.olmSessions(key)) {
            list.add(
                new LiveSession(
                    Session.fromPickle(
                        r.pickle().ciphertext(), ctx.pickleKey(), ctx.config.random()),
                    r.createdAtMillis(),
                    r.lastDecryptedAtMillis()));
          }
          return list;
        });
  }

  boolean hasSession(String curve25519) {
    return !sessions(curve25519).isEmpty();
  }

  void persist(String senderKey, LiveSession live, Changes changes) {
    changes.putOlmSession(
        new OlmSessionRecord(
            senderKey,
            live.session.sessionId(),
            ctx.seal(live.session.pickle(ctx.pickleKey())),
            live.createdAt,
            live.lastDecryptedAt));
  }

  private void add(String senderKey, LiveSession live) {
    sessions(senderKey).add(live);
  }

  /**
   * Builds a claim request for the devices that have no session, or null if none lacks one.
   *
   * @param devices candidate devices by user
   */
  OutgoingRequest claimRequest(Map<String, List<DeviceKeys>> devices) {
    return claimRequest(devices, false);
  }

  /**
   * Builds a claim request for {@code devices}; with {@code replaceExisting}, also for devices that
   * have a session (to replace a wedged one).
   */
  OutgoingRequest claimRequest(Map<String, List<DeviceKeys>> devices, boolean replaceExisting) {
    ObjectNode body = Context.object();
    ObjectNode otks = body.putObject("one_time_keys");
    boolean any = false;
    for (var entry : devices.entrySet()) {
      for (DeviceKeys d : entry.getValue()) {
        if (isOwnDevice(d) || (!replaceExisting && hasSession(d.curve25519().toBase64()))) {
          continue;
        }
        ObjectNode user =
            otks.has(entry.getKey())
                ? (ObjectNode) otks.get(entry.getKey())
                : otks.putObject(entry.getKey());
        user.put(d.deviceId(), AccountKeys.SIGNED_CURVE25519);
        any = true;
      }
    }
    return any ? new OutgoingRequest(ctx.newRequestId(), RequestType.KEYS_CLAIM, body, null) : null;
  }

  boolean isOwnDevice(DeviceKeys d) {
    return d.userId().equals(ctx.userId()) && d.deviceId().equals(ctx.deviceId());
  }

  /**
   * Below this many claimed keys, sessions are created on the calling thread; above, the CPU-bound
   * part (signature check, three X25519 agreements, pickling) runs on the common fork-join pool.
   * Small claims (one device answering a key request) do not pay for the hand-off.
   */
  static final int PARALLEL_CLAIM_THRESHOLD = 64;

  private record Claimed(DeviceKeys device, ObjectNode key) {}

  private record Created(DeviceKeys device, LiveSession live, String pickle) {}

  /**
   * Creates outbound sessions from a claim response. A key is used only if the device we know
   * signed it. Session creation is parallel across cores for large claims; the sessions are added
   * and put into {@code changes} on the calling thread, in response order, so the caller saves them
   * in its one store transaction.
   *
   * @return the devices that got a new session
   */
  List<DeviceKeys> onClaimResponse(JsonNode response, DeviceTracker devices, Changes changes) {
    List<Claimed> claimed = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> users = response.path("one_time_keys").fields();
        users.hasNext(); ) {
      var user = users.next();
      Map<String, DeviceKeys> known = devices.devices(user.getKey());
      for (Iterator<Map.Entry<String, JsonNode>> devs = user.getValue().fields();
          devs.hasNext(); ) {
        var dev = devs.next();
        DeviceKeys device = known.get(dev.getKey());
        if (device == null) {
          continue;
        }
        for (Iterator<Map.Entry<String, JsonNode>> keys = dev.getValue().fields();
            keys.hasNext(); ) {
          var key = keys.next();
          if (key.getKey().startsWith(AccountKeys.SIGNED_CURVE25519 + ":")
              && key.getValue().isObject()) {
            claimed.add(new Claimed(device, (ObjectNode) key.getValue()));
            break;
          }
        }
      }
    }
    long now = ctx.now();
    var stream =
        claimed.size() >= PARALLEL_CLAIM_THRESHOLD ? claimed.parallelStream() : claimed.stream();
    List<Created> created = stream.map(c -> create(c, now)).toList();
    List<DeviceKeys> out = new ArrayList<>();
    for (Created c : created) {
      if (c == null) {
        continue;
      }
      String curve = c.device.curve25519().toBase64();
      add(curve, c.live);
      changes.putOlmSession(
          new OlmSessionRecord(curve, c.live.session.sessionId(), ctx.seal(c.pickle), now, 0));
      out.add(c.device);
    }
    return out;
  }

  /** Thread-safe: reads only immutable account keys and the thread-safe random source. */
  private Created create(Claimed c, long now) {
    DeviceKeys device = c.device;
    if (!JsonSigning.verify(
        c.key, device.userId(), "ed25519:" + device.deviceId(), device.ed25519())) {
      return null;
    }
    try {
      Curve25519PublicKey otk = Curve25519PublicKey.fromBase64(c.key.path("key").asText());
      Session s = account.account().createOutboundSession(device.curve25519(), otk);
      return new Created(device, new LiveSession(s, now, 0), s.pickle(ctx.pickleKey()));
    } catch (Mxe2eeException e) {
      return null; // a malformed or low-order key from the server: no session for this device
    }
  }

  /** The session to encrypt with for a device, or null if there is none. */
  LiveSession bestSession(String curve25519) {
    LiveSession best = null;
    for (LiveSession live : sessions(curve25519)) {
      if (best == null || live.recency() > best.recency()) {
        best = live;
      }
    }
    return best;
  }

  /**
   * Encrypts a to-device event for {@code device} on its best session; the advanced session goes
   * into {@code changes}.
   *
   * @return the {@code m.room.encrypted} content, or null if there is no session
   */
  ObjectNode encrypt(DeviceKeys device, String type, ObjectNode content, Changes changes) {
    return encryptPrepared(device, sharedPayload(type, content), changes);
  }

  /** The shared part of a payload for {@link #encryptPrepared}, serialised once per share. */
  byte[] sharedPayload(String type, ObjectNode content) {
    if (ownDeviceKeysJson == null) {
      ownDeviceKeysJson = account.deviceKeys().toJson();
    }
    return OlmPayload.sharedJson(
        type, content, ctx.userId(), account.deviceKeys(), ownDeviceKeysJson);
  }

  /**
   * {@link #encrypt} with a payload whose shared part was serialised once ({@link #sharedPayload}):
   * the hot path of sharing a room key with many devices.
   *
   * @return the {@code m.room.encrypted} content, or null if there is no session
   */
  ObjectNode encryptPrepared(DeviceKeys device, byte[] sharedPayload, Changes changes) {
    String curve = device.curve25519().toBase64();
    LiveSession live = bestSession(curve);
    if (live == null) {
      return null;
    }
    AnyOlmMessage message =
        live.session.encrypt(
            OlmPayload.withRecipient(sharedPayload, device.userId(), device.ed25519()));
    persist(curve, live, changes);
    ObjectNode encrypted = Context.object();
    encrypted.put("algorithm", OLM_ALGORITHM);
    encrypted.put("sender_key", account.account().curve25519Key().toBase64());
    ObjectNode ciphertext = encrypted.putObject("ciphertext").putObject(curve);
    ciphertext.put("type", message.type().wireType());
    ciphertext.put("body", message.toBase64());
    return encrypted;
  }

  /**
   * The outcome of decrypting one Olm message. If {@code created} is not null the message created a
   * new inbound session that is not kept yet: {@link #commit} keeps it once the payload passed.
   */
  record Decrypted(String plaintext, String senderKey, PendingSession created) {
    @Override
    public String toString() {
      return "Decrypted[from " + senderKey + (created == null ? "" : ", new session") + "]";
    }
  }

  /** A session created by a pre-key message, and the one-time key it used. */
  record PendingSession(String sender, LiveSession live, Curve25519PublicKey oneTimeKey) {}

  /**
   * Keeps what {@code decrypted} created, after its payload passed every check: the new session
   * joins the cache and {@code changes}, its one-time key is removed from the account (fallback
   * keys stay) and the account saved.
   */
  void commit(Decrypted decrypted, Changes changes) {
    PendingSession p = decrypted.created();
    if (p == null) {
      return;
    }
    add(decrypted.senderKey(), p.live());
    persist(decrypted.senderKey(), p.live(), changes);
    account.account().removeOneTimeKey(p.oneTimeKey());
    account.persist(changes);
    created.computeIfAbsent(p.sender(), k -> new java.util.ArrayDeque<>()).addLast(ctx.now());
  }

  /** Whether {@code sender} may have one more new inbound session now. */
  private boolean mayCreate(String sender) {
    long now = ctx.now();
    if (created.size() > 10_000) {
      created.values().removeIf(t -> t.isEmpty() || now - t.peekLast() >= HOUR_MS);
    }
    java.util.ArrayDeque<Long> times = created.get(sender);
    if (times == null) {
      return true;
    }
    while (!times.isEmpty() && now - times.peekFirst() >= HOUR_MS) {
      times.pollFirst();
    }
    return times.size() < ctx.limits.maxNewOlmSessionsPerSenderPerHour();
  }

  /**
   * Decrypts an Olm-encrypted to-device event from {@code sender} addressed to us. A session it
   * creates is not kept until {@link #commit}.
   *
   * @throws SessionLimitException if it would create a session over the sender's hourly cap
   * @throws Mxe2eeException if it is malformed or no session decrypts it
   */
  Decrypted decrypt(String sender, ObjectNode content, Changes changes) {
    String senderKey = content.path("sender_key").asText(null);
    JsonNode mine = content.path("ciphertext").path(account.account().curve25519Key().toBase64());
    if (senderKey == null || !mine.isObject()) {
      throw new OlmPayloadException("no ciphertext for our device key");
    }
    AnyOlmMessage message =
        AnyOlmMessage.fromBase64(mine.path("type").asLong(-1), mine.path("body").asText(null));
    Curve25519PublicKey senderCurve = Curve25519PublicKey.fromBase64(senderKey);
    List<LiveSession> sessions = sessions(senderKey);
    Mxe2eeException last = null;
    for (LiveSession live : sessions) {
      if (message instanceof PreKeyMessage pre
          && !live.session.matchesInboundSession(senderCurve, pre)) {
        continue;
      }
      try {
        byte[] plain = live.session.decryptBytes(message);
        live.lastDecryptedAt = ctx.now();
        persist(senderKey, live, changes);
        return new Decrypted(new String(plain, StandardCharsets.UTF_8), senderKey, null);
      } catch (Mxe2eeException e) {
        last = e;
        if (message instanceof PreKeyMessage) {
          throw e;
        }
      }
    }
    if (message instanceof PreKeyMessage pre) {
      if (!mayCreate(sender)) {
        throw new SessionLimitException();
      }
      InboundCreationResult result =
          account.account().createInboundSessionKeepingKey(senderCurve, pre);
      long now = ctx.now();
      LiveSession live = new LiveSession(result.session(), now, now);
      return new Decrypted(
          result.plaintext(), senderKey, new PendingSession(sender, live, pre.oneTimeKey()));
    }
    throw last != null
        ? last
        : new OlmPayloadException("no Olm session with this sender can decrypt a normal message");
  }

  /**
   * Whether a wedged channel with {@code senderKey} may be replaced now: at most once per hour per
   * sender key (spec) and {@link MachineLimits#maxUnwedgesPerHour()} times per hour overall. If so
   * the attempt is recorded in {@code changes}, in one value whose entries older than an hour are
   * dropped, so it never holds more than the overall cap.
   */
  boolean mayUnwedge(String senderKey, Changes changes) {
    long now = ctx.now();
    Map<String, Long> recent = unwedged();
    recent.values().removeIf(t -> now - t >= UNWEDGE_INTERVAL_MS || t > now);
    if (recent.containsKey(senderKey)) {
      return false;
    }
    if (recent.size() >= ctx.limits.maxUnwedgesPerHour()) {
      ctx.counters.unwedgesRefused++;
      return false;
    }
    recent.put(senderKey, now);
    ObjectNode json = Context.object();
    recent.forEach(json::put);
    changes.putValue(UNWEDGE_KEY, json.toString().getBytes(StandardCharsets.UTF_8));
    return true;
  }

  private Map<String, Long> unwedged() {
    if (unwedged == null) {
      unwedged = new java.util.LinkedHashMap<>();
      ctx.store
          .value(UNWEDGE_KEY)
          .ifPresent(
              bytes -> {
                try {
                  Context.parseObject(new String(bytes, StandardCharsets.UTF_8))
                      .fields()
                      .forEachRemaining(e -> unwedged.put(e.getKey(), e.getValue().asLong()));
                } catch (RuntimeException e) {
                  // An unreadable value only forgets rate-limit history; it is rewritten next time.
                  unwedged.clear();
                }
              });
    }
    return unwedged;
  }
}
