package io.github.mxe2ee.sas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Two {@link Verifications} registries (Alice's and Bob's devices) talking through a relay that the
 * tests may tamper with: the whole SAS flow, glare, and every cancel path of the spec.
 */
class SasVerificationTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A clock the tests move by hand. */
  static final class TestClock extends Clock {
    long millis = 1_700_000_000_000L;

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** One device: its keys, a directory of what it knows, its registry. */
  static final class Side implements KeyDirectory {
    final String user;
    final String device;
    final Ed25519PublicKey ed25519 = Ed25519SecretKey.generate(RANDOM).publicKey();
    Ed25519PublicKey master;
    final Map<String, Ed25519PublicKey> knownDevices = new HashMap<>();
    final Map<String, Ed25519PublicKey> knownMasters = new HashMap<>();
    final Verifications registry;

    Side(String user, String device, TestClock clock) {
      this.user = user;
      this.device = device;
      this.registry = new Verifications(new SasContext(user, device, ed25519, this, clock, RANDOM));
    }

    void learn(Side other) {
      knownDevices.put(other.user + "|" + other.device, other.ed25519);
      if (other.master != null) {
        knownMasters.put(other.user, other.master);
      }
    }

    @Override
    public Optional<Ed25519PublicKey> deviceKey(String userId, String deviceId) {
      return Optional.ofNullable(knownDevices.get(userId + "|" + deviceId));
    }

    @Override
    public Optional<Ed25519PublicKey> masterKey(String userId) {
      return Optional.ofNullable(knownMasters.get(userId));
    }

    @Override
    public Optional<Ed25519PublicKey> ownMasterKey() {
      return Optional.ofNullable(master);
    }
  }

  private final TestClock clock = new TestClock();
  private final Side alice = new Side("@alice:example.org", "ALICE", clock);
  private final Side bob = new Side("@bob:example.org", "BOB", clock);

  /** Everything relayed, by type, for assertions. */
  private final List<VerificationMessage> wire = new ArrayList<>();

  SasVerificationTest() {
    alice.master = Ed25519SecretKey.generate(RANDOM).publicKey();
    alice.learn(bob);
    bob.learn(alice);
  }

  /** Moves every queued message both ways until quiet, through {@code tamper}. */
  private void relay(UnaryOperator<VerificationMessage> tamper) {
    for (int round = 0; round < 20; round++) {
      List<VerificationMessage> fromAlice = alice.registry.drainOutgoing();
      List<VerificationMessage> fromBob = bob.registry.drainOutgoing();
      if (fromAlice.isEmpty() && fromBob.isEmpty()) {
        return;
      }
      deliver(fromAlice, alice, bob, tamper);
      deliver(fromBob, bob, alice, tamper);
    }
    throw new AssertionError("verification messages still flowing after 20 rounds");
  }

  private void relay() {
    relay(UnaryOperator.identity());
  }

  private void deliver(
      List<VerificationMessage> messages,
      Side from,
      Side to,
      UnaryOperator<VerificationMessage> tamper) {
    for (VerificationMessage m : messages) {
      assertEquals(to.user, m.userId());
      assertEquals(to.device, m.deviceId());
      VerificationMessage t = tamper.apply(m);
      if (t == null) {
        continue;
      }
      wire.add(t);
      to.registry.receive(t.type(), from.user, t.content());
    }
  }

  private SasVerification bobsFlow(String flowId) {
    return bob.registry.get(alice.user, flowId).orElseThrow();
  }

  private long count(String type) {
    return wire.stream().filter(m -> m.type().equals(type)).count();
  }

  private static String cancelCode(SasVerification v) {
    return v.cancelInfo().map(CancelInfo::code).orElse(null);
  }

  // ---------------------------------------------------------------- the whole flow

  @Test
  void fullFlow_aliceRequests_bobAnswers_bothVerifyEachOther() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    assertEquals(SasState.REQUEST_RECEIVED, b.state());
    b.accept();
    relay();
    assertEquals(SasState.KEYS_EXCHANGED, a.state());
    assertEquals(SasState.KEYS_EXCHANGED, b.state());
    assertTrue(a.weStarted(), "the requester sends the start");
    assertEquals(a.emoji().orElseThrow(), b.emoji().orElseThrow(), "same emoji");
    assertArrayEquals(a.decimals().orElseThrow(), b.decimals().orElseThrow(), "same decimals");
    assertEquals(MacMethod.HKDF_HMAC_SHA256_V2, b.macMethod().orElseThrow());

    b.confirm();
    relay();
    assertEquals(SasState.CONFIRMED, b.state());
    assertTrue(a.verifiedKeys().isEmpty(), "nothing is verified before Alice confirms");
    a.confirm();
    relay();
    assertEquals(SasState.DONE, a.state());
    assertEquals(SasState.DONE, b.state());
    assertEquals(2, count(SasVerification.DONE));

    VerifiedKeys aliceSaw = alice.registry.drainVerified().get(0);
    assertEquals(bob.ed25519, aliceSaw.deviceKey());
    assertNull(aliceSaw.masterKey(), "Bob has no master key");
    VerifiedKeys bobSaw = bob.registry.drainVerified().get(0);
    assertEquals(alice.ed25519, bobSaw.deviceKey());
    assertEquals(alice.master, bobSaw.masterKey(), "Alice's MAC covers her master key");
    assertTrue(alice.registry.drainVerified().isEmpty(), "reported once");
    assertTrue(a.emoji().isEmpty(), "the SAS is forgotten with the secrets");
  }

  @Test
  void legacyStartWithoutRequest_isAnsweredAfterAccept() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    alice.registry.drainOutgoing(); // drop the request: Bob sees only a bare start, below
    ObjectNode start = MAPPER.createObjectNode();
    start.put("transaction_id", "legacy-1");
    start.put("from_device", alice.device);
    start.put("method", "m.sas.v1");
    start.putArray("key_agreement_protocols").add("curve25519-hkdf-sha256");
    start.putArray("hashes").add("sha256");
    start.putArray("message_authentication_codes").add("hkdf-hmac-sha256");
    start.putArray("short_authentication_string").add("decimal");
    SasVerification b =
        bob.registry.receive(SasVerification.START, alice.user, start).orElseThrow();
    assertEquals(SasState.START_RECEIVED, b.state());
    b.accept();
    VerificationMessage accept = bob.registry.drainOutgoing().get(0);
    assertEquals(SasVerification.ACCEPT, accept.type());
    assertEquals("hkdf-hmac-sha256", accept.content().get("message_authentication_code").asText());
    assertEquals("[\"decimal\"]", accept.content().get("short_authentication_string").toString());
    assertEquals(SasState.REQUESTED, a.state());
  }

  @Test
  void startGlare_smallerUserIdsStartCounts_andTheFlowCompletes() {
    SasVerification b = bob.registry.request(alice.user, alice.device);
    relay();
    SasVerification a = alice.registry.get(bob.user, b.flowId()).orElseThrow();
    a.accept();
    // Bob receives ready and starts; Alice starts too before seeing Bob's start.
    VerificationMessage ready = alice.registry.drainOutgoing().get(0);
    bob.registry.receive(ready.type(), alice.user, ready.content());
    a.startSas();
    relay();
    assertEquals(SasState.KEYS_EXCHANGED, a.state());
    assertEquals(SasState.KEYS_EXCHANGED, b.state());
    assertTrue(a.weStarted(), "@alice < @bob: Alice's start counts");
    assertFalse(b.weStarted());
    assertEquals(a.emoji().orElseThrow(), b.emoji().orElseThrow());
    a.confirm();
    b.confirm();
    relay();
    assertEquals(SasState.DONE, a.state());
    assertEquals(SasState.DONE, b.state());
  }

  @Test
  void startGlare_differentMethod_cancelsUnexpectedMessage() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    bobsFlow(a.flowId()).accept();
    VerificationMessage ready = bob.registry.drainOutgoing().get(0);
    alice.registry.receive(ready.type(), bob.user, ready.content());
    assertEquals(SasState.STARTED, a.state());
    ObjectNode qr = MAPPER.createObjectNode();
    qr.put("transaction_id", a.flowId());
    qr.put("from_device", bob.device);
    qr.put("method", "m.reciprocate.v1");
    qr.put("secret", "AAAA");
    alice.registry.receive(SasVerification.START, bob.user, qr);
    assertEquals("m.unexpected_message", cancelCode(a));
  }

  // ---------------------------------------------------------------- cancel paths

  @Test
  void mismatchedSas_cancelsBothSides_withMismatchedSas() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    b.accept();
    relay();
    b.mismatch();
    relay();
    assertEquals(SasState.CANCELLED, a.state());
    assertEquals(SasState.CANCELLED, b.state());
    assertEquals(
        new CancelInfo("m.mismatched_sas", CancelCode.MISMATCHED_SAS.reason(), false),
        a.cancelInfo().orElseThrow());
    assertTrue(b.cancelInfo().orElseThrow().cancelledByUs());
    assertEquals(1, count(SasVerification.CANCEL), "a cancel is never answered");
    assertThrows(IllegalStateException.class, a::confirm);
    assertTrue(alice.registry.drainVerified().isEmpty());
  }

  @Test
  void tamperedMac_isRefusedWithKeyMismatch() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    b.accept();
    relay();
    a.confirm();
    b.confirm();
    relay(
        m -> {
          if (m.type().equals(SasVerification.MAC) && m.userId().equals(alice.user)) {
            ObjectNode c = m.content();
            ObjectNode macs = (ObjectNode) c.get("mac");
            String id = "ed25519:" + bob.device;
            String mac = macs.get(id).asText();
            macs.put(id, (mac.charAt(0) == 'A' ? "B" : "A") + mac.substring(1));
            return new VerificationMessage(m.userId(), m.deviceId(), m.type(), c);
          }
          return m;
        });
    assertEquals("m.key_mismatch", cancelCode(a));
    assertTrue(a.cancelInfo().orElseThrow().cancelledByUs());
    assertEquals(SasState.CANCELLED, b.state(), "Bob learns of the cancel");
    assertTrue(alice.registry.drainVerified().isEmpty(), "nothing verified");
    assertTrue(bob.registry.drainVerified().isEmpty(), "nothing verified");
  }

  @Test
  void macOverAnAddedKeyId_failsTheKeyIdsMac() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    bobsFlow(a.flowId()).accept();
    relay();
    bobsFlow(a.flowId()).confirm();
    relay(
        m -> {
          if (m.type().equals(SasVerification.MAC)) {
            ObjectNode c = m.content();
            ((ObjectNode) c.get("mac")).put("ed25519:EXTRA", "AAAA");
            return new VerificationMessage(m.userId(), m.deviceId(), m.type(), c);
          }
          return m;
        });
    assertEquals("m.key_mismatch", cancelCode(a));
  }

  @Test
  void macForAnUnknownDevice_verifiesNothing_keyMismatch() {
    alice.knownDevices.clear(); // Alice has no copy of Bob's device key
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    bobsFlow(a.flowId()).accept();
    relay();
    bobsFlow(a.flowId()).confirm();
    relay();
    assertEquals("m.key_mismatch", cancelCode(a));
  }

  @Test
  void keyNotMatchingTheCommitment_isRefusedWithMismatchedCommitment() {
    // A man in the middle replaces Bob's ephemeral key after Bob committed to his own.
    String forged = Curve25519SecretKey.generate(RANDOM).publicKey().toBase64();
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    b.accept();
    relay(
        m -> {
          if (m.type().equals(SasVerification.KEY) && m.userId().equals(alice.user)) {
            ObjectNode c = m.content();
            c.put("key", forged);
            return new VerificationMessage(m.userId(), m.deviceId(), m.type(), c);
          }
          return m;
        });
    assertEquals("m.mismatched_commitment", cancelCode(a));
    assertTrue(a.emoji().isEmpty(), "no SAS is shown for a broken commitment");
    assertEquals(SasState.CANCELLED, b.state());
  }

  @Test
  void startWithoutCommonMethod_cancelsUnknownMethod() {
    for (String[] field :
        new String[][] {
          {"key_agreement_protocols", "curve25519"},
          {"hashes", "sha512"},
          {"message_authentication_codes", "hmac-sha256"},
          {"short_authentication_string", "emoji"},
          {"method", "m.qr_code.scan.v1"}
        }) {
      ObjectNode start = MAPPER.createObjectNode();
      start.put("transaction_id", "t-" + field[0]);
      start.put("from_device", alice.device);
      start.put("method", "m.sas.v1");
      start.putArray("key_agreement_protocols").add("curve25519-hkdf-sha256");
      start.putArray("hashes").add("sha256");
      start.putArray("message_authentication_codes").add("hkdf-hmac-sha256.v2");
      start.putArray("short_authentication_string").add("decimal").add("emoji");
      if (field[0].equals("method")) {
        start.put("method", field[1]);
      } else {
        start.putArray(field[0]).add(field[1]);
      }
      SasVerification b =
          bob.registry.receive(SasVerification.START, alice.user, start).orElseThrow();
      assertEquals("m.unknown_method", cancelCode(b), field[0]);
      VerificationMessage cancel = bob.registry.drainOutgoing().get(0);
      assertEquals(SasVerification.CANCEL, cancel.type(), field[0]);
      assertEquals("m.unknown_method", cancel.content().get("code").asText(), field[0]);
    }
  }

  @Test
  void requestWithoutSas_isCancelledUnknownMethodOnAccept() {
    ObjectNode request = MAPPER.createObjectNode();
    request.put("transaction_id", "qr-only");
    request.put("from_device", alice.device);
    request.putArray("methods").add("m.qr_code.show.v1");
    request.put("timestamp", clock.millis());
    SasVerification b =
        bob.registry.receive(SasVerification.REQUEST, alice.user, request).orElseThrow();
    assertTrue(bob.registry.drainOutgoing().isEmpty(), "no automatic cancel (spec)");
    b.accept();
    assertEquals("m.unknown_method", cancelCode(b));
  }

  @Test
  void messagesOutOfOrder_cancelUnexpectedMessage() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    ObjectNode mac = MAPPER.createObjectNode();
    mac.put("transaction_id", a.flowId());
    mac.putObject("mac").put("ed25519:BOB", "AAAA");
    mac.put("keys", "AAAA");
    alice.registry.receive(SasVerification.MAC, bob.user, mac);
    assertEquals("m.unexpected_message", cancelCode(a));
    assertThrows(IllegalStateException.class, a::confirm);

    SasVerification a2 = alice.registry.request(bob.user, bob.device);
    relay();
    bobsFlow(a2.flowId()).accept();
    relay();
    ObjectNode done = MAPPER.createObjectNode();
    done.put("transaction_id", a2.flowId());
    alice.registry.receive(SasVerification.DONE, bob.user, done);
    assertEquals("m.unexpected_message", cancelCode(a2), "done before the MACs");
  }

  @Test
  void wrongSenderOrDevice_neverReachesTheFlow() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    b.accept();
    VerificationMessage ready = bob.registry.drainOutgoing().get(0);
    // Mallory replays Bob's ready under her own name: a different flow key, so it is unknown.
    alice.registry.receive(ready.type(), "@mallory:example.org", ready.content());
    assertEquals(SasState.REQUESTED, a.state());
    List<VerificationMessage> answer = alice.registry.drainOutgoing();
    assertEquals(1, answer.size());
    assertEquals("m.unknown_transaction", answer.get(0).content().get("code").asText());
    assertEquals("@mallory:example.org", answer.get(0).userId());
    // A ready from another device of Bob than the one asked is invalid.
    ObjectNode other = ready.content();
    other.put("from_device", "OTHER");
    alice.registry.receive(ready.type(), bob.user, other);
    assertEquals("m.invalid_message", cancelCode(a));
  }

  @Test
  void timeout_cancelsWithTimeout_afterTenMinutes() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    b.accept();
    relay();
    clock.millis += SasVerification.FLOW_TIMEOUT_MILLIS - 1;
    alice.registry.checkTimeouts();
    assertEquals(SasState.KEYS_EXCHANGED, a.state());
    clock.millis += 1;
    alice.registry.checkTimeouts();
    assertEquals("m.timeout", cancelCode(a));
    relay();
    assertEquals(SasState.CANCELLED, b.state());
    assertEquals("m.timeout", cancelCode(b));
  }

  @Test
  void unansweredRequest_expiresAfterTwoMinutes() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    SasVerification b = bobsFlow(a.flowId());
    clock.millis += SasVerification.REQUEST_PROMPT_MILLIS;
    bob.registry.checkTimeouts();
    assertEquals("m.timeout", cancelCode(b));
  }

  @Test
  void staleOrFutureRequest_isIgnored() {
    for (long offset :
        new long[] {
          -SasVerification.REQUEST_MAX_AGE_MILLIS - 1, SasVerification.REQUEST_MAX_FUTURE_MILLIS + 1
        }) {
      ObjectNode request = MAPPER.createObjectNode();
      request.put("transaction_id", "t" + offset);
      request.put("from_device", alice.device);
      request.putArray("methods").add("m.sas.v1");
      request.put("timestamp", clock.millis() + offset);
      assertTrue(bob.registry.receive(SasVerification.REQUEST, alice.user, request).isEmpty());
      assertTrue(bob.registry.drainOutgoing().isEmpty());
    }
  }

  @Test
  void secondRequestFromTheSameDevice_cancelsBoth() {
    SasVerification first = alice.registry.request(bob.user, bob.device);
    SasVerification second = alice.registry.request(bob.user, bob.device);
    relay();
    assertEquals("m.unexpected_message", cancelCode(bobsFlow(first.flowId())));
    assertEquals("m.unexpected_message", cancelCode(bobsFlow(second.flowId())));
    assertEquals(SasState.CANCELLED, first.state());
    assertEquals(SasState.CANCELLED, second.state());
  }

  @Test
  void requestFlood_isBounded_andCostsNoReplies() {
    for (int i = 0; i < Verifications.MAX_LIVE_FLOWS + 10; i++) {
      ObjectNode request = MAPPER.createObjectNode();
      request.put("transaction_id", "flood-" + i);
      request.put("from_device", "DEV" + i);
      request.putArray("methods").add("m.sas.v1");
      request.put("timestamp", clock.millis());
      bob.registry.receive(SasVerification.REQUEST, alice.user, request);
    }
    assertEquals(Verifications.MAX_LIVE_FLOWS, bob.registry.all().size());
    assertTrue(bob.registry.drainOutgoing().isEmpty());
  }

  @Test
  void toString_showsNoSecret() {
    SasVerification a = alice.registry.request(bob.user, bob.device);
    relay();
    bobsFlow(a.flowId()).accept();
    relay();
    String shown = a.toString();
    assertTrue(shown.contains(a.flowId()));
    for (int d : a.decimals().orElseThrow()) {
      assertFalse(shown.contains(Integer.toString(d)), shown);
    }
  }
}
