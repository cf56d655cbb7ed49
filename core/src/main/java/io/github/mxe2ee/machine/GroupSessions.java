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

  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final Map<String, OutboundGroupSession> outbound = new HashMap<>();
  private final Map<SessionRef, InboundGroupSession> inbound = new HashMap<>();

  /** Request id of an unacknowledged key share to what it shares. */
  private final Map<String, PendingShare> pending = new HashMap<>();

  /** Session id to devices already told the key is withheld. */
  private final Map<String, Set<UserDevice>> withheldSent = new HashMap<>();

  private final ReplayGuard replay;

  /** Sessions stored (new or better) by the current step; see {@link #takeStored()}. */
  private final List<SessionRef> stored = new ArrayList<>();

  private java.util.function.BooleanSupplier ownMasterKeyHeld = () -> false;

  /** Tells trust computations whether we hold our own master key (set once CrossSigning exists). */
  void setOwnMasterKeyHeld(java.util.function.BooleanSupplier held) {
    this.ownMasterKeyHeld = held;
  }

  /**
   * Write-through caches of inbound session rows, keyed by (room id, sender key, session id) like
   * the rows themselves, and of the copies of a (room id, session id) for events without {@code
   * sender_key}. All writes go through {@link #storeInbound}; a failed step rebuilds this object.
   */
  private final Map<SessionRef, InboundGroupSessionRecord> inboundRecords = new HashMap<>();

  private final Map<RoomSession, List<InboundGroupSessionRecord>> copies = new HashMap<>();

  /** The stored row of an inbound session, if any. */
  Optional<InboundGroupSessionRecord> inboundRecord(SessionRef ref) {
    InboundGroupSessionRecord cached = inboundRecords.get(ref);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<InboundGroupSessionRecord> r =
        ctx.store.inboundGroupSession(ref.roomId(), ref.senderKey(), ref.sessionId());
    r.ifPresent(x -> inboundRecords.put(ref, x));
    return r;
  }

  /** Every stored copy of a session id in a room (one per sender key), as the store orders them. */
  List<InboundGroupSessionRecord> inboundCopies(String roomId, String sessionId) {
    RoomSession key = new RoomSession(roomId, sessionId);
    List<InboundGroupSessionRecord> cached = copies.get(key);
    if (cached == null) {
      cached = List.copyOf(ctx.store.inboundGroupSessions(roomId, sessionId));
      copies.put(key, cached);
    }
    return cached;
  }

  /**
   * The copy of a session to forward or to name in a notice: the one of {@code senderKey} if given,
   * else the best (authenticated first, then the earliest first index).
   */
  Optional<InboundGroupSessionRecord> bestCopy(String roomId, String sessionId, String senderKey) {
    if (!isBlank(senderKey)) {
      return inboundRecord(new SessionRef(roomId, senderKey, sessionId));
    }
    return inboundCopies(roomId, sessionId).stream().min(BEST_FIRST);
  }

  private static final java.util.Comparator<InboundGroupSessionRecord> BEST_FIRST =
      java.util.Comparator.comparing((InboundGroupSessionRecord r) -> !r.authenticated())
          .thenComparingLong(InboundGroupSessionRecord::firstKnownIndex);

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
    storeInbound(
        roomId,
        own,
        account.account().curve25519Key().toBase64(),
        account.account().ed25519Key().toBase64(),
        settings.sharedHistory(),
        true,
        ctx.userId(),
        changes);
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
    ExportedRoomKey.writeSharedHistory(roomKey, settings.sharedHistory());

    ToDeviceBatcher keys = new ToDeviceBatcher(ctx, "m.room.encrypted");
    ToDeviceBatcher withheld = new ToDeviceBatcher(ctx, "m.room_key.withheld");
    Map<String, Integer> withheldCodes = new java.util.TreeMap<>();
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
            withheldCodes.merge(code, 1, Integer::sum);
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
    withheldCodes.forEach((code, n) -> ctx.events.add(o -> o.withheldSent(code, n)));
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
    int delivered = p.devices.size();
    ctx.events.add(o -> o.roomKeysShared(p.roomId, delivered));
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
    return encrypt(roomId, type, null, content, changes);
  }

  /**
   * Encrypts a room event, or with a non-null {@code stateKey} the plaintext of an encrypted state
   * event (MSC4362: {@code {type, state_key, content, room_id}}; the caller has checked the type
   * and packs the outer state key).
   */
  ObjectNode encrypt(
      String roomId, String type, String stateKey, ObjectNode content, Changes changes) {
    OutboundGroupSession s = loadOutbound(roomId);
    if (s == null) {
      throw new IllegalStateException("no room key for " + roomId + ": call shareRoomKey first");
    }
    ObjectNode payload = Context.object();
    payload.put("type", type);
    if (stateKey != null) {
      payload.put("state_key", stateKey);
    }
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
    if (relation != null && stateKey == null) {
      encrypted.set("m.relates_to", relation.deepCopy());
    }
    return encrypted;
  }

  // ---------------------------------------------------------------- inbound

  /** An inbound session's key: room id, sender Curve25519 key, session id. */
  record SessionRef(String roomId, String senderKey, String sessionId) {
    static SessionRef of(InboundGroupSessionRecord r) {
      return new SessionRef(r.roomId(), r.senderKey(), r.sessionId());
    }
  }

  /** A room id and session id, for the copies of a session in a room. */
  private record RoomSession(String roomId, String sessionId) {}

  /**
   * Copies of one session id in one room kept at most (one per sender key; a genuine session has
   * one). Past it a new unauthenticated copy is refused, and an authenticated one takes the place
   * of an unauthenticated copy. Bounds the store rows one session id can take and the attempts to
   * decrypt an event without {@code sender_key}.
   */
  static final int MAX_COPIES_PER_SESSION = 8;

  private static final System.Logger LOG = System.getLogger(GroupSessions.class.getName());

  /** Room keys refused because they conflict with a stored copy (see {@link #keepIfBetter}). */
  private long conflictingKeysRefused;

  /** Room keys refused so far because another ratchet or signing key holds their session id. */
  long conflictingKeysRefused() {
    return conflictingKeysRefused;
  }

  void storeInbound(
      String roomId,
      InboundGroupSession session,
      String senderKey,
      String signingKey,
      boolean sharedHistory,
      boolean authenticated,
      String senderUserId,
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
            authenticated,
            senderUserId,
            ctx.seal(session.pickle(ctx.pickleKey())));
    changes.putInboundGroupSession(record);
    SessionRef ref = SessionRef.of(record);
    stored.add(ref);
    inboundRecords.put(ref, record);
    List<InboundGroupSessionRecord> list = new ArrayList<>(inboundCopies(roomId, ref.sessionId()));
    list.removeIf(r -> r.senderKey().equals(senderKey));
    list.add(record);
    list.sort(java.util.Comparator.comparing(InboundGroupSessionRecord::senderKey));
    copies.put(new RoomSession(roomId, ref.sessionId()), List.copyOf(list));
    inbound.put(ref, session);
  }

  /**
   * The sessions stored (new, or better than the stored copy) since the last call, then forgets
   * them. Called by the machine after a step's save: a failed step's sessions are dropped with this
   * object when the machine reloads.
   */
  List<SessionRef> takeStored() {
    List<SessionRef> out = List.copyOf(stored);
    stored.clear();
    return out;
  }

  private void deleteInbound(InboundGroupSessionRecord r, Changes changes) {
    changes.deleteInboundGroupSession(r.roomId(), r.senderKey(), r.sessionId());
    SessionRef ref = SessionRef.of(r);
    if (!r.authenticated()) {
      changes.deleteValue(forwarderKey(ref)); // a bundle's copy: its forwarder goes with it
      forwarders.remove(ref);
    }
    inboundRecords.remove(ref);
    inbound.remove(ref);
    List<InboundGroupSessionRecord> list =
        new ArrayList<>(inboundCopies(r.roomId(), r.sessionId()));
    list.removeIf(x -> x.senderKey().equals(r.senderKey()));
    copies.put(new RoomSession(r.roomId(), r.sessionId()), List.copyOf(list));
  }

  InboundGroupSession loadInbound(SessionRef ref) {
    Optional<InboundGroupSessionRecord> r = inboundRecord(ref);
    if (r.isEmpty()) {
      return null;
    }
    InboundGroupSession cached = inbound.get(ref);
    if (cached != null && cached.firstKnownIndex() == r.get().firstKnownIndex()) {
      return cached;
    }
    InboundGroupSession s =
        InboundGroupSession.fromPickle(r.get().pickle().ciphertext(), ctx.pickleKey());
    inbound.put(ref, s);
    return s;
  }

  /**
   * Imports a room key received over Olm ({@code m.room_key}) from the device whose Curve25519 key
   * is {@code senderKey}: the only source that makes a session authenticated (see {@link
   * #keepIfBetter}).
   *
   * @param senderUserId the user the Olm message came from
   * @return true if the key was new, better or upgraded a copy
   */
  boolean importRoomKey(
      JsonNode content,
      String senderKey,
      String senderEd25519,
      String senderUserId,
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
        new SessionRef(roomId, senderKey, sessionId),
        session,
        senderEd25519,
        ExportedRoomKey.readSharedHistory(content),
        senderUserId,
        changes);
  }

  /**
   * Keeps a copy of a session under (room, sender key, session id) if it adds something. The rules
   * (issue 10): a copy is new if the triple has none; it is better if it is the same session (same
   * signing key, and its ratchet advanced to the stored one's first index equals it) and reaches
   * further back. Only an authenticated source ({@code senderUserId != null}: an {@code m.room_key}
   * over Olm from the device of {@code ref.senderKey()}, for {@code ref.roomId()}) sets the
   * authenticated flag, and only on the same ratchet with the same claimed Ed25519 key; a key file,
   * backup or forwarded key never does and never replaces a copy it is not better than. A copy with
   * another ratchet or signing key under the same triple is refused, counted and logged; the one
   * exception is an authenticated key meeting an unauthenticated copy, which was then a false claim
   * and is replaced.
   *
   * @param senderUserId the user whose device sent the key over Olm, or null for an unauthenticated
   *     source
   * @return true if something was stored
   */
  boolean keepIfBetter(
      SessionRef ref,
      InboundGroupSession session,
      String senderEd25519,
      boolean sharedHistory,
      String senderUserId,
      Changes changes) {
    boolean authenticated = senderUserId != null;
    if (!session.sessionId().equals(ref.sessionId())) {
      return false;
    }
    if (isBlank(ref.roomId()) || isBlank(ref.senderKey()) || isBlank(senderEd25519)) {
      return false;
    }
    Optional<InboundGroupSessionRecord> stored = inboundRecord(ref);
    if (stored.isEmpty()) {
      if (!roomForAnotherCopy(ref, authenticated, changes)) {
        refuse(ref, "too many copies of the session id in the room");
        return false;
      }
      storeInbound(
          ref.roomId(),
          session,
          ref.senderKey(),
          senderEd25519,
          sharedHistory,
          authenticated,
          senderUserId,
          changes);
      changes.deleteWithheld(ref.roomId(), ref.senderKey(), ref.sessionId());
      return true;
    }
    InboundGroupSessionRecord old = stored.get();
    InboundGroupSession existing = loadInbound(ref);
    Optional<InboundGroupSession> merged = existing.merge(session);
    boolean sameSession = merged.isPresent() && old.signingKey().equals(senderEd25519);
    if (!sameSession) {
      if (authenticated && !old.authenticated()) {
        // The sender's own device contradicts an unproven claim in its name: the claim goes.
        refuse(ref, "an unauthenticated copy with another ratchet was replaced");
        storeInbound(
            ref.roomId(),
            session,
            ref.senderKey(),
            senderEd25519,
            sharedHistory,
            true,
            senderUserId,
            changes);
        return true;
      }
      refuse(ref, "another ratchet or signing key already holds the session id");
      return false;
    }
    boolean better = existing.compare(session) == io.github.mxe2ee.megolm.SessionOrdering.WORSE;
    boolean upgrade = authenticated && !old.authenticated();
    if (!better && !upgrade) {
      return false;
    }
    storeInbound(
        ref.roomId(),
        merged.get(),
        ref.senderKey(),
        old.signingKey(),
        upgrade ? sharedHistory : old.sharedHistory(),
        old.authenticated() || authenticated,
        upgrade ? senderUserId : old.senderUserId(),
        changes);
    return true;
  }

  /**
   * True if a new copy of {@code ref}'s session id may be stored in its room; for an authenticated
   * copy at the bound, an unauthenticated copy is deleted to make room.
   */
  private boolean roomForAnotherCopy(SessionRef ref, boolean authenticated, Changes changes) {
    List<InboundGroupSessionRecord> list = inboundCopies(ref.roomId(), ref.sessionId());
    if (list.size() < MAX_COPIES_PER_SESSION) {
      return true;
    }
    if (!authenticated) {
      return false;
    }
    Optional<InboundGroupSessionRecord> victim =
        list.stream().filter(r -> !r.authenticated()).findFirst();
    victim.ifPresent(r -> deleteInbound(r, changes));
    return victim.isPresent();
  }

  private void refuse(SessionRef ref, String why) {
    conflictingKeysRefused++;
    // Ids and public keys only: never a session key.
    LOG.log(
        System.Logger.Level.WARNING,
        "room key for session {0} in {1} from sender key {2} refused: {3}",
        ref.sessionId(),
        ref.roomId(),
        ref.senderKey(),
        why);
  }

  /** Sessions read per store query while exporting: bounds memory, not the export's size. */
  static final int EXPORT_PAGE_SIZE = 500;

  /**
   * Every stored inbound session of {@code roomId}, in the store's (sender key, session id) order.
   */
  List<InboundGroupSessionRecord> roomSessions(String roomId) {
    List<InboundGroupSessionRecord> out = new ArrayList<>();
    String senderKey = "";
    String sessionId = "";
    while (true) {
      List<InboundGroupSessionRecord> page =
          ctx.store.inboundGroupSessionsAfter(roomId, senderKey, sessionId, EXPORT_PAGE_SIZE);
      for (InboundGroupSessionRecord r : page) {
        if (!r.roomId().equals(roomId)) {
          return out;
        }
        out.add(r);
      }
      if (page.size() < EXPORT_PAGE_SIZE) {
        return out;
      }
      InboundGroupSessionRecord last = page.get(page.size() - 1);
      senderKey = last.senderKey();
      sessionId = last.sessionId();
    }
  }

  private static final String FORWARDER_KEY = "igs.forwarder.";

  /** Forwarder values read, by session; an absent one as {@link #NO_FORWARDER}. */
  private final Map<SessionRef, String[]> forwarders = new HashMap<>();

  private static final String[] NO_FORWARDER = new String[0];

  private static String forwarderKey(SessionRef ref) {
    return FORWARDER_KEY + ref.roomId() + "\u0000" + ref.senderKey() + "\u0000" + ref.sessionId();
  }

  /**
   * Records who vouched for an unauthenticated copy stored from an MSC4268 room key bundle: the
   * inviter and its device, with the copy's first known index. Shown with events decrypted by the
   * copy while it is the one stored: a copy replaced since (a better index from a file or backup,
   * or the sender's own authenticated key) no longer matches and shows no forwarder.
   */
  void recordForwarder(
      SessionRef ref, long firstKnownIndex, String userId, String deviceId, Changes changes) {
    ObjectNode v = Context.object();
    v.put("user_id", userId);
    v.put("device_id", deviceId);
    v.put("first_known_index", firstKnownIndex);
    changes.putValue(forwarderKey(ref), v.toString().getBytes(StandardCharsets.UTF_8));
    forwarders.put(ref, new String[] {userId, deviceId, Long.toString(firstKnownIndex)});
  }

  /** The (user id, device id) that vouched for {@code record}, or null (see recordForwarder). */
  private String[] forwarder(InboundGroupSessionRecord record) {
    if (record.authenticated()) {
      return null;
    }
    SessionRef ref = SessionRef.of(record);
    String[] f = forwarders.get(ref);
    if (f == null) {
      f =
          ctx.store
              .value(forwarderKey(ref))
              .map(
                  b -> {
                    try {
                      ObjectNode j = Context.parseObject(new String(b, StandardCharsets.UTF_8));
                      return new String[] {
                        j.path("user_id").asText(),
                        j.path("device_id").asText(),
                        Long.toString(j.path("first_known_index").asLong(-1))
                      };
                    } catch (Mxe2eeException e) {
                      return NO_FORWARDER;
                    }
                  })
              .orElse(NO_FORWARDER);
      forwarders.put(ref, f);
    }
    if (f.length == 0 || !f[2].equals(Long.toString(record.firstKnownIndex()))) {
      return null;
    }
    return f;
  }

  /** Every stored inbound session that {@code filter} accepts, at its first known index. */
  List<ExportedRoomKey> exportRoomKeys(Predicate<InboundGroupSessionRecord> filter) {
    List<ExportedRoomKey> out = new ArrayList<>();
    String roomId = null;
    String senderKey = null;
    String sessionId = null;
    while (true) {
      List<InboundGroupSessionRecord> page =
          ctx.store.inboundGroupSessionsAfter(roomId, senderKey, sessionId, EXPORT_PAGE_SIZE);
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
      senderKey = last.senderKey();
      sessionId = last.sessionId();
    }
  }

  /**
   * Imports room keys from a key export (or a backup): each is kept under its (room, claimed sender
   * key, session id) if it is new or better than the copy held there, as an unauthenticated session
   * (a file proves nothing about who sent the key); it never upgrades a copy.
   */
  RoomKeyImportResult importRoomKeys(List<ExportedRoomKey> keys, Changes changes) {
    int imported = 0;
    for (ExportedRoomKey key : keys) {
      if (keepIfBetter(
          new SessionRef(key.roomId(), key.senderKey().toBase64(), key.sessionId()),
          key.toInboundGroupSession(),
          key.claimedEd25519Key().toBase64(),
          key.sharedHistory(),
          null,
          changes)) {
        imported++;
      }
    }
    return new RoomKeyImportResult(keys.size(), imported);
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  /**
   * Records an incoming {@code m.room_key.withheld} from a known device of its sender, under (room,
   * that device's Curve25519 key, session id), through {@code limiter} (which bounds how many are
   * kept): it only ever explains the failure of events that name that key, or whose sender owns it.
   */
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
    if (inboundRecord(new SessionRef(roomId, senderKey, sessionId)).isPresent()) {
      return;
    }
    limiter.put(
        new WithheldRecord(roomId, sessionId, senderKey, code, content.path("reason").asText(null)),
        changes);
  }

  /** Decrypts a room event; never throws for a well-formed call. */
  DecryptionResult decrypt(String roomId, ObjectNode event) {
    return decrypt(roomId, event, null, null);
  }

  /**
   * The copies that may decrypt an event, in the order to try them. With {@code sender_key}, only
   * the copy of that key; without (MSC3700), the room's copies of the session id, those of the
   * event's sender first (bound to that user, or from a key one of its devices owns), each group
   * authenticated first, then by earliest first index. Copies of other rooms are never candidates.
   */
  private List<InboundGroupSessionRecord> candidates(
      String roomId, String sender, String senderKey, String sessionId) {
    if (!isBlank(senderKey)) {
      return inboundRecord(new SessionRef(roomId, senderKey, sessionId))
          .map(List::of)
          .orElse(List.of());
    }
    List<InboundGroupSessionRecord> all = inboundCopies(roomId, sessionId);
    if (all.size() <= 1) {
      return all;
    }
    return all.stream()
        .sorted(
            java.util.Comparator.comparing((InboundGroupSessionRecord r) -> !belongsTo(r, sender))
                .thenComparing(BEST_FIRST))
        .toList();
  }

  private boolean belongsTo(InboundGroupSessionRecord r, String sender) {
    return r.senderUserId() != null
        ? r.senderUserId().equals(sender)
        : devices.deviceByCurveKey(sender, r.senderKey()).isPresent();
  }

  /**
   * Decrypts many events of a room: the Megolm signatures of each session's events are verified in
   * one Ed25519 batch ({@link InboundGroupSession#decryptAll}); everything else happens per event,
   * in order, exactly as {@link #decrypt(String, ObjectNode)} does, so the results are the same.
   */
  List<DecryptionResult> decryptAll(String roomId, List<ObjectNode> events) {
    InboundGroupSession.Attempt[] pre = new InboundGroupSession.Attempt[events.size()];
    SessionRef[] preRef = new SessionRef[events.size()];
    Map<SessionRef, List<Integer>> bySession = new LinkedHashMap<>();
    Map<Integer, MegolmMessage> messages = new HashMap<>();
    for (int i = 0; i < events.size(); i++) {
      JsonNode content = events.get(i).path("content");
      String sessionId = content.path("session_id").asText(null);
      String ciphertext = content.path("ciphertext").asText(null);
      String sender = events.get(i).path("sender").asText(null);
      if (!MEGOLM_ALGORITHM.equals(content.path("algorithm").asText())
          || isBlank(sessionId)
          || isBlank(ciphertext)
          || isBlank(sender)) {
        continue;
      }
      List<InboundGroupSessionRecord> found =
          candidates(roomId, sender, content.path("sender_key").asText(null), sessionId);
      if (found.isEmpty()) {
        continue;
      }
      try {
        messages.put(i, MegolmMessage.fromBase64(ciphertext));
        preRef[i] = SessionRef.of(found.get(0));
        bySession.computeIfAbsent(preRef[i], k -> new ArrayList<>()).add(i);
      } catch (Mxe2eeException e) {
        // Left to the per-event path, which reports it as malformed.
      }
    }
    for (Map.Entry<SessionRef, List<Integer>> group : bySession.entrySet()) {
      InboundGroupSession session = loadInbound(group.getKey());
      List<MegolmMessage> batch = group.getValue().stream().map(messages::get).toList();
      List<InboundGroupSession.Attempt> attempts = session.decryptAll(batch);
      for (int j = 0; j < attempts.size(); j++) {
        pre[group.getValue().get(j)] = attempts.get(j);
      }
    }
    List<DecryptionResult> out = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      out.add(decrypt(roomId, events.get(i), pre[i], preRef[i]));
    }
    return out;
  }

  /**
   * @param pre the outcome of this event's Megolm decryption with the copy {@code preRef} if {@link
   *     #decryptAll} did it already, or null to decrypt here
   */
  private DecryptionResult decrypt(
      String roomId, ObjectNode event, InboundGroupSession.Attempt pre, SessionRef preRef) {
    JsonNode content = event.path("content");
    if (!MEGOLM_ALGORITHM.equals(content.path("algorithm").asText())) {
      return fail(DecryptionFailure.MALFORMED, null, "not a Megolm event");
    }
    String sessionId = content.path("session_id").asText(null);
    String ciphertext = content.path("ciphertext").asText(null);
    String sender = event.path("sender").asText(null);
    String eventSenderKey = content.path("sender_key").asText(null);
    if (isBlank(sessionId) || isBlank(ciphertext) || isBlank(sender)) {
      return fail(DecryptionFailure.MALFORMED, null, "missing session_id, ciphertext or sender");
    }
    List<InboundGroupSessionRecord> found = candidates(roomId, sender, eventSenderKey, sessionId);
    if (found.isEmpty()) {
      Optional<WithheldRecord> w = withheldFor(roomId, sender, eventSenderKey, sessionId);
      return w.isPresent()
          ? fail(DecryptionFailure.WITHHELD, w.get().code(), "session " + sessionId + " withheld")
          : fail(DecryptionFailure.MISSING_SESSION, null, "no session " + sessionId);
    }
    MegolmMessage message;
    try {
      message = MegolmMessage.fromBase64(ciphertext);
    } catch (Mxe2eeException e) {
      return fail(DecryptionFailure.MALFORMED, null, e.getMessage());
    }
    // A copy that does not decrypt (another ratchet under the same id, or a later first index)
    // never hides one that does: each candidate is tried, the first failure is reported.
    DecryptionResult firstFailure = null;
    for (InboundGroupSessionRecord record : found) {
      SessionRef ref = SessionRef.of(record);
      DecryptedMessage plain;
      try {
        if (pre != null && ref.equals(preRef)) {
          if (pre.error() != null) {
            throw pre.error();
          }
          plain = pre.message();
        } else {
          plain = loadInbound(ref).decrypt(message);
        }
      } catch (MegolmDecryptionException e) {
        if (firstFailure == null) {
          firstFailure =
              e.reason() == MegolmDecryptionException.Reason.UNKNOWN_MESSAGE_INDEX
                  ? fail(DecryptionFailure.UNKNOWN_INDEX, null, e.getMessage())
                  : fail(DecryptionFailure.MALFORMED, null, e.getMessage());
        }
        continue;
      } catch (Mxe2eeException e) {
        if (firstFailure == null) {
          firstFailure = fail(DecryptionFailure.MALFORMED, null, e.getMessage());
        }
        continue;
      }
      return decrypted(roomId, event, sender, record, plain);
    }
    return firstFailure;
  }

  /**
   * The withheld notice that explains a missing session: one from the key the event names, or
   * without {@code sender_key} one from a device of the event's sender. Another user's notice for
   * the same session id never applies.
   */
  private Optional<WithheldRecord> withheldFor(
      String roomId, String sender, String senderKey, String sessionId) {
    for (WithheldRecord w : ctx.store.withheld(roomId, sessionId)) {
      boolean applies =
          isBlank(senderKey)
              ? devices.deviceByCurveKey(sender, w.senderKey()).isPresent()
              : w.senderKey().equals(senderKey);
      if (applies) {
        return Optional.of(w);
      }
    }
    return Optional.empty();
  }

  private DecryptionResult decrypted(
      String roomId,
      ObjectNode event,
      String sender,
      InboundGroupSessionRecord record,
      DecryptedMessage plain) {
    String sessionId = record.sessionId();
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
    if (record.senderUserId() != null && !record.senderUserId().equals(sender)) {
      return fail(DecryptionFailure.UNTRUSTED, null, "session belongs to another sender");
    }
    String senderKey = record.senderKey();
    Optional<DeviceKeys> device = devices.deviceByCurveKey(sender, senderKey);
    boolean keysMatch =
        device.isPresent() && device.get().ed25519().toBase64().equals(record.signingKey());
    if (device.isPresent() && !keysMatch) {
      return fail(DecryptionFailure.UNTRUSTED, null, "session signing key is not the device's key");
    }
    // The packed state key binds the plaintext to the state entry it was filed under (MSC4362).
    EncryptedState.Verdict state = EncryptedState.check(event, payload);
    if (state == EncryptedState.Verdict.MISMATCH) {
      return fail(
          DecryptionFailure.STATE_KEY_MISMATCH,
          null,
          "packed state key does not match the plaintext (session " + sessionId + ")");
    }
    if (state == EncryptedState.Verdict.NEVER_ENCRYPTED_TYPE) {
      return fail(
          DecryptionFailure.NEVER_ENCRYPTED_STATE,
          null,
          "encrypted state of a never-encrypted type (session " + sessionId + ")");
    }
    // Last, so that an event refused for another reason does not claim the index.
    String eventId = event.path("event_id").asText("");
    long ts = event.path("origin_server_ts").asLong(0);
    if (!replay.check(ctx.store, roomId, senderKey, sessionId, plain.messageIndex(), eventId, ts)) {
      return fail(
          DecryptionFailure.REPLAY,
          null,
          "index " + plain.messageIndex() + " of " + sessionId + " reused");
    }
    boolean authenticated = keysMatch && record.authenticated();
    DeviceTrust trust;
    if (!record.authenticated()) {
      // Nothing proves the claimed device sent this key: its trust is not the event's.
      trust = DeviceTrust.UNAUTHENTICATED;
    } else {
      trust =
          device
              .map(d -> devices.trust(sender, d, ownMasterKeyHeld.getAsBoolean()))
              .orElse(DeviceTrust.UNVERIFIED);
    }
    String[] forwarder = forwarder(record);
    return new DecryptionResult.Decrypted(
        payload.get("type").textValue(),
        (ObjectNode) decryptedContent,
        device.map(DeviceKeys::deviceId).orElse(null),
        senderKey,
        trust,
        authenticated,
        plain.messageIndex(),
        state == EncryptedState.Verdict.STATE ? payload.get("state_key").textValue() : null,
        forwarder == null ? null : forwarder[0],
        forwarder == null ? null : forwarder[1]);
  }

  private static DecryptionResult fail(DecryptionFailure reason, String code, String message) {
    return new DecryptionResult.UnableToDecrypt(reason, code, message);
  }
}
