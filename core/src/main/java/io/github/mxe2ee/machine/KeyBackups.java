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
