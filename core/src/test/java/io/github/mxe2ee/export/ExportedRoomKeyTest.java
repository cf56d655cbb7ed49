package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.export.ExportedRoomKeyException.Problem;
import io.github.mxe2ee.export.KeyExportDecodeException.Reason;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.store.EncryptedPickle;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link ExportedRoomKey}: the {@code ExportedSessionData} model, its JSON and per-entry checks.
 */
class ExportedRoomKeyTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  static final String ROOM = "!room:example.org";

  /** A fresh session from a new outbound session, with sender keys of a new device. */
  static ExportedRoomKey freshKey(String roomId, boolean sharedHistory) {
    OutboundGroupSession outbound = OutboundGroupSession.create(RANDOM);
    return ExportedRoomKey.fromSession(
        InboundGroupSession.fromSessionKey(outbound.sessionKey()),
        roomId,
        Curve25519SecretKey.generate(RANDOM).publicKey(),
        Ed25519SecretKey.generate(RANDOM).publicKey(),
        List.of(Curve25519SecretKey.generate(RANDOM).publicKey().toBase64()),
        sharedHistory);
  }

  private static final ObjectNode VALID = freshKey(ROOM, true).toJson();

  private static ObjectNode valid() {
    return VALID.deepCopy();
  }

  private static ExportedRoomKeyException rejected(JsonNode entry, Problem problem) {
    ExportedRoomKeyException e =
        assertThrows(ExportedRoomKeyException.class, () -> ExportedRoomKey.fromJson(entry));
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals("decode", e.kind());
    assertFalse(
        e.getMessage().contains(VALID.get("session_key").asText()), "no session key in message");
    return e;
  }

  private static void rejected(Consumer<ObjectNode> mutation, Problem problem) {
    ObjectNode entry = valid();
    mutation.accept(entry);
    rejected(entry, problem);
  }

  @Test
  void toJson_writesTheSpecFields() {
    ExportedRoomKey key = ExportedRoomKey.fromJson(VALID);
    ObjectNode json = key.toJson();
    List<String> names = new ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    assertEquals(
        Set.of(
            "algorithm",
            "forwarding_curve25519_key_chain",
            "room_id",
            "sender_key",
            "sender_claimed_keys",
            "session_id",
            "session_key",
            "shared_history",
            "m.shared_history"),
        Set.copyOf(names));
    assertEquals("m.megolm.v1.aes-sha2", json.get("algorithm").asText());
    assertEquals(ROOM, json.get("room_id").asText());
    assertTrue(json.get("shared_history").booleanValue());
    assertTrue(json.get("m.shared_history").booleanValue(), "the name matrix-rust-sdk reads");
    assertEquals(key.sessionId(), json.get("session_id").asText());
    byte[] sessionKey = UnpaddedBase64.decode(json.get("session_key").asText());
    assertEquals(165, sessionKey.length);
    assertEquals(1, sessionKey[0], "exported session key version 1");
    assertFalse(json.get("session_key").asText().endsWith("="), "unpadded");
    assertEquals(VALID, json, "fromJson(toJson(x)) keeps every field");
  }

  @Test
  void fromSession_exportsAtTheFirstKnownIndex() {
    OutboundGroupSession outbound = OutboundGroupSession.create(RANDOM);
    outbound.encrypt("zero");
    outbound.encrypt("one");
    InboundGroupSession inbound = InboundGroupSession.fromSessionKey(outbound.sessionKey());
    Curve25519PublicKey sender = Curve25519SecretKey.generate(RANDOM).publicKey();
    Ed25519PublicKey claimed = Ed25519SecretKey.generate(RANDOM).publicKey();
    ExportedRoomKey key =
        ExportedRoomKey.fromSession(inbound, ROOM, sender, claimed, List.of(), false);
    assertEquals(2, key.firstKnownIndex());
    assertEquals(outbound.sessionId(), key.sessionId());
    assertEquals(sender, key.senderKey());
    assertEquals(claimed, key.claimedEd25519Key());
    assertEquals(Map.of("ed25519", claimed.toBase64()), key.senderClaimedKeys());
    assertFalse(key.sharedHistory());
    assertEquals(ExportedRoomKey.MEGOLM_V1, key.algorithm());
  }

  @Test
  void fromRecord_takesTheRecordsMetadata() {
    OutboundGroupSession outbound = OutboundGroupSession.create(RANDOM);
    InboundGroupSession inbound = InboundGroupSession.fromSessionKey(outbound.sessionKey());
    String sender = Curve25519SecretKey.generate(RANDOM).publicKey().toBase64();
    String signing = Ed25519SecretKey.generate(RANDOM).publicKey().toBase64();
    InboundGroupSessionRecord record =
        new InboundGroupSessionRecord(
            ROOM, inbound.sessionId(), sender, signing, 0, true, false, new EncryptedPickle("x"));
    ExportedRoomKey key = ExportedRoomKey.fromRecord(record, inbound);
    assertEquals(ROOM, key.roomId());
    assertEquals(sender, key.senderKey().toBase64());
    assertEquals(signing, key.claimedEd25519Key().toBase64());
    assertTrue(key.sharedHistory());
    assertEquals(List.of(), key.forwardingCurve25519KeyChain());
    InboundGroupSession other =
        InboundGroupSession.fromSessionKey(OutboundGroupSession.create(RANDOM).sessionKey());
    assertThrows(IllegalArgumentException.class, () -> ExportedRoomKey.fromRecord(record, other));
  }

  @Test
  void of_refusesBadArguments() {
    ExportedRoomKey key = ExportedRoomKey.fromJson(VALID);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ExportedRoomKey.of(
                "", key.senderKey(), key.claimedEd25519Key(), List.of(), key.sessionKey(), false));
    assertThrows(
        NullPointerException.class,
        () ->
            ExportedRoomKey.of(
                ROOM, null, key.claimedEd25519Key(), List.of(), key.sessionKey(), false));
    List<String> withNull = new ArrayList<>();
    withNull.add(null);
    assertThrows(
        NullPointerException.class,
        () ->
            ExportedRoomKey.of(
                ROOM, key.senderKey(), key.claimedEd25519Key(), withNull, key.sessionKey(), false));
  }

  @Test
  void toString_showsIdsNotTheSessionKey() {
    ExportedRoomKey key = ExportedRoomKey.fromJson(VALID);
    String text = key.toString();
    assertTrue(text.contains(key.sessionId()) && text.contains(ROOM), text);
    assertFalse(text.contains(VALID.get("session_key").asText()), text);
  }

  @Test
  void fromJson_toleratesOptionalAndUnknownFields() {
    ObjectNode entry = valid();
    entry.remove("forwarding_curve25519_key_chain");
    entry.remove("shared_history");
    entry.remove("m.shared_history");
    entry.put("future_field", 42);
    entry.withObjectProperty("sender_claimed_keys").put("curve25519", "AAAA");
    ExportedRoomKey key = ExportedRoomKey.fromJson(entry);
    assertEquals(List.of(), key.forwardingCurve25519KeyChain());
    assertFalse(key.sharedHistory());
    assertEquals("AAAA", key.senderClaimedKeys().get("curve25519"));
    ObjectNode nulls = valid();
    nulls.putNull("forwarding_curve25519_key_chain");
    nulls.putNull("shared_history");
    nulls.putNull("m.shared_history");
    assertEquals(List.of(), ExportedRoomKey.fromJson(nulls).forwardingCurve25519KeyChain());
  }

  @Test
  void fromJson_readsEveryNameOfTheSharedHistoryFlag() {
    for (String name : ExportedRoomKey.SHARED_HISTORY_FIELDS) {
      ObjectNode entry = valid();
      ExportedRoomKey.SHARED_HISTORY_FIELDS.forEach(entry::remove);
      assertFalse(ExportedRoomKey.fromJson(entry).sharedHistory(), "absent means false");
      entry.put(name, true);
      assertTrue(ExportedRoomKey.fromJson(entry).sharedHistory(), name);
      entry.put(name, "yes");
      rejected(entry, Problem.INVALID_FIELD);
    }
    ObjectNode conflicting = valid();
    conflicting.put("shared_history", false);
    conflicting.put("m.shared_history", true);
    conflicting.put("org.matrix.msc3061.shared_history", true);
    assertFalse(ExportedRoomKey.fromJson(conflicting).sharedHistory(), "the spec's name wins");
  }

  @Test
  void fromJson_rejectsNonObjects() {
    rejected(JsonNodeFactory.instance.arrayNode(), Problem.NOT_AN_OBJECT);
    rejected(JsonNodeFactory.instance.textNode("x"), Problem.NOT_AN_OBJECT);
    rejected(JsonNodeFactory.instance.nullNode(), Problem.NOT_AN_OBJECT);
  }

  @Test
  void fromJson_skipsOtherAlgorithmsWithAReason() {
    ExportedRoomKeyException e =
        rejected(valid().put("algorithm", "m.megolm.v2.aes-sha2"), Problem.UNSUPPORTED_ALGORITHM);
    assertTrue(e.getMessage().contains("m.megolm.v2.aes-sha2"), e.getMessage());
    ExportedRoomKeyException longName =
        rejected(valid().put("algorithm", "x".repeat(10_000)), Problem.UNSUPPORTED_ALGORITHM);
    assertTrue(longName.getMessage().length() < 200, "a long name is cut");
    rejected(e2 -> e2.remove("algorithm"), Problem.MISSING_FIELD);
    rejected(e2 -> e2.put("algorithm", 1), Problem.INVALID_FIELD);
  }

  @Test
  void fromJson_rejectsBadRoomAndSessionIds() {
    rejected(e -> e.remove("room_id"), Problem.MISSING_FIELD);
    rejected(e -> e.putNull("room_id"), Problem.MISSING_FIELD);
    rejected(e -> e.put("room_id", 7), Problem.INVALID_FIELD);
    rejected(e -> e.put("room_id", ""), Problem.INVALID_FIELD);
    rejected(e -> e.remove("session_id"), Problem.MISSING_FIELD);
    rejected(e -> e.set("session_id", JsonNodeFactory.instance.arrayNode()), Problem.INVALID_FIELD);
    String otherId = OutboundGroupSession.create(RANDOM).sessionId();
    rejected(e -> e.put("session_id", otherId), Problem.SESSION_ID_MISMATCH);
  }

  @Test
  void fromJson_rejectsBadSenderKeys() {
    rejected(e -> e.remove("sender_key"), Problem.MISSING_FIELD);
    rejected(e -> e.put("sender_key", "not base64!"), Problem.INVALID_FIELD);
    rejected(e -> e.put("sender_key", UnpaddedBase64.encode(new byte[31])), Problem.INVALID_FIELD);
    rejected(e -> e.remove("sender_claimed_keys"), Problem.MISSING_FIELD);
    rejected(e -> e.put("sender_claimed_keys", "ed25519"), Problem.INVALID_FIELD);
    rejected(
        e -> e.withObjectProperty("sender_claimed_keys").remove("ed25519"), Problem.MISSING_FIELD);
    rejected(
        e -> e.withObjectProperty("sender_claimed_keys").put("ed25519", 5), Problem.INVALID_FIELD);
    rejected(
        e ->
            e.withObjectProperty("sender_claimed_keys")
                .put("ed25519", UnpaddedBase64.encode(new byte[33])),
        Problem.INVALID_FIELD);
    rejected(
        e -> e.withObjectProperty("sender_claimed_keys").put("curve25519", true),
        Problem.INVALID_FIELD);
  }

  @Test
  void fromJson_rejectsBadForwardingChainsAndFlags() {
    rejected(e -> e.put("forwarding_curve25519_key_chain", "abc"), Problem.INVALID_FIELD);
    rejected(
        e -> e.withArrayProperty("forwarding_curve25519_key_chain").add(3), Problem.INVALID_FIELD);
    rejected(e -> e.put("shared_history", "true"), Problem.INVALID_FIELD);
    rejected(e -> e.put("shared_history", 1), Problem.INVALID_FIELD);
  }

  @Test
  void fromJson_rejectsBadSessionKeys() {
    byte[] good = UnpaddedBase64.decode(VALID.get("session_key").asText());
    rejected(e -> e.remove("session_key"), Problem.MISSING_FIELD);
    rejected(e -> e.put("session_key", 12), Problem.INVALID_FIELD);
    rejected(e -> e.put("session_key", "@@@@"), Problem.INVALID_SESSION_KEY);
    rejected(e -> e.put("session_key", ""), Problem.INVALID_SESSION_KEY);
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    rejected(
        e -> e.put("session_key", UnpaddedBase64.encode(truncated)), Problem.INVALID_SESSION_KEY);
    byte[] v2 = good.clone();
    v2[0] = 2;
    rejected(e -> e.put("session_key", UnpaddedBase64.encode(v2)), Problem.INVALID_SESSION_KEY);
    String sharingKey = OutboundGroupSession.create(RANDOM).sessionKey().toBase64();
    rejected(e -> e.put("session_key", sharingKey), Problem.INVALID_SESSION_KEY);
  }

  @Test
  void parseList_importsTheGoodEntriesAndReportsTheBadOnes() {
    List<ExportedRoomKey> distinct = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      distinct.add(freshKey("!room" + i + ":example.org", i % 2 == 0));
    }
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    for (int i = 0; i < 10_000; i++) {
      array.add(distinct.get(i % 10).toJson());
    }
    ((ObjectNode) array.get(17)).put("session_key", "AQ");
    ((ObjectNode) array.get(4_242)).put("algorithm", "m.megolm.v2.aes-sha2");
    array.set(9_999, JsonNodeFactory.instance.numberNode(3));
    RoomKeyParseResult result = ExportedRoomKey.parseList(array);
    assertEquals(10_000, result.total());
    assertEquals(9_997, result.keys().size());
    assertEquals(3, result.rejected().size());
    RoomKeyParseResult.Rejected first = result.rejected().get(0);
    assertEquals(17, first.index());
    assertEquals(Problem.INVALID_SESSION_KEY, first.problem());
    assertEquals("!room7:example.org", first.roomId());
    assertEquals(distinct.get(7).sessionId(), first.sessionId());
    assertEquals(4_242, result.rejected().get(1).index());
    assertTrue(result.rejected().get(1).unsupportedAlgorithm());
    assertEquals(9_999, result.rejected().get(2).index());
    assertEquals(Problem.NOT_AN_OBJECT, result.rejected().get(2).problem());
    assertNull(result.rejected().get(2).roomId());
    assertEquals(distinct.get(8).sessionId(), result.keys().get(17).sessionId(), "order kept");
  }

  @Test
  void parseList_acceptsAnEmptyArray() {
    RoomKeyParseResult result = ExportedRoomKey.parseList("[]".getBytes(StandardCharsets.UTF_8));
    assertEquals(0, result.total());
  }

  @Test
  void parseList_rejectsPayloadsThatAreNotAnArrayWithoutQuotingThem() {
    String secret = VALID.get("session_key").asText();
    List<String> payloads =
        List.of(
            "",
            "   ",
            "{}",
            "\"" + secret + "\"",
            "[{\"session_key\":\"" + secret + "\"} " + secret + "]",
            "[" + VALID + "] " + secret,
            "[" + VALID + "] []",
            "[{\"session_key\":\"" + secret,
            secret);
    for (String payload : payloads) {
      KeyExportDecodeException e =
          assertThrows(
              KeyExportDecodeException.class,
              () -> ExportedRoomKey.parseList(payload.getBytes(StandardCharsets.UTF_8)),
              payload.length() + " chars");
      assertEquals(Reason.PAYLOAD, e.reason());
      assertFalse(e.getMessage().contains(secret.substring(0, 10)), e.getMessage());
      assertNull(e.getCause(), "the parser's message may quote the payload");
    }
  }

  @Test
  void toJsonArray_parsesBack() throws Exception {
    List<ExportedRoomKey> keys = List.of(freshKey(ROOM, false), freshKey("!b:example.org", true));
    byte[] json = ExportedRoomKey.toJsonArray(keys);
    JsonNode tree = MAPPER.readTree(json);
    assertEquals(2, tree.size());
    RoomKeyParseResult result = ExportedRoomKey.parseList(json);
    assertEquals(List.of(), result.rejected());
    for (int i = 0; i < keys.size(); i++) {
      assertEquals(keys.get(i).toJson(), result.keys().get(i).toJson());
    }
  }
}
