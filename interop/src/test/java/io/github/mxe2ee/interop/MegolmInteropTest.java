package io.github.mxe2ee.interop;

import static io.github.mxe2ee.interop.Json.args;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.interop.Peers.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Megolm between every ordered pair of implementations (issue 3, item 7): the sender's outbound
 * group session runs on the first implementation, the receiver's inbound session on the second.
 * Covers decryption from the signed session key, from an exported key at a later index (earlier
 * indices must fail with {@code unknown_index}), out-of-order and repeated decryption, and tampered
 * messages and session keys (spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MegolmInteropTest {
  static final List<String> MEGOLM_OPS =
      List.of(
          "group.create_outbound",
          "group.encrypt",
          "group.session_key",
          "group.create_inbound",
          "group.import_exported",
          "group.decrypt",
          "group.export");

  static final long SEED = 0x6d65676f6c6dL;

  /** An outbound group session on the sender's peer. */
  record Outbound(PeerProcess peer, String group, String sessionId, String sessionKey) {
    static Outbound create(PeerProcess peer) {
      JsonNode r = peer.ok("group.create_outbound", null);
      assertEquals(0, r.get("message_index").asInt(), "a new session starts at index 0");
      return new Outbound(
          peer,
          r.get("group").asText(),
          r.get("session_id").asText(),
          r.get("session_key").asText());
    }

    /** Encrypts {@code plaintexts} in order (pipelined); element i has index start + i. */
    List<String> encrypt(List<String> plaintexts) {
      List<PeerProcess.Request> requests = new ArrayList<>();
      for (String plaintext : plaintexts) {
        requests.add(
            new PeerProcess.Request("group.encrypt", args("group", group, "plaintext", plaintext)));
      }
      List<String> out = new ArrayList<>();
      for (JsonNode r : peer.okAll(requests)) {
        out.add(r.get("ciphertext").asText());
      }
      return out;
    }
  }

  /** An inbound group session on the receiver's peer. */
  record Inbound(PeerProcess peer, String group, String sessionId, int firstKnownIndex) {
    static Inbound of(PeerProcess peer, JsonNode r) {
      return new Inbound(
          peer,
          r.get("group").asText(),
          r.get("session_id").asText(),
          r.get("first_known_index").asInt());
    }

    static Inbound fromSessionKey(PeerProcess peer, String sessionKey) {
      return of(peer, peer.ok("group.create_inbound", args("session_key", sessionKey)));
    }

    static Inbound fromExport(PeerProcess peer, String exportedKey) {
      return of(peer, peer.ok("group.import_exported", args("exported_key", exportedKey)));
    }

    JsonNode decrypt(String ciphertext) {
      return peer.ok("group.decrypt", args("group", group, "ciphertext", ciphertext));
    }

    JsonNode decryptError(String ciphertext) {
      return peer.error("group.decrypt", args("group", group, "ciphertext", ciphertext));
    }

    String export(int index) {
      return peer.ok("group.export", args("group", group, "index", index))
          .get("exported_key")
          .asText();
    }

    /** Decrypts {@code indices} (pipelined) and checks plaintext and index of each. */
    void decryptAll(
        List<String> ciphertexts, List<String> plaintexts, List<Integer> indices, String what) {
      List<PeerProcess.Request> requests = new ArrayList<>();
      for (int i : indices) {
        requests.add(
            new PeerProcess.Request(
                "group.decrypt", args("group", group, "ciphertext", ciphertexts.get(i))));
      }
      List<JsonNode> replies = peer.callAll(requests);
      for (int k = 0; k < indices.size(); k++) {
        int i = indices.get(k);
        JsonNode reply = replies.get(k);
        assertTrue(reply.has("result"), what + ": message " + i + " failed: " + reply.get("error"));
        assertEquals(
            plaintexts.get(i),
            reply.get("result").get("plaintext").asText(),
            what + ": message " + i);
        assertEquals(
            i, reply.get("result").get("message_index").asInt(), what + ": index of message " + i);
      }
    }
  }

  static PeerProcess[] peers(Kind sender, Kind receiver) {
    PeerProcess[] p = Peers.pair(sender, receiver);
    Peers.requireOps(sender, p[0], MEGOLM_OPS);
    Peers.requireOps(receiver, p[1], MEGOLM_OPS);
    return p;
  }

  static List<String> plaintexts(int count, String tag) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(tag + " event " + i + " {\"body\":\"héllo ✓\"}" + "x".repeat(i % 200));
    }
    return out;
  }

  static List<Integer> range(int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(i);
    }
    return out;
  }

  @ParameterizedTest(name = "sender={0} receiver={1}")
  @MethodSource("io.github.mxe2ee.interop.Peers#orderedPairs")
  void decryptFromSessionKey(Kind senderKind, Kind receiverKind) {
    PeerProcess[] p = peers(senderKind, receiverKind);
    Outbound out = Outbound.create(p[0]);
    Inbound in = Inbound.fromSessionKey(p[1], out.sessionKey());
    assertEquals(out.sessionId(), in.sessionId(), "session ids agree");
    assertEquals(0, in.firstKnownIndex());
    List<String> plaintexts = plaintexts(50, "k");
    List<String> ciphertexts = out.encrypt(plaintexts);
    in.decryptAll(ciphertexts, plaintexts, range(0, 50), "in order");

    // A session key taken later starts at the sender's current index.
    JsonNode later = out.peer().ok("group.session_key", args("group", out.group()));
    assertEquals(50, later.get("message_index").asInt());
    Inbound late = Inbound.fromSessionKey(p[1], later.get("session_key").asText());
    assertEquals(50, late.firstKnownIndex(), "first known index of a later session key");
    List<String> more = plaintexts(5, "late");
    List<String> moreCiphertexts = out.encrypt(more);
    List<String> all = new ArrayList<>(plaintexts);
    all.addAll(more);
    List<String> allCiphertexts = new ArrayList<>(ciphertexts);
    allCiphertexts.addAll(moreCiphertexts);
    late.decryptAll(allCiphertexts, all, range(50, 55), "late key");
    JsonNode early = late.decryptError(ciphertexts.get(49));
    assertEquals(
        "unknown_index", early.get("kind").asText(), "index 49 before a key at 50: " + early);
  }

  @ParameterizedTest(name = "sender={0} receiver={1}")
  @MethodSource("io.github.mxe2ee.interop.Peers#orderedPairs")
  void decryptFromExportAtLaterIndex_earlierIndicesFail(Kind senderKind, Kind receiverKind) {
    PeerProcess[] p = peers(senderKind, receiverKind);
    Outbound out = Outbound.create(p[0]);
    List<String> plaintexts = plaintexts(20, "x");
    List<String> ciphertexts = out.encrypt(plaintexts);

    // The receiver's implementation exports at 7, the sender's implementation imports it...
    Inbound original = Inbound.fromSessionKey(p[1], out.sessionKey());
    Inbound imported = Inbound.fromExport(p[0], original.export(7));
    assertEquals(7, imported.firstKnownIndex());
    assertEquals(out.sessionId(), imported.sessionId());
    imported.decryptAll(ciphertexts, plaintexts, range(7, 20), "sender-side import at 7");
    JsonNode early = imported.decryptError(ciphertexts.get(6));
    assertEquals(
        "unknown_index", early.get("kind").asText(), "index 6 before an export at 7: " + early);
    JsonNode exportEarly =
        imported.peer().error("group.export", args("group", imported.group(), "index", 3));
    assertEquals(
        "unknown_index",
        exportEarly.get("kind").asText(),
        "export below first known: " + exportEarly);

    // ...and exports again at 12 for the receiver's implementation to import.
    Inbound back = Inbound.fromExport(p[1], imported.export(12));
    assertEquals(12, back.firstKnownIndex());
    back.decryptAll(ciphertexts, plaintexts, range(12, 20), "receiver-side import at 12");
    assertEquals("unknown_index", back.decryptError(ciphertexts.get(11)).get("kind").asText());
  }

  @ParameterizedTest(name = "sender={0} receiver={1}")
  @MethodSource("io.github.mxe2ee.interop.Peers#orderedPairs")
  void decryptOutOfOrderAndRepeatedly(Kind senderKind, Kind receiverKind) {
    PeerProcess[] p = peers(senderKind, receiverKind);
    long seed = SEED ^ (senderKind.ordinal() * 31L + receiverKind.ordinal());
    Outbound out = Outbound.create(p[0]);
    Inbound in = Inbound.fromSessionKey(p[1], out.sessionKey());
    List<String> plaintexts = plaintexts(300, "ooo");
    List<String> ciphertexts = out.encrypt(plaintexts);
    List<Integer> order = range(0, 300);
    Collections.shuffle(order, new Random(seed));
    // Start with the newest so every other message lies behind the ratchet's position.
    order.remove(Integer.valueOf(299));
    order.add(0, 299);
    in.decryptAll(ciphertexts, plaintexts, order, "shuffled (seed " + seed + ")");
    in.decryptAll(ciphertexts, plaintexts, range(0, 300), "second pass in order");
  }

  @ParameterizedTest(name = "sender={0} receiver={1}")
  @MethodSource("io.github.mxe2ee.interop.Peers#orderedPairs")
  void tamperedMessagesAndKeys_areRejected(Kind senderKind, Kind receiverKind) {
    PeerProcess[] p = peers(senderKind, receiverKind);
    Outbound out = Outbound.create(p[0]);
    Inbound in = Inbound.fromSessionKey(p[1], out.sessionKey());
    List<String> plaintexts = plaintexts(3, "t");
    List<String> ciphertexts = out.encrypt(plaintexts);
    String message = ciphertexts.get(1);
    // Layout: version | index | ciphertext | MAC (8) | Ed25519 signature (64).
    for (int[] flip : new int[][] {{-1}, {-64}, {-65}, {-72}, {-73}}) {
      JsonNode error = in.decryptError(Json.flipBit(message, flip[0]));
      assertEquals(
          "crypto", error.get("kind").asText(), "bit flipped at " + flip[0] + ": " + error);
    }
    JsonNode version = in.decryptError(Json.flipBit(message, 0));
    assertEquals("decode", version.get("kind").asText(), "bit flipped in version: " + version);
    in.decryptAll(ciphertexts, plaintexts, List.of(1, 0, 2), "genuine messages after forgeries");

    JsonNode badKey =
        p[1].error("group.create_inbound", args("session_key", Json.flipBit(out.sessionKey(), -1)));
    assertEquals(
        "crypto", badKey.get("kind").asText(), "session key with a bad signature: " + badKey);
  }
}
