package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The server-side key backup part of {@link InMemoryRouter}: per user, the current backup version
 * and its keys, with the spec's rule for which copy of a session to keep (end_to_end_encryption.md,
 * "Server-side key backups": verified over unverified, then the lower first index, then the lower
 * forwarded count). Not thread-safe: the router serializes calls.
 */
final class InMemoryKeyBackups {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** One user's backup: its version, auth data and keys by room and session. */
  private static final class Backup {
    final String version;
    final String algorithm;
    final ObjectNode authData;
    final Map<String, Map<String, ObjectNode>> keys = new TreeMap<>();

    Backup(String version, String algorithm, ObjectNode authData) {
      this.version = version;
      this.algorithm = algorithm;
      this.authData = authData;
    }
  }

  private final Map<String, Backup> backups = new HashMap<>();
  private int versions;

  /** {@code POST /room_keys/version}: a new current version for {@code userId}. */
  String createVersion(String userId, ObjectNode authData) {
    return createVersion(userId, "m.megolm_backup.v1.curve25519-aes-sha2", authData);
  }

  /** {@code POST /room_keys/version} with the algorithm given. */
  String createVersion(String userId, String algorithm, ObjectNode authData) {
    String version = Integer.toString(++versions);
    backups.put(userId, new Backup(version, algorithm, authData.deepCopy()));
    return version;
  }

  int versionsCreated() {
    return versions;
  }

  /** {@code GET /room_keys/version}: the current version, or 404 {@code M_NOT_FOUND}. */
  ObjectNode currentVersion(String userId) {
    Backup backup = backups.get(userId);
    if (backup == null) {
      throw new RouterException(404, "M_NOT_FOUND", "No backup found");
    }
    ObjectNode out = JSON.objectNode();
    out.put("algorithm", backup.algorithm);
    out.set("auth_data", backup.authData.deepCopy());
    out.put("count", count(backup));
    out.put("etag", Integer.toString(count(backup)));
    out.put("version", backup.version);
    return out;
  }

  /** {@code GET /room_keys/keys/{roomId}/{sessionId}?version=}: one KeyBackupData, or 404. */
  ObjectNode getSession(String userId, String version, String roomId, String sessionId) {
    ObjectNode data = current(userId, version).keys.getOrDefault(roomId, Map.of()).get(sessionId);
    if (data == null) {
      throw new RouterException(404, "M_NOT_FOUND", "No room_keys found");
    }
    return data.deepCopy();
  }

  /** {@code PUT /room_keys/keys?version=}: stores the keys, keeping the better copy of each. */
  ObjectNode put(String userId, String version, ObjectNode body) {
    Backup backup = current(userId, version);
    JsonNode rooms = body.path("rooms");
    if (!rooms.isObject()) {
      throw new RouterException(400, "M_BAD_JSON", "room_keys: rooms must be an object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> r = rooms.fields(); r.hasNext(); ) {
      Map.Entry<String, JsonNode> room = r.next();
      JsonNode sessions = room.getValue().path("sessions");
      for (Iterator<Map.Entry<String, JsonNode>> s = sessions.fields(); s.hasNext(); ) {
        Map.Entry<String, JsonNode> session = s.next();
        if (!session.getValue().isObject() || !session.getValue().has("session_data")) {
          throw new RouterException(400, "M_BAD_JSON", "room_keys: KeyBackupData expected");
        }
        ObjectNode offered = (ObjectNode) session.getValue().deepCopy();
        backup
            .keys
            .computeIfAbsent(room.getKey(), k -> new TreeMap<>())
            .merge(session.getKey(), offered, InMemoryKeyBackups::better);
      }
    }
    ObjectNode response = JSON.objectNode();
    response.put("etag", Integer.toString(count(backup)));
    response.put("count", count(backup));
    return response;
  }

  /** {@code GET /room_keys/keys?version=}: {@code {"rooms": {room: {"sessions": {...}}}}}. */
  ObjectNode get(String userId, String version) {
    Backup backup = current(userId, version);
    ObjectNode rooms = JSON.objectNode();
    backup.keys.forEach(
        (room, sessions) -> {
          ObjectNode s = rooms.putObject(room).putObject("sessions");
          sessions.forEach((id, data) -> s.set(id, data.deepCopy()));
        });
    ObjectNode response = JSON.objectNode();
    response.set("rooms", rooms);
    return response;
  }

  private Backup current(String userId, String version) {
    Backup backup = backups.get(userId);
    if (backup == null) {
      throw new RouterException(404, "M_NOT_FOUND", "no backup for " + userId);
    }
    if (!backup.version.equals(version)) {
      throw new RouterException(
          403, "M_WRONG_ROOM_KEYS_VERSION", "current version is " + backup.version);
    }
    return backup;
  }

  private static int count(Backup backup) {
    return backup.keys.values().stream().mapToInt(Map::size).sum();
  }

  /** The spec's choice between the stored copy and an offered one. */
  private static ObjectNode better(ObjectNode stored, ObjectNode offered) {
    boolean storedVerified = stored.path("is_verified").asBoolean(false);
    boolean offeredVerified = offered.path("is_verified").asBoolean(false);
    if (storedVerified != offeredVerified) {
      return storedVerified ? stored : offered;
    }
    long storedIndex = stored.path("first_message_index").asLong();
    long offeredIndex = offered.path("first_message_index").asLong();
    if (storedIndex != offeredIndex) {
      return storedIndex < offeredIndex ? stored : offered;
    }
    return stored.path("forwarded_count").asLong() <= offered.path("forwarded_count").asLong()
        ? stored
        : offered;
  }
}
