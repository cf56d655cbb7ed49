package io.github.mxe2ee.interop;

import static io.github.mxe2ee.interop.Json.args;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.interop.Peers.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every peer driver follows the framing and error rules of docs/interop-protocol.md: ids echoed,
 * typed errors for malformed requests, unknown ops and unknown handles, serving on after errors,
 * and a clean exit on {@code quit} and on end of input.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PeerProtocolTest {

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void malformedRequests_getTypedErrorsAndThePeerKeepsServing(Kind kind) {
    PeerProcess peer = Peers.get(kind, 0);
    JsonNode notJson = peer.rawCall("{not json");
    assertTrue(notJson.get("id").isNull(), "id of an unparseable request: " + notJson);
    assertEquals("bad_request", notJson.get("error").get("kind").asText(), notJson.toString());

    JsonNode notObject = peer.rawCall("[1,2]");
    assertEquals("bad_request", notObject.get("error").get("kind").asText(), notObject.toString());

    JsonNode stringId = peer.rawCall("{\"id\":\"abc\",\"op\":\"no.such.op\"}");
    assertEquals("abc", stringId.get("id").asText(), "ids are echoed verbatim");
    assertEquals("unknown_op", stringId.get("error").get("kind").asText());

    assertEquals("bad_request", peer.error("free", null).get("kind").asText(), "missing argument");
    assertEquals(
        "bad_request",
        peer.error("free", args("handle", 7)).get("kind").asText(),
        "ill-typed argument");
    assertEquals(
        "unknown_handle",
        peer.error("free", args("handle", "account-999999")).get("kind").asText());

    JsonNode info = peer.ok("info", null);
    assertEquals(kind.id, info.get("name").asText());
    assertTrue(info.get("ops").isArray());
  }

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void handlesOfTheWrongKind_andForeignPickleFormats_areRefused(Kind kind) {
    PeerProcess peer = Peers.get(kind, 0);
    Peers.requireOps(kind, peer, List.of("account.create", "session.encrypt", "unpickle", "free"));
    String account = peer.ok("account.create", null).get("account").asText();
    JsonNode wrongKind = peer.error("session.encrypt", args("session", account, "plaintext", "x"));
    assertEquals("unknown_handle", wrongKind.get("kind").asText(), wrongKind.toString());

    String foreign = kind == Kind.MXE2EE ? "vodozemac" : "mxe2ee";
    JsonNode unsupported =
        peer.error(
            "unpickle",
            args(
                "kind",
                "account",
                "pickle",
                "AAAA",
                "key",
                Json.encode(new byte[32]),
                "format",
                foreign));
    assertEquals("unsupported", unsupported.get("kind").asText(), unsupported.toString());
    JsonNode badFormat =
        peer.error(
            "unpickle",
            args(
                "kind",
                "account",
                "pickle",
                "AAAA",
                "key",
                Json.encode(new byte[32]),
                "format",
                "olm9"));
    assertEquals("bad_request", badFormat.get("kind").asText(), badFormat.toString());

    peer.ok("free", args("handle", account));
    assertEquals(
        "unknown_handle", peer.error("free", args("handle", account)).get("kind").asText());
  }

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void malformedCryptoInput_isADecodeErrorOnEveryPeer(Kind kind) {
    PeerProcess peer = Peers.get(kind, 0);
    Peers.requireOps(kind, peer, OlmInteropTest.OLM_OPS);
    Peers.requireOps(kind, peer, MegolmInteropTest.MEGOLM_OPS);
    OlmInteropTest.Party alice = OlmInteropTest.Party.create(peer);
    OlmInteropTest.Party bob = OlmInteropTest.Party.create(peer);
    String otk = bob.publishOneTimeKey();
    OlmInteropTest.Channel c = OlmInteropTest.open(alice, bob, otk, "hi");
    String body = c.alice().encrypt("x").get("body").asText();
    MegolmInteropTest.Outbound out = MegolmInteropTest.Outbound.create(peer);
    String ciphertext = out.encrypt(List.of("y")).get(0);
    String session = c.bob().session();

    Map<String, JsonNode> errors = new LinkedHashMap<>();
    errors.put(
        "3-byte identity key",
        peer.error(
            "session.create_outbound",
            args("account", alice.account(), "identity_key", "AAAA", "one_time_key", otk)));
    errors.put(
        "invalid base64 body",
        peer.error(
            "session.decrypt", args("session", session, "message", Json.olmMessage(0, "!!"))));
    errors.put(
        "truncated pre-key message",
        peer.error(
            "session.decrypt",
            args("session", session, "message", Json.olmMessage(0, truncate(body, 12)))));
    errors.put(
        "truncated Megolm message",
        peer.error(
            "group.decrypt",
            args(
                "group",
                MegolmInteropTest.Inbound.fromSessionKey(peer, out.sessionKey()).group(),
                "ciphertext",
                truncate(ciphertext, 10))));
    errors.put(
        "3-byte session key", peer.error("group.create_inbound", args("session_key", "AAAA")));
    errors.put(
        "3-byte exported key", peer.error("group.import_exported", args("exported_key", "AAAA")));
    errors.forEach(
        (what, error) -> assertEquals("decode", error.get("kind").asText(), what + ": " + error));
    assertEquals("still", c.bob().decrypt(c.alice().encrypt("still")), "the session survived");
  }

  /** The error kinds docs/interop-protocol.md defines ({@code internal} excluded: a bug). */
  static final Set<String> DOCUMENTED_KINDS =
      Set.of(
          "bad_request",
          "unknown_op",
          "unknown_handle",
          "unsupported",
          "decode",
          "crypto",
          "unknown_index",
          "missing_message_key",
          "too_big_gap",
          "missing_one_time_key");

  /** Requests in the random-request test, per peer. */
  static final int RANDOM_REQUESTS = 300;

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void randomRequests_alwaysGetWellFormedRepliesWithDocumentedKinds(Kind kind) {
    PeerProcess peer = Peers.get(kind, 0);
    Peers.requireOps(kind, peer, OlmInteropTest.OLM_OPS);
    Peers.requireOps(kind, peer, MegolmInteropTest.MEGOLM_OPS);
    OlmInteropTest.Party alice = OlmInteropTest.Party.create(peer);
    OlmInteropTest.Party bob = OlmInteropTest.Party.create(peer);
    OlmInteropTest.Channel c = OlmInteropTest.open(alice, bob, bob.publishOneTimeKey(), "hi");
    MegolmInteropTest.Outbound out = MegolmInteropTest.Outbound.create(peer);
    String inbound = MegolmInteropTest.Inbound.fromSessionKey(peer, out.sessionKey()).group();
    JsonNode message = c.alice().encrypt("x");
    List<Object> values =
        List.of(
            true,
            -1,
            0,
            1L << 40,
            "",
            "AAAA",
            "!!!",
            "é✓",
            1.5d,
            JsonNodeFactory.instance.arrayNode(),
            JsonNodeFactory.instance.objectNode(),
            Json.olmMessage(0, ""),
            Json.olmMessage(1, "AwoA"),
            args("type", "0", "body", message.get("body").asText()),
            message,
            c.bob().session(),
            alice.account(),
            inbound,
            out.group(),
            out.sessionKey());
    List<String> ops =
        List.of(
            "session.decrypt",
            "session.encrypt",
            "session.create_inbound",
            "session.create_outbound",
            "session.matches_inbound",
            "group.decrypt",
            "group.encrypt",
            "group.export",
            "group.create_inbound",
            "group.import_exported",
            "account.sign",
            "account.generate_one_time_keys",
            "pickle",
            "unpickle",
            "util.verify_ed25519");
    List<String> fields =
        List.of(
            "session",
            "account",
            "group",
            "message",
            "plaintext",
            "ciphertext",
            "index",
            "count",
            "session_key",
            "exported_key",
            "identity_key",
            "one_time_key",
            "sender_identity_key",
            "handle",
            "key",
            "kind",
            "format",
            "pickle",
            "signature");
    Random random = new Random(20261123L + kind.ordinal());
    List<PeerProcess.Request> requests = new ArrayList<>();
    for (int i = 0; i < RANDOM_REQUESTS; i++) {
      ObjectNode request = JsonNodeFactory.instance.objectNode();
      for (String field : fields) {
        if (random.nextBoolean()) {
          Object value = values.get(random.nextInt(values.size()));
          request.setAll(args(field, value));
        }
      }
      requests.add(new PeerProcess.Request(ops.get(random.nextInt(ops.size())), request));
    }
    List<JsonNode> replies = peer.callAll(requests);
    for (int i = 0; i < replies.size(); i++) {
      JsonNode reply = replies.get(i);
      String what = requests.get(i).op() + " " + requests.get(i).args();
      assertTrue(reply.has("result") != reply.has("error"), "one of result/error: " + reply);
      if (reply.has("error")) {
        String errorKind = reply.get("error").get("kind").asText();
        assertTrue(DOCUMENTED_KINDS.contains(errorKind), what + " -> " + reply.get("error"));
      }
    }
    assertEquals("alive", c.bob().decrypt(c.alice().encrypt("alive")), "peer still serves");
  }

  /** The first {@code bytes} bytes of a base64 value, re-encoded. */
  static String truncate(String base64, int bytes) {
    return Json.encode(java.util.Arrays.copyOf(Json.decode(base64), bytes));
  }

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void quitAndEndOfInput_exitCleanly(Kind kind) {
    try (PeerProcess peer = Peers.startDedicated(kind)) {
      assertEquals(0, peer.ok("quit", null).size(), "quit answers {}");
      assertEquals(0, peer.waitForExit(Duration.ofSeconds(10)), "exit status after quit");
    }
    try (PeerProcess peer = Peers.startDedicated(kind)) {
      peer.ok("info", null);
      assertEquals(
          0, peer.closeInputAndWait(Duration.ofSeconds(10)), "exit status at end of input");
    }
  }
}
