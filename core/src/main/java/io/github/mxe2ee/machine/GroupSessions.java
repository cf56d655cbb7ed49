package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.megolm.DecryptedMessage;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmDecryptionException;
import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.megolm.SessionKey;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Megolm in rooms (spec: {@code end_to_end_encryption.md}, "m.megolm.v1.aes-sha2", "Shareable
 * encryption sessions", "Reporting that decryption keys are withheld"): one outbound session per
 * room, shared with every device the strategy allows and withheld from the others; rotation by
 * period, message count, departed members and removed devices; decryption with the session bound to
 * its sender and replays rejected.
 *
 * <p>Persistence: an outbound session's next index is saved before the ciphertext that used the
 * previous one is returned; a device counts as having the key only once the to-device request that
 * carried it was acknowledged.
 */
final class GroupSessions {
  static final String MEGOLM_ALGORITHM = "m.megolm.v1.aes-sha2";
  private static final String UNAUTHENTICATED = "igs.unauthenticated.";

  /**
   * The user whose device sent us a session over Olm: an event that names another sender is refused
   * ({@link DecryptionFailure#UNTRUSTED}), so a session cannot be used to impersonate.
   */
  private static final String SENDER_USER = "igs.sender.";

  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final Map<String, OutboundGroupSession> outbound = new HashMap<>();
  private final Map<String, InboundGroupSession> inbound = new HashMap<>();

  /** Request id of an unacknowledged key share to what it shares. */
  private final Map<String, PendingShare> pending = new HashMap<>();

  /** Session id to devices already told the key is withheld. */
  private final Map<String, Set<UserDevice>> withheldSent = new HashMap<>();

  private final ReplayGuard replay;
  private java.util.function.BooleanSupplier ownMasterKeyHeld = () -> false;

  /** Tells trust computations whether we hold our own master key (set once CrossSigning exists). */
  void setOwnMasterKeyHeld(java.util.function.BooleanSupplier held) {
    this.ownMasterKeyHeld = held;
  }

  /**
   * Write-through caches of inbound session rows and of the small per-session values (sender
   * binding, authenticated flag), read for every decrypted event. All writes go through {@link
   * #storeInbound} and {@link #putValue}; a failed step rebuilds this object.
   */
  private final Map<String, InboundGroupSessionRecord> inboundRecords = new HashMap<>();

  private final Map<String, Optional<String>> values = new HashMap<>();

  private Optional<String> value(String key) {
    return values.computeIfAbsent(
        key, k -> ctx.store.value(k).map(b -> new String(b, StandardCharsets.UTF_8)));
  }

  private void putValue(String key, String value, Changes changes) {
    changes.putValue(key, value.getBytes(StandardCharsets.UTF_8));
    values.put(key, Optional.of(value));
  }

  private void deleteValue(String key, Changes changes) {
    changes.deleteValue(key);
    values.put(key, Optional.empty());
  }

  /** The stored row of an inbound session, if any. */
  Optional<InboundGroupSessionRecord> inboundRecord(String roomId, String sessionId) {
    String key = roomId + "|" + sessionId;
    InboundGroupSessionRecord cached = inboundRecords.get(key);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<InboundGroupSessionRecord> r = ctx.store.inboundGroupSession(roomId, sessionId);
    r.ifPresent(x -> inboundRecords.put(key, x));
    return r;
  }

  /** Devices sent the key at {@code messageIndex} in one to-device request. */
  private record PendingShare(
      String roomId, String sessionId, List<UserDevice> devices, long messageIndex) {}

  GroupSessions(
      Context ctx,
      AccountKeys account,
      DeviceTracker devices,
      OlmSessions olm,
      ReplayGuard replay) {
    this.ctx = ctx;
    this.replay = replay;
    this.account = account;
    this.devices = devices;
    this.olm = olm;
  }

  // ---------------------------------------------------------------- outbound

  private OutboundGroupSession loadOutbound(String roomId) {
    OutboundGroupSession cached = outbound.get(roomId);
    if (cached != null) {
      return cached;
    }
    Optional<OutboundGroupSessionRecord> r = ctx.store.outboundGroupSession(roomId);
    if (r.isEmpty()) {
      return null;
    }
    OutboundGroupSession s =
        OutboundGroupSession.fromPickle(r.get().pickle().ciphertext(), ctx.pickleKey());
    outbound.put(roomId, s);
    return s;
  }

  private long createdAt(String roomId) {
    return ctx.store
        .outboundGroupSession(roomId)
        .map(OutboundGroupSessionRecord::createdAtMillis)
        .orElse(0L);
  }

  /** Discards the room's outbound session; the next share creates a new one. */
  void invalidate(String roomId, Changes changes) {
    outbound.remove(roomId);
    changes.deleteOutboundGroupSession(roomId);
  }

  private boolean needsRotation(
      String roomId, OutboundGroupSession s, Set<String> members, RoomSettings settings) {
    if (s.messageIndex() >= settings.rotationPeriodMsgs()) {
      return true;
    }
    if (ctx.now() - createdAt(roomId) >= settings.rotationPeriodMs()) {
      return true;
    }
    for (UserDevice d : ctx.store.outboundSharedWith(roomId).keySet()) {
      if (!members.contains(d.userId())) {
        return true;
      }
      var record = devices.deviceRecord(d.userId(), d.deviceId());
      if (record.isEmpty() || record.get().deleted()) {
        return true;
      }
    }
    return false;
  }

  private OutboundGroupSession create(String roomId, RoomSettings settings, Changes changes) {
    OutboundGroupSession s = OutboundGroupSession.create(ctx.config.random());
    outbound.put(roomId, s);
    changes.putOutboundGroupSession(
        new OutboundGroupSessionRecord(
            roomId,
            s.sessionId(),
            ctx.seal(s.pickle(ctx.pickleKey())),
            s.messageIndex(),
            ctx.now()));
    InboundGroupSession own = InboundGroupSession.fromSessionKey(s.sessionKey());
    inbound.put(s.sessionId(), own);
    storeInbound(
        roomId,
        own,
        account.account().curve25519Key().toBase64(),
        account.account().ed25519Key().toBase64(),
        settings.sharedHistory(),
        true,
        changes);
    bindSender(roomId, s.sessionId(), ctx.userId(), changes);
    return s;
  }

  /**
   * Shares the room key with the devices of {@code users}, creating or rotating the session first
   * if needed.
   *
   * @return to-device requests: encrypted {@code m.room_key} messages, then {@code
   *     m.room_key.withheld} for devices left out
   */
  List<OutgoingRequest> share(
      String roomId, Collection<String> users, SharingStrategy strategy, Changes changes) {
    RoomSettings settings = RoomSettings.load(ctx, roomId);
    Set<String> members = new HashSet<>(users);
    members.add(ctx.userId());
    OutboundGroupSession s = loadOutbound(roomId);
    if (s != null && needsRotation(roomId, s, members, settings)) {
      invalidate(roomId, changes);
      s = null;
    }
    boolean fresh = s == null;
    if (fresh) {
      s = create(roomId, settings, changes);
    }
    String sessionId = s.sessionId();
    // The store's list belongs to the session it holds; a session made in this step has none yet.
    Map<UserDevice, Long> already =
        fresh ? new HashMap<>() : new HashMap<>(ctx.store.outboundSharedWith(roomId));
    for (PendingShare p : pending.values()) {
      if (p.sessionId.equals(sessionId)) {
        for (UserDevice d : p.devices) {
          already.put(d, p.messageIndex);
        }
      }
    }
    Set<UserDevice> toldWithheld = withheldSent.computeIfAbsent(sessionId, k -> new HashSet<>());

    ObjectNode roomKey = Context.object();
    roomKey.put("algorithm", MEGOLM_ALGORITHM);
    roomKey.put("room_id", roomId);
    roomKey.put("session_id", sessionId);
    roomKey.put("session_key", s.sessionKey().toBase64());
    roomKey.put("shared_history", settings.sharedHistory());

    ToDeviceBatcher keys = new ToDeviceBatcher(ctx, "m.room.encrypted");
    ToDeviceBatcher withheld = new ToDeviceBatcher(ctx, "m.room_key.withheld");
    boolean ownMaster = ownMasterKeyHeld.getAsBoolean();
    byte[] sharedPayload = olm.sharedPayload("m.room_key", roomKey);
    for (String user : members) {
      for (DeviceKeys device : devices.devices(user).values()) {
        if (olm.isOwnDevice(device)) {
          continue;
        }
        UserDevice ud = new UserDevice(user, device.deviceId());
        if (already.containsKey(ud)) {
          continue;
        }
        DeviceTrust trust = devices.trust(user, device, ownMaster);
        String code = strategy.withheldCode(trust);
        ObjectNode encrypted = null;
        if (code == null) {
          encrypted = olm.encryptPrepared(device, sharedPayload, changes);
          if (encrypted == null) {
            code = "m.no_olm";
          }
        }
        if (code != null) {
          if (toldWithheld.add(ud)) {
            withheld.add(user, device.deviceId(), withheldContent(roomId, sessionId, code));
          }
        } else {
          keys.add(user, device.deviceId(), encrypted);
        }
      }
    }
    List<OutgoingRequest> keyRequests = keys.build();
    // Every device gets the key at the session's current index: sharing does not advance it.
    long index = s.messageIndex();
    for (OutgoingRequest r : keyRequests) {
      pending.put(
          r.requestId(),
          new PendingShare(roomId, sessionId, keys.recipients().get(r.requestId()), index));
    }
    List<OutgoingRequest> all = new java.util.ArrayList<>(keyRequests);
    all.addAll(withheld.build());
    return all;
  }

  private ObjectNode withheldContent(String roomId, String sessionId, String code) {
    ObjectNode c = Context.object();
    c.put("algorithm", MEGOLM_ALGORITHM);
    c.put("room_id", roomId);
    c.put("session_id", sessionId);
    c.put("sender_key", account.account().curve25519Key().toBase64());
    c.put("from_device", ctx.deviceId());
    c.put("code", code);
    c.put("reason", WithheldCodes.reason(code));
    return c;
  }

  /** A to-device request was acknowledged: if it carried a room key, record who has it. */
  void onToDeviceSent(String requestId, Changes changes) {
    PendingShare p = pending.remove(requestId);
    if (p == null) {
      return;
    }
    boolean current =
        ctx.store
            .outboundGroupSession(p.roomId)
            .map(r -> r.sessionId().equals(p.sessionId))
            .orElse(false);
    if (!current) {
      return; // acknowledged after a rotation: the old session's list is gone with it
    }
    for (UserDevice d : p.devices) {
      changes.putOutboundSharedWith(p.roomId, p.sessionId, d, p.messageIndex);
    }
  }

  /** True if the room has an outbound session that every share so far was acknowledged for. */
  boolean isShared(String roomId) {
    OutboundGroupSession s = loadOutbound(roomId);
    return s != null && pending.values().stream().noneMatch(p -> p.sessionId.equals(s.sessionId()));
  }

  /**
   * Encrypts a room event. The advanced session (its next index) is in {@code changes}, which the
   * caller must save before the returned content leaves the process.
   *
   * @throws IllegalStateException if no room key was shared for the room
   */
  ObjectNode encrypt(String roomId, String type, ObjectNode content, Changes changes) {
    OutboundGroupSession s = loadOutbound(roomId);
    if (s == null) {
      throw new IllegalStateException("no room key for " + roomId + ": call shareRoomKey first");
    }
    ObjectNode payload = Context.object();
    payload.put("type", type);
    payload.set("content", content);
    payload.put("room_id", roomId);
    long index = s.messageIndex();
    MegolmMessage message = s.encrypt(payload.toString().getBytes(StandardCharsets.UTF_8));
    // A compare-and-set on the index: if another process advanced the stored session meanwhile,
    // the save fails, this ciphertext is never returned and the caches reload from the store.
    changes.advanceOutboundGroupSession(
        new OutboundGroupSessionRecord(
            roomId,
            s.sessionId(),
            ctx.seal(s.pickle(ctx.pickleKey())),
            s.messageIndex(),
            createdAt(roomId) == 0 ? ctx.now() : createdAt(roomId)),
        index);
    ObjectNode encrypted = Context.object();
    encrypted.put("algorithm", MEGOLM_ALGORITHM);
    encrypted.put("sender_key", account.account().curve25519Key().toBase64());
    encrypted.put("ciphertext", message.toBase64());
    encrypted.put("session_id", s.sessionId());
    encrypted.put("device_id", ctx.deviceId());
    JsonNode relation = content.get("m.relates_to");
    if (relation != null) {
      encrypted.set("m.relates_to", relation.deepCopy());
    }
    return encrypted;
  }

  // ---------------------------------------------------------------- inbound

  void storeInbound(
      String roomId,
      InboundGroupSession session,
      String senderKey,
      String signingKey,
      boolean sharedHistory,
      boolean authenticated,
      Changes changes) {
    InboundGroupSessionRecord record =
        new InboundGroupSessionRecord(
            roomId,
            session.sessionId(),
            senderKey,
            signingKey,
            session.firstKnownIndex(),
            sharedHistory,
            false,
            ctx.seal(session.pickle(ctx.pickleKey())));
    changes.putInboundGroupSession(record);
    inboundRecords.put(roomId + "|" + session.sessionId(), record);
    if (authenticated) {
      deleteValue(UNAUTHENTICATED + session.sessionId(), changes);
    } else {
      putValue(UNAUTHENTICATED + session.sessionId(), "1", changes);
    }
    inbound.put(session.sessionId(), session);
  }

  /** True if the session's key came from its sender's device over Olm (not a file or backup). */
  boolean isAuthenticated(String sessionId) {
    return value(UNAUTHENTICATED + sessionId).isEmpty();
  }

  /** Records which user's device sent the session (see {@link #SENDER_USER}). */
  void bindSender(String roomId, String sessionId, String userId, Changes changes) {
    putValue(SENDER_USER + roomId + "|" + sessionId, userId, changes);
  }

  private Optional<String> boundSender(String roomId, String sessionId) {
    return value(SENDER_USER + roomId + "|" + sessionId);
  }

  InboundGroupSession loadInbound(String roomId, String sessionId) {
    Optional<InboundGroupSessionRecord> r = inboundRecord(roomId, sessionId);
    if (r.isEmpty()) {
      return null;
    }
    InboundGroupSession cached = inbound.get(sessionId);
    if (cached != null && cached.firstKnownIndex() == r.get().firstKnownIndex()) {
      return cached;
    }
    InboundGroupSession s =
        InboundGroupSession.fromPickle(r.get().pickle().ciphertext(), ctx.pickleKey());
    inbound.put(sessionId, s);
    return s;
  }

  /**
   * Imports a room key received over Olm ({@code m.room_key}). The session id must be the key's
   * own; a copy we already hold is replaced only by a better one (earlier first index).
   *
   * @return true if the key was new or better
   */
  boolean importRoomKey(
      JsonNode content,
      String senderKey,
      String senderEd25519,
      boolean authenticated,
      Changes changes) {
    if (!MEGOLM_ALGORITHM.equals(content.path("algorithm").asText())) {
      return false;
    }
    String roomId = content.path("room_id").asText(null);
    String sessionId = content.path("session_id").asText(null);
    String key = content.path("session_key").asText(null);
    if (roomId == null || sessionId == null || key == null) {
      return false;
    }
    InboundGroupSession session;
    try {
      session = InboundGroupSession.fromSessionKey(SessionKey.fromBase64(key));
    } catch (Mxe2eeException e) {
      return false;
    }
    return keepIfBetter(
        roomId,
        sessionId,
        session,
        senderKey,
        senderEd25519,
        content.path("shared_history").asBoolean(false),
        authenticated,
        changes);
  }

  boolean keepIfBetter(
      String roomId,
      String sessionId,
      InboundGroupSession session,
      String senderKey,
      String senderEd25519,
      boolean sharedHistory,
      boolean authenticated,
      Changes changes) {
    if (!session.sessionId().equals(sessionId)) {
      return false;
    }
    if (isBlank(roomId) || isBlank(senderKey) || isBlank(senderEd25519)) {
      return false;
    }
    InboundGroupSession existing = loadInbound(roomId, sessionId);
    if (existing != null) {
      InboundGroupSessionRecord stored = inboundRecord(roomId, sessionId).orElseThrow();
      if (!stored.senderKey().equals(senderKey) || !stored.signingKey().equals(senderEd25519)) {
        // Another device re-sending a session must not re-bind it to itself.
        return false;
      }
      var order = existing.compare(session);
      if (order != io.github.mxe2ee.megolm.SessionOrdering.WORSE) {
        return false;
      }
    }
    storeInbound(roomId, session, senderKey, senderEd25519, sharedHistory, authenticated, changes);
    changes.deleteWithheld(roomId, sessionId);
    return true;
  }

  /** Sessions read per store query while exporting: bounds memory, not the export's size. */
  static final int EXPORT_PAGE_SIZE = 500;

  /** Every stored inbound session that {@code filter} accepts, at its first known index. */
  List<ExportedRoomKey> exportRoomKeys(Predicate<InboundGroupSessionRecord> filter) {
    List<ExportedRoomKey> out = new ArrayList<>();
    String roomId = null;
    String sessionId = null;
    while (true) {
      List<InboundGroupSessionRecord> page =
          ctx.store.inboundGroupSessionsAfter(roomId, sessionId, EXPORT_PAGE_SIZE);
      if (page.isEmpty()) {
        return out;
      }
      for (InboundGroupSessionRecord r : page) {
        if (filter.test(r)) {
          InboundGroupSession session =
              InboundGroupSession.fromPickle(r.pickle().ciphertext(), ctx.pickleKey());
          out.add(ExportedRoomKey.fromRecord(r, session));
        }
      }
      InboundGroupSessionRecord last = page.get(page.size() - 1);
      roomId = last.roomId();
      sessionId = last.sessionId();
    }
  }

  /**
   * Imports room keys from a key export (or a backup): each is kept if it is new or better than the
   * copy held, as an unauthenticated session (a file proves nothing about who sent the key).
   */
  RoomKeyImportResult importRoomKeys(List<ExportedRoomKey> keys, Changes changes) {
    int imported = 0;
    for (ExportedRoomKey key : keys) {
      if (keepIfBetter(
          key.roomId(),
          key.sessionId(),
          key.toInboundGroupSession(),
          key.senderKey().toBase64(),
          key.claimedEd25519Key().toBase64(),
          key.sharedHistory(),
          false,
          changes)) {
        imported++;
      }
    }
    return new RoomKeyImportResult(keys.size(), imported);
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  /** Records an incoming {@code m.room_key.withheld} from a known device of its sender. */
  void onWithheld(JsonNode content, String sender, Changes changes, WithheldLimiter limiter) {
    String roomId = content.path("room_id").asText(null);
    String sessionId = content.path("session_id").asText(null);
    String code = content.path("code").asText(null);
    String senderKey = content.path("sender_key").asText(null);
    if (isBlank(roomId) || isBlank(sessionId) || isBlank(code) || isBlank(senderKey)) {
      return;
    }
    if (devices.deviceByCurveKey(sender, senderKey).isEmpty()) {
      // Anyone can send a plaintext notice; only the session owner's known device may withhold,
      // otherwise a stranger could suppress our key requests for any session.
      return;
    }
    if (inboundRecord(roomId, sessionId).isPresent()) {
      return;
    }
    limiter.put(
        new WithheldRecord(roomId, sessionId, senderKey, code, content.path("reason").asText(null)),
        changes);
  }

  /** Decrypts a room event; never throws for a well-formed call. */
  DecryptionResult decrypt(String roomId, ObjectNode event) {
    return decrypt(roomId, event, null);
  }

  /**
   * Decrypts many events of a room: the Megolm signatures of each session's events are verified in
   * one Ed25519 batch ({@link InboundGroupSession#decryptAll}); everything else happens per event,
   * in order, exactly as {@link #decrypt(String, ObjectNode)} does, so the results are the same.
   */
  List<DecryptionResult> decryptAll(String roomId, List<ObjectNode> events) {
    InboundGroupSession.Attempt[] pre = new InboundGroupSession.Attempt[events.size()];
    Map<String, List<Integer>> bySession = new LinkedHashMap<>();
    Map<Integer, MegolmMessage> messages = new HashMap<>();
    for (int i = 0; i < events.size(); i++) {
      JsonNode content = events.get(i).path("content");
      String sessionId = content.path("session_id").asText(null);
      String ciphertext = content.path("ciphertext").asText(null);
      if (!MEGOLM_ALGORITHM.equals(content.path("algorithm").asText())
          || isBlank(sessionId)
          || isBlank(ciphertext)
          || inboundRecord(roomId, sessionId).isEmpty()) {
        continue;
      }
      try {
        messages.put(i, MegolmMessage.fromBase64(ciphertext));
        bySession.computeIfAbsent(sessionId, k -> new java.util.ArrayList<>()).add(i);
      } catch (Mxe2eeException e) {
        // Left to the per-event path, which reports it as malformed.
      }
    }
    for (Map.Entry<String, List<Integer>> group : bySession.entrySet()) {
      InboundGroupSession session = loadInbound(roomId, group.getKey());
      List<MegolmMessage> batch = group.getValue().stream().map(messages::get).toList();
      List<InboundGroupSession.Attempt> attempts = session.decryptAll(batch);
      for (int j = 0; j < attempts.size(); j++) {
        pre[group.getValue().get(j)] = attempts.get(j);
      }
    }
    List<DecryptionResult> out = new java.util.ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      out.add(decrypt(roomId, events.get(i), pre[i]));
    }
    return out;
  }

  /**
   * @param pre the outcome of this event's Megolm decryption if {@link #decryptAll} did it already,
   *     or null to decrypt here
   */
  private DecryptionResult decrypt(
      String roomId, ObjectNode event, InboundGroupSession.Attempt pre) {
    JsonNode content = event.path("content");
    if (!MEGOLM_ALGORITHM.equals(content.path("algorithm").asText())) {
      return fail(DecryptionFailure.MALFORMED, null, "not a Megolm event");
    }
    String sessionId = content.path("session_id").asText(null);
    String ciphertext = content.path("ciphertext").asText(null);
    String sender = event.path("sender").asText(null);
    if (isBlank(sessionId) || isBlank(ciphertext) || isBlank(sender)) {
      return fail(DecryptionFailure.MALFORMED, null, "missing session_id, ciphertext or sender");
    }
    Optional<InboundGroupSessionRecord> record = inboundRecord(roomId, sessionId);
    if (record.isEmpty()) {
      Optional<WithheldRecord> w = ctx.store.withheld(roomId, sessionId);
      return w.isPresent()
          ? fail(DecryptionFailure.WITHHELD, w.get().code(), "session " + sessionId + " withheld")
          : fail(DecryptionFailure.MISSING_SESSION, null, "no session " + sessionId);
    }
    InboundGroupSession session = loadInbound(roomId, sessionId);
    DecryptedMessage plain;
    try {
      if (pre == null) {
        plain = session.decrypt(MegolmMessage.fromBase64(ciphertext));
      } else if (pre.error() != null) {
        throw pre.error();
      } else {
        plain = pre.message();
      }
    } catch (MegolmDecryptionException e) {
      if (e.reason() == MegolmDecryptionException.Reason.UNKNOWN_MESSAGE_INDEX) {
        return fail(DecryptionFailure.UNKNOWN_INDEX, null, e.getMessage());
      }
      return fail(DecryptionFailure.MALFORMED, null, e.getMessage());
    } catch (Mxe2eeException e) {
      return fail(DecryptionFailure.MALFORMED, null, e.getMessage());
    }
    ObjectNode payload;
    try {
      payload = Context.parseObject(plain.plaintextUtf8());
    } catch (Mxe2eeException e) {
      return fail(DecryptionFailure.MALFORMED, null, "plaintext is not a JSON object");
    }
    if (!roomId.equals(payload.path("room_id").asText(null))) {
      return fail(DecryptionFailure.UNTRUSTED, null, "plaintext names another room");
    }
    JsonNode decryptedContent = payload.get("content");
    if (!payload.path("type").isTextual()
        || decryptedContent == null
        || !decryptedContent.isObject()) {
      return fail(DecryptionFailure.MALFORMED, null, "plaintext lacks type or content");
    }
    Optional<String> bound = boundSender(roomId, sessionId);
    if (bound.isPresent() && !bound.get().equals(sender)) {
      return fail(DecryptionFailure.UNTRUSTED, null, "session belongs to another sender");
    }
    String senderKey = record.get().senderKey();
    Optional<DeviceKeys> device = devices.deviceByCurveKey(sender, senderKey);
    boolean keysMatch =
        device.isPresent() && device.get().ed25519().toBase64().equals(record.get().signingKey());
    if (device.isPresent() && !keysMatch) {
      return fail(DecryptionFailure.UNTRUSTED, null, "session signing key is not the device's key");
    }
    // Last, so that an event refused for another reason does not claim the index.
    String eventId = event.path("event_id").asText("");
    long ts = event.path("origin_server_ts").asLong(0);
    if (!replay.check(sessionId, plain.messageIndex(), eventId, ts)) {
      return fail(
          DecryptionFailure.REPLAY,
          null,
          "index " + plain.messageIndex() + " of " + sessionId + " reused");
    }
    boolean authenticated = keysMatch && value(UNAUTHENTICATED + sessionId).isEmpty();
    DeviceTrust trust =
        device
            .map(d -> devices.trust(sender, d, ownMasterKeyHeld.getAsBoolean()))
            .orElse(DeviceTrust.UNVERIFIED);
    return new DecryptionResult.Decrypted(
        payload.get("type").textValue(),
        (ObjectNode) decryptedContent,
        device.map(DeviceKeys::deviceId).orElse(null),
        senderKey,
        trust,
        authenticated,
        plain.messageIndex());
  }

  private static DecryptionResult fail(DecryptionFailure reason, String code, String message) {
    return new DecryptionResult.UnableToDecrypt(reason, code, message);
  }
}
