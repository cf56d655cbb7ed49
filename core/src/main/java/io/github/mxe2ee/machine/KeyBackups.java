package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.backup.BackupEncryptionKey;
import io.github.mxe2ee.backup.EncryptedSessionData;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Server-side key backup (spec: end_to_end_encryption.md, "Server-side key backups", algorithm
 * {@code m.megolm_backup.v1.curve25519-aes-sha2}): uploads the room keys not yet in the current
 * backup version, a batch at a time, and restores keys from a backup. The enabled version and its
 * public key live in the store's key-value table; which sessions are backed up is the store's
 * {@code backed_up} flag, so nothing is lost or uploaded twice across restarts. Not thread-safe.
 */
final class KeyBackups {
  /** Sessions per {@code PUT /room_keys/keys}: a few hundred KB of JSON at most. */
  static final int BATCH_SIZE = 100;

  private static final String VERSION = "backup.version";
  private static final String PUBLIC_KEY = "backup.public_key";

  /** The backup's private key, sealed with the pickle key (kept to restore and to share). */
  private static final String PRIVATE_KEY = "backup.private_key";

  /** The version whose whole content this store has restored (or created empty). */
  private static final String RESTORED = "backup.restored";

  /**
   * Most one-session restores in flight at once: each is one small {@code GET}; a backlog of
   * undecryptable events asks a few at a time instead of flooding the server.
   */
  static final int MAX_SESSION_RESTORES_IN_FLIGHT = 8;

  /**
   * Most sessions looked up in the backup per machine lifetime (each once): bounds the memory an
   * attacker can make us use by sending events that name made-up sessions.
   */
  static final int MAX_SESSION_LOOKUPS = 10_000;

  /** The private key after it was loaded or set in this machine's life, or null. */
  private BackupDecryptionKey decryptionKey;

  /** Whether a full restore was produced in this machine's life (once per run, at most). */
  private boolean fullRestoreProduced;

  /** Sessions (room, session id) to look up, not yet asked; and those asked once. */
  private final java.util.LinkedHashMap<String, String[]> lookups = new java.util.LinkedHashMap<>();

  private final java.util.Set<String> lookedUp = new java.util.HashSet<>();

  /** Restore requests waiting for their response, by request id. */
  private final Map<String, OutgoingRequest> restores = new java.util.LinkedHashMap<>();

  private final Context ctx;
  private final GroupSessions groups;

  /** The request waiting for its response, and the sessions it carries. */
  private OutgoingRequest inFlight;

  private List<InboundGroupSessionRecord> inFlightSessions = List.of();

  KeyBackups(Context ctx, GroupSessions groups) {
    this.ctx = ctx;
    this.groups = groups;
  }

  /** The enabled backup version, if any. */
  Optional<String> version() {
    return ctx.store.value(VERSION).map(b -> new String(b, StandardCharsets.UTF_8));
  }

  /** Backs up to {@code version} from now on; another version than before starts from scratch. */
  void enable(String version, BackupEncryptionKey key, Changes changes) {
    if (!version().map(version::equals).orElse(false)) {
      changes.resetInboundGroupSessionBackup();
    }
    changes.putValue(VERSION, version.getBytes(StandardCharsets.UTF_8));
    changes.putValue(PUBLIC_KEY, key.publicKey().toBase64().getBytes(StandardCharsets.UTF_8));
    inFlight = null;
    fullRestoreProduced = false;
  }

  /**
   * The backup's private key this store holds (from a backup it created or trusted), or empty. It
   * decrypts restores and answers {@code m.secret.request} for {@code m.megolm_backup.v1}.
   */
  Optional<BackupDecryptionKey> decryptionKey() {
    if (decryptionKey == null) {
      ctx.store
          .value(PRIVATE_KEY)
          .ifPresent(
              pickled -> {
                byte[] raw =
                    io.github.mxe2ee.crypto.PickleCipher.mxe2ee(ctx.pickleKey())
                        .decrypt(new String(pickled, StandardCharsets.US_ASCII));
                try {
                  decryptionKey = BackupDecryptionKey.fromBytes(raw);
                } finally {
                  java.util.Arrays.fill(raw, (byte) 0);
                }
              });
    }
    return Optional.ofNullable(decryptionKey);
  }

  /** Keeps {@code key} (sealed with the pickle key) as the backup's private key. */
  void saveDecryptionKey(BackupDecryptionKey key, Changes changes) {
    byte[] raw = key.exposeSecretBytes();
    try {
      String sealed = io.github.mxe2ee.crypto.PickleCipher.mxe2ee(ctx.pickleKey()).encrypt(raw);
      changes.putValue(PRIVATE_KEY, sealed.getBytes(StandardCharsets.US_ASCII));
    } finally {
      java.util.Arrays.fill(raw, (byte) 0);
    }
    decryptionKey = key;
  }

  /** Records that {@code version}'s content is all in this store (a backup we just created). */
  void markRestored(String version, Changes changes) {
    changes.putValue(RESTORED, version.getBytes(StandardCharsets.UTF_8));
  }

  // ------------------------------------------------------------ restore

  /**
   * Asks the backup for the key of one session an event needed and we lack (once per session and
   * machine lifetime, at most {@value #MAX_SESSION_LOOKUPS}); produced by {@link #restoreRequests}.
   * Does nothing unless backup is enabled and we hold its private key.
   */
  void want(String roomId, String sessionId) {
    if (version().isEmpty() || decryptionKey().isEmpty()) {
      return;
    }
    String k = roomId + "|" + sessionId;
    if (lookedUp.size() >= MAX_SESSION_LOOKUPS || !lookedUp.add(k)) {
      return;
    }
    lookups.put(k, new String[] {roomId, sessionId});
  }

  /**
   * Restores due now: the whole backup once if this store has not restored the enabled version yet,
   * and one-session lookups, at most {@value #MAX_SESSION_RESTORES_IN_FLIGHT} in flight. The same
   * unanswered requests are returned again until answered.
   */
  List<OutgoingRequest> restoreRequests() {
    Optional<String> version = version();
    if (version.isEmpty() || decryptionKey().isEmpty()) {
      return List.of();
    }
    boolean restored =
        ctx.store
            .value(RESTORED)
            .map(b -> new String(b, StandardCharsets.UTF_8).equals(version.get()))
            .orElse(false);
    if (!restored && !fullRestoreProduced) {
      fullRestoreProduced = true;
      OutgoingRequest all =
          OutgoingRequest.backupKeysGet(ctx.newRequestId(), version.get(), null, null);
      restores.put(all.requestId(), all);
    }
    long oneSession = restores.values().stream().filter(r -> r.backupRoomId() != null).count();
    Iterator<String[]> it = lookups.values().iterator();
    while (oneSession < MAX_SESSION_RESTORES_IN_FLIGHT && it.hasNext()) {
      String[] s = it.next();
      it.remove();
      OutgoingRequest r =
          OutgoingRequest.backupKeysGet(ctx.newRequestId(), version.get(), s[0], s[1]);
      restores.put(r.requestId(), r);
      oneSession++;
    }
    return new ArrayList<>(restores.values());
  }

  /**
   * The answer to a restore: its keys are imported (unauthenticated, better copies only, see {@link
   * GroupSessions#importRoomKeys}) and count as backed up. Keys that do not decrypt are skipped.
   *
   * @return what was imported, or null if {@code requestId} is not a restore of ours
   */
  RoomKeyImportResult onRestored(
      String requestId, JsonNode response, GroupSessions groups, Changes changes) {
    OutgoingRequest r = restores.remove(requestId);
    if (r == null || decryptionKey().isEmpty()) {
      return null;
    }
    JsonNode rooms = response;
    if (r.backupRoomId() != null) {
      ObjectNode wrapped = Context.object();
      wrapped
          .putObject("rooms")
          .putObject(r.backupRoomId())
          .putObject("sessions")
          .set(r.backupSessionId(), response);
      rooms = wrapped;
    }
    Restored restored;
    try {
      restored = decrypt(decryptionKey().get(), rooms);
    } catch (IllegalArgumentException e) {
      return new RoomKeyImportResult(0, 0);
    }
    boolean current = r.backupVersion().equals(version().orElse(null));
    int imported = 0;
    for (ExportedRoomKey k : restored.keys()) {
      if (groups.importRoomKeys(List.of(k), changes).imported() == 1) {
        imported++;
        if (current) {
          // The copy we now hold is the backup's own: no need to upload it back.
          changes.markInboundGroupSessionBackedUp(
              k.roomId(), k.senderKey().toBase64(), k.sessionId());
        }
      }
    }
    if (current && r.backupRoomId() == null) {
      markRestored(r.backupVersion(), changes);
    }
    return new RoomKeyImportResult(restored.keys().size() + restored.failed(), imported);
  }

  /**
   * The lookup of one session's key, now: the request {@link #want} queued for it (taken out of the
   * queue), or the same request again while it waits for its answer; empty if the session was
   * looked up already, is over the bounds, or backup is off.
   */
  Optional<OutgoingRequest> lookupNow(String roomId, String sessionId) {
    String k = roomId + "|" + sessionId;
    for (OutgoingRequest r : restores.values()) {
      if (roomId.equals(r.backupRoomId()) && sessionId.equals(r.backupSessionId())) {
        return Optional.of(r);
      }
    }
    if (!lookedUp.contains(k)) {
      want(roomId, sessionId);
    }
    String[] s = lookups.remove(k);
    Optional<String> version = version();
    if (s == null || version.isEmpty()) {
      return Optional.empty();
    }
    OutgoingRequest r =
        OutgoingRequest.backupKeysGet(ctx.newRequestId(), version.get(), s[0], s[1]);
    restores.put(r.requestId(), r);
    return Optional.of(r);
  }

  /** True if {@code requestId} is a restore of ours waiting for its answer. */
  boolean ownsRestore(String requestId) {
    return restores.containsKey(requestId);
  }

  /** A restore failed (a 404 is a session the backup lacks); it is not asked again in this run. */
  void onRestoreFailed(String requestId) {
    restores.remove(requestId);
  }

  /** Stops backing up. */
  void disable(Changes changes) {
    changes.deleteValue(VERSION);
    changes.deleteValue(PUBLIC_KEY);
    inFlight = null;
  }

  /** The next upload (the same one again until its response arrives), or null if none is due. */
  OutgoingRequest request() {
    if (inFlight != null) {
      return inFlight;
    }
    Optional<String> version = version();
    Optional<byte[]> publicKey = ctx.store.value(PUBLIC_KEY);
    if (version.isEmpty() || publicKey.isEmpty()) {
      return null;
    }
    List<InboundGroupSessionRecord> sessions = ctx.store.inboundGroupSessionsToBackUp(BATCH_SIZE);
    if (sessions.isEmpty()) {
      return null;
    }
    BackupEncryptionKey key =
        BackupEncryptionKey.fromBase64(new String(publicKey.get(), StandardCharsets.UTF_8));
    ObjectNode rooms = Context.object();
    for (InboundGroupSessionRecord r : sessions) {
      ObjectNode room = (ObjectNode) rooms.get(r.roomId());
      if (room == null) {
        room = rooms.putObject(r.roomId());
        room.putObject("sessions");
      }
      ((ObjectNode) room.get("sessions")).set(r.sessionId(), keyBackupData(r, key));
    }
    ObjectNode body = Context.object();
    body.set("rooms", rooms);
    inFlight = OutgoingRequest.keysBackup(ctx.newRequestId(), version.get(), body);
    inFlightSessions = sessions;
    return inFlight;
  }

  /** {@code KeyBackupData}: the encrypted {@code BackedUpSessionData} and its metadata. */
  private ObjectNode keyBackupData(InboundGroupSessionRecord r, BackupEncryptionKey key) {
    InboundGroupSession session =
        InboundGroupSession.fromPickle(r.pickle().ciphertext(), ctx.pickleKey());
    ObjectNode plain = ExportedRoomKey.fromRecord(r, session).toJson();
    plain.remove("room_id");
    plain.remove("session_id");
    byte[] bytes = plain.toString().getBytes(StandardCharsets.UTF_8);
    EncryptedSessionData data = key.encrypt(bytes, ctx.config.random());
    java.util.Arrays.fill(bytes, (byte) 0);
    ObjectNode out = Context.object();
    out.put("first_message_index", r.firstKnownIndex());
    out.put("forwarded_count", 0);
    out.put("is_verified", r.authenticated());
    out.set("session_data", data.toJson());
    return out;
  }

  /** The upload arrived: its sessions are in the backup. */
  void onSent(String requestId, Changes changes) {
    if (inFlight == null || !inFlight.requestId().equals(requestId)) {
      return;
    }
    for (InboundGroupSessionRecord r : inFlightSessions) {
      changes.markInboundGroupSessionBackedUp(r.roomId(), r.senderKey(), r.sessionId());
    }
    inFlight = null;
    inFlightSessions = List.of();
  }

  /**
   * The upload failed for good. A backup that is gone or replaced ({@code M_NOT_FOUND}, {@code
   * M_WRONG_ROOM_KEYS_VERSION}) is disabled: the application must enable the new version, whose key
   * it has to trust first. Otherwise the batch is built again by a later call.
   */
  void onFailed(String requestId, JsonNode error, Changes changes) {
    if (inFlight == null || !inFlight.requestId().equals(requestId)) {
      return;
    }
    inFlight = null;
    inFlightSessions = List.of();
    String code = error == null ? "" : error.path("errcode").asText("");
    if (code.equals("M_NOT_FOUND") || code.equals("M_WRONG_ROOM_KEYS_VERSION")) {
      disable(changes);
    }
  }

  /**
   * Decrypts the keys of a {@code GET /room_keys/keys} response ({@code {"rooms": {room:
   * {"sessions": {session: KeyBackupData}}}}}) with {@code key}. Entries that do not decrypt or
   * parse are counted, not fatal.
   */
  static Restored decrypt(BackupDecryptionKey key, JsonNode response) {
    List<ExportedRoomKey> keys = new ArrayList<>();
    int failed = 0;
    JsonNode rooms = response == null ? null : response.get("rooms");
    if (rooms == null || !rooms.isObject()) {
      throw new IllegalArgumentException("a room_keys response needs a \"rooms\" object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> r = rooms.fields(); r.hasNext(); ) {
      Map.Entry<String, JsonNode> room = r.next();
      JsonNode sessions = room.getValue().path("sessions");
      for (Iterator<Map.Entry<String, JsonNode>> s = sessions.fields(); s.hasNext(); ) {
        Map.Entry<String, JsonNode> session = s.next();
        try {
          byte[] plain =
              key.decrypt(EncryptedSessionData.fromJson(session.getValue().get("session_data")));
          ObjectNode entry = Context.parseObject(new String(plain, StandardCharsets.UTF_8));
          java.util.Arrays.fill(plain, (byte) 0);
          entry.put("room_id", room.getKey());
          entry.put("session_id", session.getKey());
          keys.add(ExportedRoomKey.fromJson(entry));
        } catch (Mxe2eeException | IllegalArgumentException e) {
          failed++;
        }
      }
    }
    return new Restored(keys, failed);
  }

  /** Keys that decrypted, and how many entries did not. */
  record Restored(List<ExportedRoomKey> keys, int failed) {}
}
