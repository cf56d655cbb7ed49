package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.testing.RustMachinePeer.PeerException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every {@link MachineScenarios} scenario with real Rust {@code OlmMachine}s (Element's crypto via
 * matrix-sdk-crypto-wasm) in every role: proves the router and the peer harness before the Java
 * engine plugs into the same scenarios (issue 5, item 9). Plus what is specific to the peer.
 */
class RustPeersThroughRouterTest extends MachineScenarios {

  @Override
  protected RoutedMachine newMachine(String role, String userId, String deviceId) {
    return RustMachinePeer.start(userId, deviceId);
  }

  private RustMachinePeer rust(RoutedMachine m) {
    return (RustMachinePeer) m;
  }

  @Test
  void peerReportsErrorsAndKeepsServing() {
    PeerException unknown = assertThrows(PeerException.class, () -> rust(bob).call("machine.nope"));
    assertEquals("unknown_op", unknown.kind());
    PeerException badRequest =
        assertThrows(
            PeerException.class,
            () -> rust(bob).call("machine.encrypt_room_event", MAPPER.createObjectNode()));
    assertEquals("bad_request", badRequest.kind());
    PeerException twice = assertThrows(PeerException.class, () -> rust(bob).init(BOB, "BOBDEVICE"));
    assertEquals("bad_state", twice.kind());
    assertEquals(
        bob.identityKeys().get("curve25519").asText(),
        alice.device(BOB, "BOBDEVICE").get("curve25519").asText());
    assertEquals("0.19.1", rust(bob).call("peer.version").get("matrix_sdk_crypto").asText());
    assertTrue(rust(bob).lastElapsedMillis() >= 0, "elapsed time reported");
  }

  @Test
  void deadPeerIsReportedAtOnce() {
    RustMachinePeer p = (RustMachinePeer) machine("bob2", BOB, "BOBSECOND");
    p.call("quit");
    long start = System.nanoTime();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> p.call("machine.identity_keys"));
    assertTrue(
        System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(10),
        "no waiting for the full reply timeout");
    assertTrue(
        e.getMessage().contains("exited") || e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void peerReportsCrossSigningStatus() {
    ObjectNode before = rust(bob).call("machine.cross_signing_status");
    assertEquals(false, before.get("has_master").asBoolean());
    bob.bootstrapCrossSigning(router);
    ObjectNode after = rust(bob).call("machine.cross_signing_status");
    assertTrue(after.get("has_master").asBoolean());
    assertTrue(after.get("has_self_signing").asBoolean());
    assertTrue(after.get("has_user_signing").asBoolean());
    // The router stored and now serves the identity.
    ObjectNode q = MAPPER.createObjectNode();
    q.putObject("device_keys").putArray(BOB);
    ObjectNode seen = router.keysQuery(ALICE, "ALICEDEVICE", q);
    assertTrue(seen.path("master_keys").has(BOB), seen.toString());
    assertTrue(seen.path("self_signing_keys").has(BOB), seen.toString());
  }

  /**
   * Rust-specific: when the receiver got a withheld notice for a session and later the session
   * itself from a higher index, an earlier index is reported as withheld (the reason it is missing)
   * rather than as an unknown index.
   */
  @Test
  void deviceVerifiedLateGetsTheSessionFromItsCurrentIndex_earlierStaysWithheld() {
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), trustedOnly());
    bob.sync(router);
    ObjectNode first = send(alice, "first");

    assertTrue(alice.setLocalTrust(BOB, "BOBDEVICE", "verified").get("is_verified").asBoolean());
    alice.shareRoomKey(router, ROOM, List.of(ALICE, BOB), trustedOnly());
    bob.sync(router);
    ObjectNode second = send(alice, "second");
    assertEquals(
        first.path("content").path("session_id"),
        second.path("content").path("session_id"),
        "the outbound session is kept when a device becomes trusted");

    assertEquals("second", body(bob.decryptRoomEvent(ROOM, second)));
    Mxe2eeException e = failsWith("withheld", bob, ROOM, first);
    assertEquals("m.unverified", bob.withheldCode(e));
  }
}
