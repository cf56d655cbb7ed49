package io.github.mxe2ee.machine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.attachment.AttachmentCipher;
import io.github.mxe2ee.attachment.EncryptedFile;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.export.ExportedRoomKeyException;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.WithheldRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * MSC4268 room key bundles ("Sharing room keys for past messages"): building a room's bundle,
 * sending its location to an invitee's devices over Olm, remembering announcements received, and
 * importing a downloaded bundle under the checks that make it safe (see {@link
 * OlmMachine#importRoomKeyBundle}).
 */
final class RoomKeyBundles {
  static final String EVENT_TYPE = "m.room_key_bundle";

  /** The to-device type MSC4268 used before acceptance ("Unstable prefix"); read as the stable. */
  static final String UNSTABLE_EVENT_TYPE = "io.element.msc4268.room_key_bundle";

  /** The withheld code MSC4268 used before acceptance; stored as {@code m.history_not_shared}. */
  static final String UNSTABLE_HISTORY_NOT_SHARED = "io.element.msc4268.history_not_shared";

  /**
   * Announcements kept at most (all rooms and senders): past it the oldest is dropped. Bounds the
   * rows any user who can reach us over Olm can make us store; a genuine inviter's announcement is
   * used within a day, long before a flood of others could age it out at this count.
   */
  static final int MAX_PENDING_BUNDLES = 1_000;

  /**
   * Announcements kept at most from one sender: past it that sender's oldest is dropped, so one
   * user alone cannot push the others' announcements out of {@link #MAX_PENDING_BUNDLES}. 50 rooms
   * a day is far beyond what a person invites a bot to.
   */
  static final int MAX_PENDING_PER_SENDER = 50;

  /**
   * Entries ({@code room_keys} plus {@code withheld}) in a bundle at most: 50,000, above what
   * {@link ReceivedRoomKeyBundle#MAX_BUNDLE_BYTES} can hold of real entries, so only a bundle of
   * tiny fake entries meets it.
   */
  static final int MAX_BUNDLE_ENTRIES = 50_000;

  /** Bundle JSON nesting depth at most: the real format nests four levels. */
  static final int MAX_BUNDLE_DEPTH = 16;

  private static final System.Logger LOG = System.getLogger(RoomKeyBundles.class.getName());

  /** Parses a decrypted bundle: the size bound of a bundle, not of an event. */
  private static final ObjectMapper BUNDLE_MAPPER =
      new ObjectMapper(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(MAX_BUNDLE_DEPTH)
                          .maxStringLength(64 * 1024)
                          .maxNameLength(1024)
                          .maxNumberLength(100)
                          .maxDocumentLength(ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES)
                          .build())
                  .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                  .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
                  .build())
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final Context ctx;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final GroupSessions groups;
  private final BooleanSupplier ownMasterKeyHeld;

  RoomKeyBundles(
      Context ctx,
      DeviceTracker devices,
      OlmSessions olm,
      GroupSessions groups,
      BooleanSupplier ownMasterKeyHeld) {
    this.ctx = ctx;
    this.devices = devices;
    this.olm = olm;
    this.groups = groups;
    this.ownMasterKeyHeld = ownMasterKeyHeld;
  }

  // ---------------------------------------------------------------- build

  /**
   * The room's bundle: each copy flagged shared history in {@code room_keys}; each session id with
   * no shared copy in {@code withheld}, once per sender key. A session id never appears in both.
   */
  RoomKeyBundle build(String roomId) {
    List<InboundGroupSessionRecord> records = groups.roomSessions(roomId);
    Set<String> shared = new HashSet<>();
    for (InboundGroupSessionRecord r : records) {
      if (r.sharedHistory()) {
        shared.add(r.sessionId());
      }
    }
    ObjectNode bundle = Context.object();
    ArrayNode keys = bundle.putArray("room_keys");
    ArrayNode withheld = bundle.putArray("withheld");
    for (InboundGroupSessionRecord r : records) {
      if (r.sharedHistory()) {
        InboundGroupSession session =
            InboundGroupSession.fromPickle(r.pickle().ciphertext(), ctx.pickleKey());
        ObjectNode entry = ExportedRoomKey.fromRecord(r, session).toJson();
        // MSC4268: no forwarding chain, and shared_history is implied.
        entry.remove("forwarding_curve25519_key_chain");
        ExportedRoomKey.SHARED_HISTORY_FIELDS.forEach(entry::remove);
        keys.add(entry);
      } else if (!shared.contains(r.sessionId())) {
        ObjectNode w = withheld.addObject();
        w.put("algorithm", GroupSessions.MEGOLM_ALGORITHM);
        w.put("code", WithheldCodes.HISTORY_NOT_SHARED);
        w.put("reason", WithheldCodes.reason(WithheldCodes.HISTORY_NOT_SHARED));
        w.put("room_id", roomId);
        w.put("sender_key", r.senderKey());
        w.put("session_id", r.sessionId());
      }
    }
    byte[] json = bundle.toString().getBytes(StandardCharsets.UTF_8);
    try {
      return new RoomKeyBundle(roomId, json, keys.size(), withheld.size());
    } finally {
      Arrays.fill(json, (byte) 0);
    }
  }

  // ---------------------------------------------------------------- share

  RoomKeyBundleShare share(
      String roomId, String userId, EncryptedFile file, SharingStrategy strategy, Changes changes) {
    if (file.url().isEmpty()) {
      throw new IllegalArgumentException("the bundle's EncryptedFile has no url: upload it first");
    }
    ObjectNode content = Context.object();
    content.put("room_id", roomId);
    content.set("file", file.toJson());
    ToDeviceBatcher batch = new ToDeviceBatcher(ctx, "m.room.encrypted");
    List<String> sent = new ArrayList<>();
    Map<String, String> skipped = new TreeMap<>();
    boolean ownMaster = ownMasterKeyHeld.getAsBoolean();
    byte[] shared = olm.sharedPayload(EVENT_TYPE, content);
    for (DeviceKeys device : devices.devices(userId).values()) {
      if (olm.isOwnDevice(device)) {
        continue;
      }
      DeviceTrust trust = devices.trust(userId, device, ownMaster);
      // MSC4268: only devices signed by their owner's cross-signing identity; then the strategy.
      String code =
          trust == DeviceTrust.BLACKLISTED
              ? WithheldCodes.BLACKLISTED
              : !trust.isCrossSigned() ? WithheldCodes.UNVERIFIED : strategy.withheldCode(trust);
      ObjectNode encrypted = null;
      if (code == null) {
        encrypted = olm.encryptPrepared(device, shared, changes);
        if (encrypted == null) {
          code = WithheldCodes.NO_OLM;
        }
      }
      if (code != null) {
        skipped.put(device.deviceId(), code);
      } else {
        batch.add(userId, device.deviceId(), encrypted);
        sent.add(device.deviceId());
      }
    }
    LOG.log(
        System.Logger.Level.INFO,
        "room key bundle of {0} sent to {1} device(s) of {2}, {3} skipped",
        roomId,
        sent.size(),
        userId,
        skipped.size());
    return new RoomKeyBundleShare(batch.build(), sent, skipped);
  }

  // ---------------------------------------------------------------- receive

  /**
   * Remembers an Olm-decrypted {@code m.room_key_bundle} whose payload was validated. Ignored
   * (logged) without {@code sender_device_keys} (MSC4268 requires them), with a malformed or
   * oversized room id, or without a valid {@code EncryptedFile} with a URL.
   *
   * @return true if it was kept
   */
  boolean onBundle(
      JsonNode content, String sender, String senderKey, OlmPayload payload, Changes c) {
    if (payload.senderDeviceKeys() == null) {
      return ignored(sender, "no sender_device_keys");
    }
    String roomId = content.path("room_id").asText(null);
    if (!content.path("room_id").isTextual()
        || !MachineLimits.saneId(roomId)
        || !roomId.startsWith("!")) {
      return ignored(sender, "missing or malformed room_id");
    }
    EncryptedFile file;
    try {
      file = EncryptedFile.fromJson(content.get("file"));
    } catch (Mxe2eeException e) {
      return ignored(sender, "file: " + e.getMessage());
    }
    if (file.url().isEmpty() || !EncryptedFile.VERSION_V2.equals(file.version())) {
      return ignored(sender, "file is not an EncryptedFile v2 with a url");
    }
    ObjectNode info = Context.object();
    info.put("room_id", roomId);
    info.put("sender_key", senderKey);
    info.put("device_id", payload.senderDeviceKeys().deviceId());
    // The file key decrypts session keys: it is kept sealed with the pickle key, like a pickle.
    info.put(
        "file_sealed",
        PickleCipher.mxe2ee(ctx.pickleKey())
            .encrypt(file.toJson().toString().getBytes(StandardCharsets.UTF_8)));
    prune(roomId, sender, c);
    c.putPendingRoomKeyBundle(new PendingRoomKeyBundle(roomId, sender, info.toString(), ctx.now()));
    LOG.log(
        System.Logger.Level.INFO,
        "room key bundle announced for {0} by {1} (device {2})",
        roomId,
        sender,
        payload.senderDeviceKeys().deviceId());
    return true;
  }

  private static boolean ignored(String sender, String why) {
    LOG.log(System.Logger.Level.WARNING, "m.room_key_bundle from {0} ignored: {1}", sender, why);
    return false;
  }

  /**
   * Drops the oldest announcements so that one more from {@code sender} fits under {@link
   * #MAX_PENDING_PER_SENDER} (that sender's own first) and {@link #MAX_PENDING_BUNDLES}.
   */
  private void prune(String roomId, String sender, Changes changes) {
    if (ctx.store.pendingRoomKeyBundle(roomId, sender).isPresent()) {
      return; // replaces its own older announcement: the count does not grow
    }
    List<PendingRoomKeyBundle> all = new ArrayList<>(ctx.store.pendingRoomKeyBundles());
    all.sort(java.util.Comparator.comparingLong(PendingRoomKeyBundle::receivedAtMillis));
    List<PendingRoomKeyBundle> own = all.stream().filter(p -> p.inviter().equals(sender)).toList();
    Set<PendingRoomKeyBundle> dropped = new HashSet<>();
    for (int i = 0; i <= own.size() - MAX_PENDING_PER_SENDER; i++) {
      dropped.add(own.get(i));
    }
    for (int i = 0; all.size() - dropped.size() >= MAX_PENDING_BUNDLES && i < all.size(); i++) {
      dropped.add(all.get(i));
    }
    for (PendingRoomKeyBundle p : dropped) {
      changes.deletePendingRoomKeyBundle(p.roomId(), p.inviter());
    }
    if (!dropped.isEmpty()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "{0} older room key bundle announcement(s) dropped to keep within bounds",
          dropped.size());
    }
  }

  Optional<ReceivedRoomKeyBundle> received(String roomId, String inviter) {
    return ctx.store.pendingRoomKeyBundle(roomId, inviter).flatMap(this::decode);
  }

  List<ReceivedRoomKeyBundle> receivedAll() {
    List<ReceivedRoomKeyBundle> out = new ArrayList<>();
    for (PendingRoomKeyBundle p : ctx.store.pendingRoomKeyBundles()) {
      decode(p).ifPresent(out::add);
    }
    return out;
  }

  /** The stored announcement, or empty if it cannot be read (another pickle key, a bad row). */
  private Optional<ReceivedRoomKeyBundle> decode(PendingRoomKeyBundle p) {
    try {
      ObjectNode info = Context.parseObject(p.bundleInfoJson());
      byte[] file = PickleCipher.mxe2ee(ctx.pickleKey()).decrypt(info.path("file_sealed").asText());
      EncryptedFile f;
      try {
        f = EncryptedFile.fromJson(Context.parseObject(new String(file, StandardCharsets.UTF_8)));
      } finally {
        Arrays.fill(file, (byte) 0);
      }
      return Optional.of(
          new ReceivedRoomKeyBundle(
              p.roomId(),
              p.inviter(),
              info.path("device_id").asText(),
              info.path("sender_key").asText(),
              f,
              p.receivedAtMillis()));
    } catch (Mxe2eeException | IllegalArgumentException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "stored room key bundle of {0} from {1} unreadable: {2}",
          p.roomId(),
          p.inviter(),
          e.getClass().getSimpleName());
      return Optional.empty();
    }
  }

  // ---------------------------------------------------------------- import

  /** A refusal: logged with ids only. */
  private RoomKeyBundleImport reject(
      String roomId,
      String inviter,
      RoomKeyBundleImport.Reason reason,
      String message,
      boolean discard,
      Changes changes) {
    LOG.log(
        System.Logger.Level.WARNING,
        "room key bundle for {0} from {1} rejected ({2}): {3}",
        roomId,
        inviter,
        reason,
        message);
    if (discard) {
      changes.deletePendingRoomKeyBundle(roomId, inviter);
    }
    return new RoomKeyBundleImport.Rejected(reason, message);
  }

  RoomKeyBundleImport importBundle(
      String roomId, String inviter, byte[] ciphertext, Changes changes) {
    Optional<ReceivedRoomKeyBundle> found = received(roomId, inviter);
    if (found.isEmpty()) {
      return reject(
          roomId,
          inviter,
          RoomKeyBundleImport.Reason.NO_BUNDLE_FROM_INVITER,
          "no m.room_key_bundle from the inviter for this room",
          false,
          changes);
    }
    ReceivedRoomKeyBundle bundle = found.get();
    Optional<DeviceKeys> device = devices.deviceByCurveKey(inviter, bundle.senderKey());
    DeviceTrust trust =
        device
            .map(d -> devices.trust(inviter, d, ownMasterKeyHeld.getAsBoolean()))
            .orElse(DeviceTrust.UNVERIFIED);
    if (device.isEmpty() || !device.get().deviceId().equals(bundle.senderDeviceId())) {
      return reject(
          roomId,
          inviter,
          RoomKeyBundleImport.Reason.INVITER_NOT_CROSS_SIGNED,
          "the sending device " + bundle.senderDeviceId() + " is not a known device of the inviter",
          false,
          changes);
    }
    if (!trust.isCrossSigned()) {
      return reject(
          roomId,
          inviter,
          RoomKeyBundleImport.Reason.INVITER_NOT_CROSS_SIGNED,
          "the sending device "
              + bundle.senderDeviceId()
              + " is not signed by the inviter's cross-signing identity ("
              + trust
              + ")",
          false,
          changes);
    }
    if (ciphertext.length > ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES) {
      return reject(
          roomId,
          inviter,
          RoomKeyBundleImport.Reason.TOO_LARGE,
          ciphertext.length + " bytes, over " + ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES,
          true,
          changes);
    }
    byte[] plaintext;
    try {
      plaintext = AttachmentCipher.decrypt(ciphertext, bundle.file());
    } catch (Mxe2eeException e) {
      return reject(
          roomId,
          inviter,
          RoomKeyBundleImport.Reason.HASH_MISMATCH,
          "the ciphertext's SHA-256 differs from the announced hash",
          true,
          changes);
    }
    ParsedBundle parsed;
    try {
      parsed = parse(plaintext, roomId);
    } catch (BundleException e) {
      return reject(roomId, inviter, e.reason, e.getMessage(), true, changes);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
    int imported = 0;
    for (ExportedRoomKey key : parsed.keys) {
      GroupSessions.SessionRef ref =
          new GroupSessions.SessionRef(roomId, key.senderKey().toBase64(), key.sessionId());
      InboundGroupSession session = key.toInboundGroupSession();
      if (groups.keepIfBetter(
          ref, session, key.claimedEd25519Key().toBase64(), true, null, changes)) {
        groups.recordForwarder(
            ref, session.firstKnownIndex(), inviter, bundle.senderDeviceId(), changes);
        imported++;
      }
    }
    WithheldLimiter limiter = new WithheldLimiter(ctx);
    int withheld = 0;
    for (WithheldRecord w : parsed.withheld) {
      if (groups
          .inboundRecord(new GroupSessions.SessionRef(roomId, w.senderKey(), w.sessionId()))
          .isEmpty()) {
        limiter.put(w, changes);
        withheld++;
      }
    }
    changes.deletePendingRoomKeyBundle(roomId, inviter);
    LOG.log(
        System.Logger.Level.INFO,
        "room key bundle for {0} from {1} imported: {2} of {3} sessions, {4} withheld",
        roomId,
        inviter,
        imported,
        parsed.keys.size(),
        withheld);
    return new RoomKeyBundleImport.Imported(
        roomId, inviter, parsed.keys.size(), imported, withheld);
  }

  /** A bundle's valid content. */
  record ParsedBundle(List<ExportedRoomKey> keys, List<WithheldRecord> withheld) {}

  /** Why a bundle's plaintext is refused. */
  static final class BundleException extends Exception {
    final RoomKeyBundleImport.Reason reason;

    BundleException(RoomKeyBundleImport.Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  /**
   * Parses and checks a decrypted bundle: a JSON object whose {@code room_keys} and {@code
   * withheld} are arrays (absent means empty) of at most {@link #MAX_BUNDLE_ENTRIES} entries in
   * all, every entry an object for {@code roomId}; a key entry of an unknown algorithm is skipped,
   * any other bad entry refuses the bundle, as does a session id listed in both arrays. Messages
   * name fields and positions, never values.
   */
  static ParsedBundle parse(byte[] plaintext, String roomId) throws BundleException {
    JsonNode root;
    try {
      root = BUNDLE_MAPPER.readTree(plaintext);
    } catch (IOException e) {
      throw new BundleException(RoomKeyBundleImport.Reason.MALFORMED, "not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new BundleException(RoomKeyBundleImport.Reason.MALFORMED, "not a JSON object");
    }
    JsonNode keysNode = arrayOrEmpty(root, "room_keys");
    JsonNode withheldNode = arrayOrEmpty(root, "withheld");
    if (keysNode.size() + withheldNode.size() > MAX_BUNDLE_ENTRIES) {
      throw new BundleException(
          RoomKeyBundleImport.Reason.MALFORMED, "more than " + MAX_BUNDLE_ENTRIES + " entries");
    }
    List<ExportedRoomKey> keys = new ArrayList<>();
    Set<String> keySessions = new HashSet<>();
    for (int i = 0; i < keysNode.size(); i++) {
      JsonNode entry = keysNode.get(i);
      requireRoom(entry, roomId, "room_keys[" + i + "]");
      ExportedRoomKey key;
      try {
        key = ExportedRoomKey.fromJson(entry);
      } catch (ExportedRoomKeyException e) {
        if (e.problem() == ExportedRoomKeyException.Problem.UNSUPPORTED_ALGORITHM) {
          continue; // another algorithm's key: not ours to use, not a reason to refuse the rest
        }
        throw new BundleException(
            RoomKeyBundleImport.Reason.MALFORMED, "room_keys[" + i + "]: " + e.problem());
      }
      keys.add(key);
      keySessions.add(key.sessionId());
    }
    List<WithheldRecord> withheld = new ArrayList<>();
    for (int i = 0; i < withheldNode.size(); i++) {
      JsonNode entry = withheldNode.get(i);
      String where = "withheld[" + i + "]";
      requireRoom(entry, roomId, where);
      String sessionId = text(entry, "session_id", where);
      String senderKey = text(entry, "sender_key", where);
      String code = text(entry, "code", where);
      if (UNSTABLE_HISTORY_NOT_SHARED.equals(code)) {
        code = WithheldCodes.HISTORY_NOT_SHARED;
      }
      JsonNode reason = entry.get("reason");
      if (keySessions.contains(sessionId)) {
        throw new BundleException(
            RoomKeyBundleImport.Reason.MALFORMED, where + ": session also in room_keys");
      }
      withheld.add(
          new WithheldRecord(
              roomId,
              sessionId,
              senderKey,
              code,
              reason != null && reason.isTextual() ? reason.textValue() : null));
    }
    return new ParsedBundle(keys, withheld);
  }

  private static JsonNode arrayOrEmpty(JsonNode root, String field) throws BundleException {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return Context.MAPPER.createArrayNode();
    }
    if (!node.isArray()) {
      throw new BundleException(RoomKeyBundleImport.Reason.MALFORMED, field + " is not an array");
    }
    return node;
  }

  private static void requireRoom(JsonNode entry, String roomId, String where)
      throws BundleException {
    if (entry == null || !entry.isObject()) {
      throw new BundleException(RoomKeyBundleImport.Reason.MALFORMED, where + " is not an object");
    }
    JsonNode room = entry.get("room_id");
    if (room == null || !room.isTextual()) {
      throw new BundleException(RoomKeyBundleImport.Reason.MALFORMED, where + ": no room_id");
    }
    if (!roomId.equals(room.textValue())) {
      throw new BundleException(
          RoomKeyBundleImport.Reason.OTHER_ROOM, where + " is for another room");
    }
  }

  private static String text(JsonNode entry, String field, String where) throws BundleException {
    JsonNode n = entry.get(field);
    if (n == null || !n.isTextual() || n.textValue().isEmpty()) {
      throw new BundleException(
          RoomKeyBundleImport.Reason.MALFORMED, where + ": " + field + " missing or not a string");
    }
    return n.textValue();
  }
}
