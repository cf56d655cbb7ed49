package io.github.mxe2ee.export;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.export.ExportedRoomKeyException.Problem;
import io.github.mxe2ee.export.KeyExportDecodeException.Reason;
import io.github.mxe2ee.megolm.ExportedSessionKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One session of a key export: the spec's {@code ExportedSessionData}, an unsigned Megolm session
 * key (export format, version 1) with the room and sender it belongs to.
 *
 * <pre>
 * {
 *   "algorithm": "m.megolm.v1.aes-sha2",
 *   "room_id": "!room:example.org",
 *   "sender_key": "&lt;Curve25519 key of the sending device, unpadded base64&gt;",
 *   "sender_claimed_keys": {"ed25519": "&lt;its Ed25519 key&gt;"},
 *   "forwarding_curve25519_key_chain": ["&lt;Curve25519 key&gt;", ...],
 *   "session_id": "&lt;Megolm session id&gt;",
 *   "session_key": "&lt;ExportedSessionKey, unpadded base64&gt;",
 *   "shared_history": false,
 *   "m.shared_history": false
 * }
 * </pre>
 *
 * <p>Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key export
 * format" (whose fields are those of {@code BackedUpSessionData} in {@code
 * data/api/client-server/definitions/key_backup_session_data.yaml} plus {@code room_id} and {@code
 * session_id}), and {@code content/olm-megolm/megolm.md}, "Session export format".
 *
 * <p>Parsing is strict where a mistake would import the wrong thing and lenient where clients
 * differ: {@code algorithm} must be {@value #MEGOLM_V1} (any other algorithm is reported as {@link
 * Problem#UNSUPPORTED_ALGORITHM} and skipped, not imported and not fatal to the file); {@code
 * session_key} must decode as a version 1 exported session key whose session id equals {@code
 * session_id}; {@code sender_key} must be a Curve25519 key and {@code sender_claimed_keys.ed25519}
 * an Ed25519 key; {@code room_id} must be a non-empty string. {@code
 * forwarding_curve25519_key_chain} (required by the spec, absent in some older exports) defaults to
 * empty, and {@code shared_history} (added in Matrix 1.19; also read as {@code m.shared_history}
 * and {@code org.matrix.msc3061.shared_history}, see {@link #SHARED_HISTORY_FIELDS}) to false.
 * Unknown fields are ignored.
 *
 * <p>Trust: an exported key is unsigned, so a session imported from a file is not verified ({@link
 * InboundGroupSession#isSigningKeyVerified()} is false); the sender fields are claims of whoever
 * made the file.
 *
 * <p>Contract: immutable and thread-safe; factory arguments must not be null. Holds a secret
 * session key: {@link #toString()} shows identifiers only, and there is no {@code equals} or {@code
 * hashCode}. {@link #toJson()} returns the secret in a JSON string, which the JVM cannot wipe; keep
 * such trees short-lived.
 */
public final class ExportedRoomKey {
  /** The only algorithm this class imports: Megolm with AES-256-CBC and HMAC-SHA-256. */
  public static final String MEGOLM_V1 = "m.megolm.v1.aes-sha2";

  /** Key of the Ed25519 entry in {@code sender_claimed_keys}. */
  public static final String ED25519 = "ed25519";

  /**
   * Names of the {@code shared_history} flag, in order of precedence when several are present: the
   * spec's (Matrix 1.19, {@code BackedUpSessionData} and {@code ExportedSessionData}), the one
   * matrix-rust-sdk writes and reads (its 0.19 serializer emits {@code m.shared_history} and
   * ignores {@code shared_history}), and the MSC3061 unstable name older clients wrote. {@link
   * #toJson()} writes the first two so that both the spec and matrix-rust-sdk (Element) see it.
   */
  public static final List<String> SHARED_HISTORY_FIELDS =
      List.of("shared_history", "m.shared_history", "org.matrix.msc3061.shared_history");

  /** Longest algorithm name echoed in an error message; longer ones are cut. */
  private static final int MAX_ECHOED_ALGORITHM = 64;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final String roomId;
  private final Curve25519PublicKey senderKey;
  private final Ed25519PublicKey claimedEd25519Key;
  private final Map<String, String> senderClaimedKeys;
  private final List<String> forwardingCurve25519KeyChain;
  private final ExportedSessionKey sessionKey;
  private final boolean sharedHistory;

  private ExportedRoomKey(
      String roomId,
      Curve25519PublicKey senderKey,
      Ed25519PublicKey claimedEd25519Key,
      Map<String, String> senderClaimedKeys,
      List<String> forwardingCurve25519KeyChain,
      ExportedSessionKey sessionKey,
      boolean sharedHistory) {
    this.roomId = roomId;
    this.senderKey = senderKey;
    this.claimedEd25519Key = claimedEd25519Key;
    this.senderClaimedKeys = senderClaimedKeys;
    this.forwardingCurve25519KeyChain = forwardingCurve25519KeyChain;
    this.sessionKey = sessionKey;
    this.sharedHistory = sharedHistory;
  }

  /**
   * Creates an entry from its parts.
   *
   * @param roomId the room the session belongs to, non-empty
   * @param senderKey Curve25519 key of the device that created the session
   * @param claimedEd25519Key Ed25519 key that device claimed
   * @param forwardingCurve25519KeyChain Curve25519 keys the session was forwarded through, oldest
   *     first (copied; no null elements)
   * @param sessionKey the exported session key
   * @param sharedHistory whether the session may be shared with future room members
   * @throws IllegalArgumentException if {@code roomId} is empty
   */
  public static ExportedRoomKey of(
      String roomId,
      Curve25519PublicKey senderKey,
      Ed25519PublicKey claimedEd25519Key,
      List<String> forwardingCurve25519KeyChain,
      ExportedSessionKey sessionKey,
      boolean sharedHistory) {
    Objects.requireNonNull(roomId, "roomId");
    if (roomId.isEmpty()) {
      throw new IllegalArgumentException("roomId must not be empty");
    }
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(claimedEd25519Key, "claimedEd25519Key");
    Objects.requireNonNull(sessionKey, "sessionKey");
    return new ExportedRoomKey(
        roomId,
        senderKey,
        claimedEd25519Key,
        Map.of(ED25519, claimedEd25519Key.toBase64()),
        List.copyOf(forwardingCurve25519KeyChain),
        sessionKey,
        sharedHistory);
  }

  /**
   * Exports {@code session} at its first known index, so the importer can decrypt everything the
   * exporter could.
   *
   * @see #of
   */
  public static ExportedRoomKey fromSession(
      InboundGroupSession session,
      String roomId,
      Curve25519PublicKey senderKey,
      Ed25519PublicKey claimedEd25519Key,
      List<String> forwardingCurve25519KeyChain,
      boolean sharedHistory) {
    return of(
        roomId,
        senderKey,
        claimedEd25519Key,
        forwardingCurve25519KeyChain,
        session.exportAtFirstKnownIndex(),
        sharedHistory);
  }

  /**
   * Exports a stored session at its first known index, with the room, sender keys and {@code
   * shared_history} flag of its store record. The store keeps no forwarding chain, so the chain is
   * empty.
   *
   * @param record the session's store record
   * @param session the session unpickled from {@code record}
   * @throws IllegalArgumentException if the record and session have different session ids
   * @throws DecodeException if the record's sender or signing key is not a valid key
   */
  public static ExportedRoomKey fromRecord(
      InboundGroupSessionRecord record, InboundGroupSession session) {
    if (!record.sessionId().equals(session.sessionId())) {
      throw new IllegalArgumentException(
          "record is for session "
              + record.sessionId()
              + " but the session is "
              + session.sessionId());
    }
    return fromSession(
        session,
        record.roomId(),
        Curve25519PublicKey.fromBase64(record.senderKey()),
        Ed25519PublicKey.fromBase64(record.signingKey()),
        List.of(),
        record.sharedHistory());
  }

  /**
   * Parses one {@code ExportedSessionData} object.
   *
   * @throws ExportedRoomKeyException if the entry cannot be imported; {@link
   *     ExportedRoomKeyException#problem()} says why
   */
  public static ExportedRoomKey fromJson(JsonNode entry) {
    Objects.requireNonNull(entry, "entry");
    if (!entry.isObject()) {
      throw new ExportedRoomKeyException(
          Problem.NOT_AN_OBJECT, "entry: expected a JSON object but found " + entry.getNodeType());
    }
    String algorithm = requiredText(entry, "algorithm");
    if (!MEGOLM_V1.equals(algorithm)) {
      String shown =
          algorithm.length() > MAX_ECHOED_ALGORITHM
              ? algorithm.substring(0, MAX_ECHOED_ALGORITHM) + "..."
              : algorithm;
      throw new ExportedRoomKeyException(
          Problem.UNSUPPORTED_ALGORITHM,
          "algorithm: expected " + MEGOLM_V1 + " but found '" + shown + "'");
    }
    String roomId = requiredText(entry, "room_id");
    if (roomId.isEmpty()) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD, "room_id: expected a non-empty string but found an empty one");
    }
    String sessionId = requiredText(entry, "session_id");
    Curve25519PublicKey senderKey = curve25519(requiredText(entry, "sender_key"), "sender_key");
    Map<String, String> claimed = claimedKeys(entry);
    String claimedEd25519 = claimed.get(ED25519);
    if (claimedEd25519 == null) {
      throw new ExportedRoomKeyException(
          Problem.MISSING_FIELD, "sender_claimed_keys: expected an 'ed25519' entry but found none");
    }
    Ed25519PublicKey claimedEd25519Key;
    try {
      claimedEd25519Key = Ed25519PublicKey.fromBase64(claimedEd25519);
    } catch (DecodeException e) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD,
          "sender_claimed_keys.ed25519: expected an Ed25519 key: " + e.getMessage(),
          e);
    }
    List<String> chain = forwardingChain(entry);
    boolean sharedHistory = sharedHistory(entry);
    ExportedSessionKey sessionKey;
    try {
      sessionKey = ExportedSessionKey.fromBase64(requiredText(entry, "session_key"));
    } catch (ExportedRoomKeyException e) {
      throw e;
    } catch (DecodeException e) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_SESSION_KEY, "session_key: " + e.getMessage(), e);
    }
    if (!sessionKey.sessionId().equals(sessionId)) {
      throw new ExportedRoomKeyException(
          Problem.SESSION_ID_MISMATCH,
          "session_id: expected the id of the session key, "
              + sessionKey.sessionId()
              + ", but found a different id");
    }
    return new ExportedRoomKey(
        roomId, senderKey, claimedEd25519Key, claimed, chain, sessionKey, sharedHistory);
  }

  /**
   * Parses a decrypted key export payload: a UTF-8 JSON array of {@code ExportedSessionData}
   * objects. Entries that cannot be imported are reported, not thrown.
   *
   * @param json the payload; not retained or modified
   * @throws KeyExportDecodeException with {@link Reason#PAYLOAD} if the payload is not a JSON array
   *     (the message gives the line and column, never the content)
   */
  public static RoomKeyParseResult parseList(byte[] json) {
    Objects.requireNonNull(json, "json");
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      JsonLocation where = e.getLocation();
      String at =
          where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
      // The parser's own message may quote the payload, which holds session keys: not chained.
      throw new KeyExportDecodeException(
          Reason.PAYLOAD, "key export payload: expected JSON but parsing failed" + at);
    } catch (IOException e) {
      throw new KeyExportDecodeException(
          Reason.PAYLOAD, "key export payload: expected JSON but it could not be read");
    }
    if (root == null || !root.isArray()) {
      throw new KeyExportDecodeException(
          Reason.PAYLOAD,
          "key export payload: expected a JSON array but found "
              + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType()));
    }
    return parseList((ArrayNode) root);
  }

  /**
   * Parses each element of {@code entries}; see {@link #parseList(byte[])}.
   *
   * @param entries the JSON array
   */
  public static RoomKeyParseResult parseList(ArrayNode entries) {
    List<ExportedRoomKey> keys = new ArrayList<>(entries.size());
    List<RoomKeyParseResult.Rejected> rejected = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      try {
        keys.add(fromJson(entry));
      } catch (ExportedRoomKeyException e) {
        rejected.add(
            new RoomKeyParseResult.Rejected(
                i,
                textOrNull(entry, "room_id"),
                textOrNull(entry, "session_id"),
                e.problem(),
                e.getMessage()));
      }
    }
    return new RoomKeyParseResult(keys, rejected);
  }

  /**
   * Serializes {@code keys} as the UTF-8 JSON array a key export encrypts.
   *
   * @return a new array holding secret material: wipe it when done
   */
  public static byte[] toJsonArray(List<ExportedRoomKey> keys) {
    ArrayNode array = JsonNodeFactory.instance.arrayNode(keys.size());
    for (ExportedRoomKey key : keys) {
      array.add(key.toJson());
    }
    try {
      return MAPPER.writeValueAsBytes(array);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree could not be serialized", e);
    }
  }

  /** This entry as an {@code ExportedSessionData} object (holding the secret session key). */
  public ObjectNode toJson() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("algorithm", MEGOLM_V1);
    ArrayNode chain = out.putArray("forwarding_curve25519_key_chain");
    forwardingCurve25519KeyChain.forEach(chain::add);
    out.put("room_id", roomId);
    out.put("sender_key", senderKey.toBase64());
    ObjectNode claimed = out.putObject("sender_claimed_keys");
    senderClaimedKeys.forEach(claimed::put);
    out.put("session_id", sessionId());
    out.put("session_key", sessionKey.toBase64());
    writeSharedHistory(out, sharedHistory);
    return out;
  }

  /**
   * Writes the {@code shared_history} flag into any JSON object that carries it ({@code m.room_key}
   * and {@code m.forwarded_room_key} contents, {@code ExportedSessionData}, {@code
   * BackedUpSessionData}): under the spec's name and under {@code m.shared_history}, the name
   * matrix-rust-sdk writes and reads. Never under the MSC3061 name too: matrix-rust-sdk takes that
   * one as an alias of {@code m.shared_history}, and serde refuses an object holding a field and
   * its alias together, which would make it drop the whole room key.
   */
  public static void writeSharedHistory(ObjectNode out, boolean sharedHistory) {
    out.put(SHARED_HISTORY_FIELDS.get(0), sharedHistory);
    out.put(SHARED_HISTORY_FIELDS.get(1), sharedHistory);
  }

  /**
   * Reads the {@code shared_history} flag of a to-device content ({@code m.room_key}, {@code
   * m.forwarded_room_key}) under any of {@link #SHARED_HISTORY_FIELDS}, the first boolean one in
   * that order; absent or non-boolean everywhere reads as false (MSC4268: "an absent or non-boolean
   * shared_history property is treated the same as false").
   */
  public static boolean readSharedHistory(JsonNode content) {
    if (content == null || !content.isObject()) {
      return false;
    }
    for (String name : SHARED_HISTORY_FIELDS) {
      JsonNode node = content.get(name);
      if (node != null && node.isBoolean()) {
        return node.booleanValue();
      }
    }
    return false;
  }

  /**
   * Creates an inbound session from the exported key. It is not verified (see the class comment);
   * store it with {@link #roomId()}, {@link #senderKey()} and {@link #claimedEd25519Key()}.
   */
  public InboundGroupSession toInboundGroupSession() {
    return InboundGroupSession.fromExportedSessionKey(sessionKey);
  }

  /** Always {@value #MEGOLM_V1}. */
  public String algorithm() {
    return MEGOLM_V1;
  }

  /** The room the session belongs to. */
  public String roomId() {
    return roomId;
  }

  /** The Megolm session id (the session's Ed25519 key, unpadded base64). */
  public String sessionId() {
    return sessionKey.sessionId();
  }

  /** Curve25519 key of the device that created the session, as the exporter recorded it. */
  public Curve25519PublicKey senderKey() {
    return senderKey;
  }

  /** Ed25519 key that the sending device claimed. */
  public Ed25519PublicKey claimedEd25519Key() {
    return claimedEd25519Key;
  }

  /** All of {@code sender_claimed_keys}, unmodifiable, including {@value #ED25519}. */
  public Map<String, String> senderClaimedKeys() {
    return senderClaimedKeys;
  }

  /** Curve25519 keys the session was forwarded through, unmodifiable, possibly empty. */
  public List<String> forwardingCurve25519KeyChain() {
    return forwardingCurve25519KeyChain;
  }

  /** The exported session key (secret). */
  public ExportedSessionKey sessionKey() {
    return sessionKey;
  }

  /** The first message index the key can decrypt. */
  public long firstKnownIndex() {
    return sessionKey.messageIndex();
  }

  /** Whether the session may be shared with future room members (Matrix 1.19). */
  public boolean sharedHistory() {
    return sharedHistory;
  }

  @Override
  public String toString() {
    return "ExportedRoomKey[roomId="
        + roomId
        + ", sessionId="
        + sessionId()
        + ", firstKnownIndex="
        + firstKnownIndex()
        + ", senderKey="
        + senderKey
        + "]";
  }

  private static String requiredText(JsonNode entry, String field) {
    JsonNode value = entry.get(field);
    if (value == null || value.isNull()) {
      throw new ExportedRoomKeyException(
          Problem.MISSING_FIELD, field + ": expected a string but found none");
    }
    if (!value.isTextual()) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD, field + ": expected a string but found " + value.getNodeType());
    }
    return value.textValue();
  }

  private static String textOrNull(JsonNode entry, String field) {
    JsonNode value = entry == null ? null : entry.get(field);
    return value != null && value.isTextual() ? value.textValue() : null;
  }

  private static Curve25519PublicKey curve25519(String base64, String field) {
    try {
      return Curve25519PublicKey.fromBase64(base64);
    } catch (DecodeException e) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD, field + ": expected a Curve25519 key: " + e.getMessage(), e);
    }
  }

  private static Map<String, String> claimedKeys(JsonNode entry) {
    JsonNode node = entry.get("sender_claimed_keys");
    if (node == null || node.isNull()) {
      throw new ExportedRoomKeyException(
          Problem.MISSING_FIELD, "sender_claimed_keys: expected an object but found none");
    }
    if (!node.isObject()) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD,
          "sender_claimed_keys: expected an object but found " + node.getNodeType());
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!field.getValue().isTextual()) {
        throw new ExportedRoomKeyException(
            Problem.INVALID_FIELD,
            "sender_claimed_keys: expected string values but found "
                + field.getValue().getNodeType());
      }
      out.put(field.getKey(), field.getValue().textValue());
    }
    return Collections.unmodifiableMap(out);
  }

  private static List<String> forwardingChain(JsonNode entry) {
    JsonNode node = entry.get("forwarding_curve25519_key_chain");
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new ExportedRoomKeyException(
          Problem.INVALID_FIELD,
          "forwarding_curve25519_key_chain: expected an array but found " + node.getNodeType());
    }
    List<String> out = new ArrayList<>(node.size());
    for (JsonNode key : node) {
      if (!key.isTextual()) {
        throw new ExportedRoomKeyException(
            Problem.INVALID_FIELD,
            "forwarding_curve25519_key_chain: expected strings but found " + key.getNodeType());
      }
      out.add(key.textValue());
    }
    return List.copyOf(out);
  }

  private static boolean sharedHistory(JsonNode entry) {
    Boolean found = null;
    for (String name : SHARED_HISTORY_FIELDS) {
      JsonNode node = entry.get(name);
      if (node == null || node.isNull()) {
        continue;
      }
      if (!node.isBoolean()) {
        throw new ExportedRoomKeyException(
            Problem.INVALID_FIELD, name + ": expected a boolean but found " + node.getNodeType());
      }
      if (found == null) {
        found = node.booleanValue();
      }
    }
    return found != null && found;
  }
}
