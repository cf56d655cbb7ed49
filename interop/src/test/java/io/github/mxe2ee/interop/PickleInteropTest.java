package io.github.mxe2ee.interop;

import static io.github.mxe2ee.interop.Json.args;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.interop.MegolmInteropTest.Inbound;
import io.github.mxe2ee.interop.MegolmInteropTest.Outbound;
import io.github.mxe2ee.interop.OlmInteropTest.End;
import io.github.mxe2ee.interop.OlmInteropTest.Party;
import io.github.mxe2ee.interop.Peers.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pickles made by libolm (the libolm peer's {@code pickle}) imported by each implementation ({@code
 * unpickle format=libolm}), then used against the libolm peer in both directions: account, Olm
 * session, inbound and outbound group session (issue 3, item 7: "pickles produced by libolm import
 * into mxe2ee and keep working with the libolm peer"). libolm importing its own pickles is the
 * control; vodozemac shows the scenario is sound independently of mxe2ee.
 *
 * <p>Also checks that a wrong pickle key is refused and that each implementation reads back its own
 * native pickles.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PickleInteropTest {
  static final List<String> PICKLE_OPS =
      List.of(
          "pickle",
          "unpickle",
          "account.identity_keys",
          "account.one_time_keys",
          "account.fallback_key",
          "session.id",
          "group.message_index",
          "group.session_id",
          "group.first_known_index");

  /** libolm takes pickle keys of any length; an odd length exercises its key derivation. */
  static final String LIBOLM_KEY =
      Json.encode("a passphrase, 29 bytes long!!".getBytes(StandardCharsets.UTF_8));

  /** 32 bytes: vodozemac's and mxe2ee's native formats need exactly this length. */
  static final String NATIVE_KEY =
      Json.encode("0123456789abcdef0123456789ABCDEF".getBytes(StandardCharsets.UTF_8));

  /** libolm, the exporter, in slot 0; the importer in slot 1. */
  static PeerProcess[] peers(Kind importer) {
    PeerProcess[] p = Peers.pair(Kind.LIBOLM, importer);
    Peers.requireOps(Kind.LIBOLM, p[0], PICKLE_OPS);
    Peers.requireOps(importer, p[1], PICKLE_OPS);
    Peers.requireOps(importer, p[1], OlmInteropTest.OLM_OPS);
    Peers.requireOps(importer, p[1], MegolmInteropTest.MEGOLM_OPS);
    return p;
  }

  static String libolmPickle(PeerProcess libolm, String handle) {
    JsonNode r = libolm.ok("pickle", args("handle", handle, "key", LIBOLM_KEY));
    assertEquals("libolm", r.get("format").asText());
    return r.get("pickle").asText();
  }

  static String importLibolm(PeerProcess importer, String kind, String pickle) {
    JsonNode reply =
        importer.call(
            "unpickle",
            args("kind", kind, "pickle", pickle, "key", LIBOLM_KEY, "format", "libolm"));
    if (reply.has("error") && "unsupported".equals(reply.get("error").get("kind").asText())) {
      Assumptions.abort(
          importer.name() + " cannot import a libolm " + kind + ": " + reply.get("error"));
    }
    assertTrue(
        reply.has("result"), importer.name() + " unpickle " + kind + ": " + reply.get("error"));
    return reply.get("result").get("handle").asText();
  }

  static Set<String> values(JsonNode map) {
    Set<String> out = new TreeSet<>();
    map.elements().forEachRemaining(v -> out.add(v.asText()));
    return out;
  }

  @ParameterizedTest(name = "importer={0}")
  @EnumSource(Kind.class)
  void libolmAccount_keepsItsKeysAndTalksBothWays(Kind importerKind) {
    PeerProcess[] p = peers(importerKind);
    PeerProcess libolm = p[0];
    PeerProcess importer = p[1];
    Party original = Party.create(libolm);
    JsonNode otks =
        libolm
            .ok("account.generate_one_time_keys", args("account", original.account(), "count", 3))
            .get("one_time_keys");
    JsonNode fallback =
        libolm
            .ok("account.generate_fallback_key", args("account", original.account()))
            .get("fallback_key");

    String handle = importLibolm(importer, "account", libolmPickle(libolm, original.account()));
    JsonNode keys =
        importer.ok("account.identity_keys", args("account", handle)).get("identity_keys");
    assertEquals(original.curve25519(), keys.get("curve25519").asText(), "Curve25519 identity key");
    assertEquals(original.ed25519(), keys.get("ed25519").asText(), "Ed25519 identity key");
    assertEquals(
        values(otks),
        values(importer.ok("account.one_time_keys", args("account", handle)).get("one_time_keys")),
        "unpublished one-time keys survive the import");
    assertEquals(
        values(fallback),
        values(importer.ok("account.fallback_key", args("account", handle)).get("fallback_key")),
        "unpublished fallback key survives the import");
    Party imported = new Party(importer, handle, original.curve25519(), original.ed25519());

    // The expanded Ed25519 key from the pickle signs verifiably.
    String signature =
        importer
            .ok("account.sign", args("account", handle, "message", "signed after import"))
            .get("signature")
            .asText();
    assertTrue(OlmInteropTest.verify(libolm, original.ed25519(), "signed after import", signature));

    // libolm opens sessions to the imported account with a pickled one-time key and fallback key.
    for (String key : List.of(otks.elements().next().asText(), Json.onlyValue(fallback))) {
      OlmInteropTest.Channel c =
          OlmInteropTest.open(Party.create(libolm), imported, key, "to the import");
      assertEquals("from the import", c.alice().decrypt(c.bob().encrypt("from the import")));
      assertEquals("and back", c.bob().decrypt(c.alice().encrypt("and back")));
    }
    // The imported account opens a session to libolm.
    Party bob = Party.create(libolm);
    OlmInteropTest.Channel c =
        OlmInteropTest.open(imported, bob, bob.publishOneTimeKey(), "outbound");
    assertEquals("reply", c.alice().decrypt(c.bob().encrypt("reply")));
  }

  @ParameterizedTest(name = "importer={0}")
  @EnumSource(Kind.class)
  void libolmSession_continuesWithSkippedKeysFromEitherEnd(Kind importerKind) {
    PeerProcess[] p = peers(importerKind);
    PeerProcess libolm = p[0];
    PeerProcess importer = p[1];
    for (boolean importAlice : new boolean[] {false, true}) {
      Party alice = Party.create(libolm);
      Party bob = Party.create(libolm);
      OlmInteropTest.Channel c = OlmInteropTest.open(alice, bob, bob.publishOneTimeKey(), "m0");
      List<JsonNode> fromAlice = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        fromAlice.add(c.alice().encrypt("m" + i));
      }
      assertEquals("m3", c.bob().decrypt(fromAlice.get(2)), "Bob skips m1 and m2");
      assertEquals("r1", c.alice().decrypt(c.bob().encrypt("r1")));
      JsonNode m4 = c.alice().encrypt("m4");
      JsonNode r2 = c.bob().encrypt("r2");

      End pickled = importAlice ? c.alice() : c.bob();
      String handle = importLibolm(importer, "session", libolmPickle(libolm, pickled.session()));
      assertEquals(
          c.sessionId(),
          importer.ok("session.id", args("session", handle)).get("session_id").asText(),
          "session id after import");
      End imported = new End(importer, handle, "imported " + pickled.label());
      if (importAlice) {
        // Alice's side: r2 is waiting for her; she continues her chain and libolm Bob reads it.
        assertEquals("r2", imported.decrypt(r2));
        assertEquals("m4", c.bob().decrypt(m4));
        assertEquals("m5", c.bob().decrypt(imported.encrypt("m5")));
        assertEquals("r3", imported.decrypt(c.bob().encrypt("r3")));
      } else {
        // Bob's side: the skipped keys for m1 and m2 come from the pickle.
        assertEquals("m2", imported.decrypt(fromAlice.get(1)));
        assertEquals("m4", imported.decrypt(m4));
        assertEquals("m1", imported.decrypt(fromAlice.get(0)));
        assertEquals("r2", c.alice().decrypt(r2));
        assertEquals("r3", c.alice().decrypt(imported.encrypt("r3")));
        assertEquals("m5", imported.decrypt(c.alice().encrypt("m5")));
      }
    }
  }

  @ParameterizedTest(name = "importer={0}")
  @EnumSource(Kind.class)
  void libolmInboundGroupSession_decryptsOldAndNewMessages(Kind importerKind) {
    PeerProcess[] p = peers(importerKind);
    PeerProcess libolm = p[0];
    PeerProcess importer = p[1];
    Outbound out = Outbound.create(libolm);
    List<String> plaintexts = MegolmInteropTest.plaintexts(15, "pickled");
    List<String> ciphertexts = out.encrypt(plaintexts.subList(0, 10));
    Inbound original = Inbound.fromSessionKey(libolm, out.sessionKey());
    original.decryptAll(ciphertexts, plaintexts, List.of(6, 5), "libolm before pickling");
    Inbound fromExport = Inbound.fromExport(libolm, original.export(4));

    String handle = importLibolm(importer, "group_inbound", libolmPickle(libolm, original.group()));
    Inbound imported = inbound(importer, handle);
    assertEquals(out.sessionId(), imported.sessionId());
    assertEquals(0, imported.firstKnownIndex());
    ciphertexts.addAll(out.encrypt(plaintexts.subList(10, 15)));
    imported.decryptAll(
        ciphertexts, plaintexts, MegolmInteropTest.range(0, 15), "imported inbound");

    String exportHandle =
        importLibolm(importer, "group_inbound", libolmPickle(libolm, fromExport.group()));
    Inbound importedExport = inbound(importer, exportHandle);
    assertEquals(4, importedExport.firstKnownIndex(), "first known index survives the pickle");
    importedExport.decryptAll(
        ciphertexts, plaintexts, MegolmInteropTest.range(4, 15), "imported export");
    assertEquals(
        "unknown_index", importedExport.decryptError(ciphertexts.get(3)).get("kind").asText());
  }

  @ParameterizedTest(name = "importer={0}")
  @EnumSource(Kind.class)
  void libolmOutboundGroupSession_continuesAtItsIndex(Kind importerKind) {
    PeerProcess[] p = peers(importerKind);
    PeerProcess libolm = p[0];
    PeerProcess importer = p[1];
    Outbound out = Outbound.create(libolm);
    List<String> plaintexts = MegolmInteropTest.plaintexts(8, "continued");
    List<String> ciphertexts = out.encrypt(plaintexts.subList(0, 3));
    Inbound reader = Inbound.fromSessionKey(libolm, out.sessionKey());

    String handle = importLibolm(importer, "group_outbound", libolmPickle(libolm, out.group()));
    assertEquals(
        3, importer.ok("group.message_index", args("group", handle)).get("message_index").asInt());
    assertEquals(
        out.sessionId(),
        importer.ok("group.session_id", args("group", handle)).get("session_id").asText());
    Outbound imported = new Outbound(importer, handle, out.sessionId(), null);
    ciphertexts.addAll(imported.encrypt(plaintexts.subList(3, 8)));
    reader.decryptAll(
        ciphertexts, plaintexts, MegolmInteropTest.range(0, 8), "libolm reads the import");

    JsonNode key = importer.ok("group.session_key", args("group", handle));
    assertEquals(8, key.get("message_index").asInt());
    Inbound late = Inbound.fromSessionKey(libolm, key.get("session_key").asText());
    assertEquals(8, late.firstKnownIndex());
    List<String> last = imported.encrypt(List.of("after the key"));
    assertEquals("after the key", late.decrypt(last.get(0)).get("plaintext").asText());
  }

  @ParameterizedTest(name = "importer={0}")
  @EnumSource(Kind.class)
  void libolmPickleWithWrongKey_isRefused(Kind importerKind) {
    PeerProcess[] p = peers(importerKind);
    Party original = Party.create(p[0]);
    String pickle = libolmPickle(p[0], original.account());
    String wrongKey = Json.encode("not the passphrase".getBytes(StandardCharsets.UTF_8));
    JsonNode error =
        p[1].error(
            "unpickle",
            args("kind", "account", "pickle", pickle, "key", wrongKey, "format", "libolm"));
    assertEquals("crypto", error.get("kind").asText(), "wrong pickle key: " + error);
    String message = error.get("message").asText();
    assertFalse(
        message.contains(wrongKey) || message.contains(pickle.substring(0, 16)),
        "error messages never quote pickle keys or pickles: " + message);
    JsonNode corrupt =
        p[1].error(
            "unpickle",
            args(
                "kind",
                "account",
                "pickle",
                pickle.substring(0, 40),
                "key",
                LIBOLM_KEY,
                "format",
                "libolm"));
    assertTrue(
        Set.of("crypto", "decode").contains(corrupt.get("kind").asText()),
        "truncated pickle: " + corrupt);
  }

  @ParameterizedTest(name = "peer={0}")
  @EnumSource(Kind.class)
  void nativePickles_roundTrip(Kind kind) {
    PeerProcess peer = Peers.get(kind, 0);
    Peers.requireOps(kind, peer, PICKLE_OPS);
    Peers.requireOps(kind, peer, OlmInteropTest.OLM_OPS);
    Peers.requireOps(kind, peer, MegolmInteropTest.MEGOLM_OPS);
    Party alice = Party.create(peer);
    Party bob = Party.create(peer);
    OlmInteropTest.Channel c = OlmInteropTest.open(alice, bob, bob.publishOneTimeKey(), "before");
    Outbound out = Outbound.create(peer);
    Inbound in = Inbound.fromSessionKey(peer, out.sessionKey());

    String account = roundTrip(peer, "account", alice.account());
    assertEquals(
        alice.curve25519(),
        peer.ok("account.identity_keys", args("account", account))
            .get("identity_keys")
            .get("curve25519")
            .asText());
    End bobAgain = new End(peer, roundTrip(peer, "session", c.bob().session()), "bob");
    assertEquals("after", bobAgain.decrypt(c.alice().encrypt("after")));
    Outbound outAgain =
        new Outbound(peer, roundTrip(peer, "group_outbound", out.group()), out.sessionId(), null);
    Inbound inAgain =
        new Inbound(peer, roundTrip(peer, "group_inbound", in.group()), in.sessionId(), 0);
    String ciphertext = outAgain.encrypt(List.of("group after")).get(0);
    assertEquals("group after", inAgain.decrypt(ciphertext).get("plaintext").asText());

    JsonNode wrong =
        peer.error(
            "unpickle",
            args(
                "kind",
                "account",
                "pickle",
                pickleNative(peer, alice.account()),
                "key",
                Json.encode(new byte[32]),
                "format",
                nativeFormat(peer)));
    assertEquals("crypto", wrong.get("kind").asText(), "wrong key for a native pickle: " + wrong);

    if (!nativeFormat(peer).equals("libolm")) {
      // vodozemac's and mxe2ee's formats take 32-byte keys only; libolm takes any length.
      JsonNode shortKey =
          peer.error("pickle", args("handle", alice.account(), "key", Json.encode(new byte[5])));
      assertEquals("bad_request", shortKey.get("kind").asText(), "5-byte key: " + shortKey);
    }
  }

  /** Wraps an imported inbound group session handle, reading its id and first known index. */
  static Inbound inbound(PeerProcess peer, String handle) {
    String sessionId =
        peer.ok("group.session_id", args("group", handle)).get("session_id").asText();
    int first =
        peer.ok("group.first_known_index", args("group", handle)).get("first_known_index").asInt();
    return new Inbound(peer, handle, sessionId, first);
  }

  static String nativeFormat(PeerProcess peer) {
    return peer.ok("info", null).get("pickle_format").asText();
  }

  static String pickleNative(PeerProcess peer, String handle) {
    return peer.ok("pickle", args("handle", handle, "key", NATIVE_KEY)).get("pickle").asText();
  }

  static String roundTrip(PeerProcess peer, String kind, String handle) {
    String pickle = pickleNative(peer, handle);
    return peer.ok(
            "unpickle",
            args("kind", kind, "pickle", pickle, "key", NATIVE_KEY, "format", nativeFormat(peer)))
        .get("handle")
        .asText();
  }
}
