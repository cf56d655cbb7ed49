package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.sas.SasState;
import io.github.mxe2ee.sas.SasVerification;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SAS between two mxe2ee {@code OlmMachine}s of one user through an {@link InMemoryRouter}: the
 * machine's wiring (routing of incoming verification events, to-device requests out, trust marked
 * on success) without the Node peer.
 */
class JavaSasThroughRouterTest {
  private static final String USER = "@bot:localhost";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private InMemoryRouter router;
  private JavaMachine one;
  private JavaMachine two;

  @BeforeEach
  void connect() {
    router = new InMemoryRouter();
    router.registerDevice(USER, "ONE");
    router.registerDevice(USER, "TWO");
    one = JavaMachine.inMemory(USER, "ONE");
    two = JavaMachine.inMemory(USER, "TWO");
    for (JavaMachine m : List.of(one, two)) {
      m.pump(router);
    }
    for (JavaMachine m : List.of(one, two)) {
      m.sync(router);
      m.pump(router);
    }
  }

  @AfterEach
  void close() {
    one.close();
    two.close();
  }

  private void settle() {
    for (int i = 0; i < 8; i++) {
      one.pump(router);
      two.pump(router);
      one.sync(router);
      two.sync(router);
    }
  }

  @Test
  void ownDevices_verifyEachOther_andMarkTrust() {
    SasVerification a = one.machine().startVerification(USER, "TWO");
    List<OutgoingRequest> out = one.machine().outgoingRequests();
    assertEquals(1, out.size());
    assertEquals("m.key.verification.request", out.get(0).eventType());
    settle();
    SasVerification b = two.machine().verifications().get(USER, a.flowId()).orElseThrow();
    b.accept();
    settle();
    assertEquals(SasState.KEYS_EXCHANGED, a.state());
    assertEquals(a.emoji().orElseThrow(), b.emoji().orElseThrow());
    a.confirm();
    b.confirm();
    settle();
    assertEquals(SasState.DONE, a.state());
    assertEquals(SasState.DONE, b.state());
    assertEquals(LocalTrust.VERIFIED, one.machine().device(USER, "TWO").orElseThrow().localTrust());
    assertEquals(LocalTrust.VERIFIED, two.machine().device(USER, "ONE").orElseThrow().localTrust());
    assertTrue(one.machine().outgoingRequests().isEmpty(), "nothing left to send");
  }

  @Test
  void startVerification_refusesAnUnknownDevice() {
    assertThrows(
        IllegalArgumentException.class, () -> one.machine().startVerification(USER, "NOPE"));
  }

  @Test
  void malformedVerificationEvents_neverFailTheSync() {
    SasVerification a = one.machine().startVerification(USER, "TWO");
    one.pump(router);
    for (String content :
        List.of(
            "{\"transaction_id\": 5}",
            "{\"transaction_id\": \"" + a.flowId() + "\", \"mac\": \"x\", \"keys\": 7}")) {
      ObjectNode request = MAPPER.createObjectNode();
      request.put("request_id", "raw-" + content.hashCode());
      request.put("type", "to_device");
      request.put("event_type", "m.key.verification.mac");
      request.put("txn_id", "raw-" + content.hashCode());
      try {
        request
            .putObject("body")
            .putObject("messages")
            .putObject(USER)
            .set("ONE", MAPPER.readTree(content));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      router.route(USER, "TWO", request);
    }
    one.sync(router);
    assertEquals(SasState.CANCELLED, a.state());
    assertEquals("m.unexpected_message", a.cancelInfo().orElseThrow().code());
  }
}
