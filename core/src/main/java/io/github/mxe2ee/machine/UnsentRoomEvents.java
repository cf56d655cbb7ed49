package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.Changes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;

/**
 * The ciphertexts of room events encrypted for a send with a transaction id and not yet
 * acknowledged by the homeserver: one transaction id has one ciphertext (Client-Server API, "PUT
 * /rooms/{roomId}/send/{eventType}/{txnId}": a repeated id is answered with the first event). A
 * send that is retried, even by a restarted process, sends the stored ciphertext again instead of
 * encrypting anew, so a message index never carries two ciphertexts for one event.
 *
 * <p>Persistence: a ciphertext is saved in the same step as the outbound session's index advance
 * that made it, under a key derived from (room id, transaction id), plus an index of the entries.
 * Both live in the store's small key-value map; no schema change.
 */
final class UnsentRoomEvents {
  /**
   * Entries kept at most; the oldest are dropped past it. A bot sends one event at a time per room
   * and removes each entry once its send is answered, so the entries are the sends cut short by a
   * crash or given up; 256 keeps the index under 20 KiB (one value of the key-value map).
   */
  static final int MAX_ENTRIES = 256;

  /**
   * Entries older than this are dropped: 24 hours, as long as Synapse remembers a transaction id
   * (past it a resend would make a second event, and receivers would reject its repeated index).
   */
  static final long MAX_AGE_MS = 24L * 60 * 60 * 1000;

  private static final String INDEX = "unsent.index";
  private static final String PREFIX = "unsent.";

  private final Context ctx;

  UnsentRoomEvents(Context ctx) {
    this.ctx = ctx;
  }

  /** The stored ciphertext for (room, txn id), if any and not expired. */
  Optional<ObjectNode> get(String roomId, String txnId) {
    String key = key(roomId, txnId);
    for (JsonNode e : index()) {
      if (key.equals(e.path("k").asText()) && ctx.now() - e.path("t").asLong() < MAX_AGE_MS) {
        return ctx.store
            .value(key)
            .map(b -> Context.parseObject(new String(b, StandardCharsets.UTF_8)))
            .filter(j -> roomId.equals(j.path("room_id").asText()))
            .filter(j -> txnId.equals(j.path("txn_id").asText()))
            .map(j -> (ObjectNode) j.get("content"));
      }
    }
    return Optional.empty();
  }

  /** Records the ciphertext of (room, txn id), dropping expired and surplus entries. */
  void put(String roomId, String txnId, ObjectNode encrypted, Changes changes) {
    String key = key(roomId, txnId);
    ArrayNode kept = Context.object().arrayNode();
    ArrayNode old = index();
    long now = ctx.now();
    int surplus = Math.max(0, old.size() + 1 - MAX_ENTRIES);
    for (JsonNode e : old) {
      String k = e.path("k").asText();
      if (k.equals(key)) {
        continue;
      }
      if (surplus > 0 || now - e.path("t").asLong() >= MAX_AGE_MS) {
        if (surplus > 0) {
          surplus--;
        }
        changes.deleteValue(k);
        continue;
      }
      kept.add(e);
    }
    kept.addObject().put("k", key).put("t", now);
    ObjectNode value = Context.object();
    value.put("room_id", roomId);
    value.put("txn_id", txnId);
    value.set("content", encrypted);
    changes.putValue(key, value.toString().getBytes(StandardCharsets.UTF_8));
    changes.putValue(INDEX, kept.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Forgets (room, txn id): its send was answered, or given up. */
  void remove(String roomId, String txnId, Changes changes) {
    String key = key(roomId, txnId);
    ArrayNode kept = Context.object().arrayNode();
    boolean found = false;
    for (JsonNode e : index()) {
      if (key.equals(e.path("k").asText())) {
        found = true;
      } else {
        kept.add(e);
      }
    }
    if (found) {
      changes.deleteValue(key);
      changes.putValue(INDEX, kept.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** How many entries are stored. */
  int size() {
    return index().size();
  }

  private ArrayNode index() {
    return ctx.store
        .value(INDEX)
        .map(b -> parseArray(new String(b, StandardCharsets.UTF_8)))
        .orElseGet(() -> Context.object().arrayNode());
  }

  private static ArrayNode parseArray(String json) {
    try {
      JsonNode n = io.github.mxe2ee.json.JsonLimits.MAPPER.readTree(json);
      return n instanceof ArrayNode a ? a : Context.object().arrayNode();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return Context.object().arrayNode();
    }
  }

  /** A fixed-length key: room ids and transaction ids are caller-chosen and may be long. */
  private static String key(String roomId, String txnId) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(roomId.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(txnId.getBytes(StandardCharsets.UTF_8));
      return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
