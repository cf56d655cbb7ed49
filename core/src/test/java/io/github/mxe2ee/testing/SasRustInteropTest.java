package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.sas.SasEmoji;
import io.github.mxe2ee.sas.SasState;
import io.github.mxe2ee.sas.SasVerification;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Interop (issue 13, deliverable 6): SAS verification between mxe2ee's {@code OlmMachine} and
 * Element's Rust {@code OlmMachine} (matrix-sdk-crypto-wasm, {@link RustMachinePeer}), two devices
 * of one user (the bot verifying its operator's device), meeting only through an {@link
 * InMemoryRouter}. Both directions; emoji and decimals compared across implementations; both sides
 * end done and see each other verified; a mismatch, a tampered MAC and a tampered commitment each
 * end in the spec's cancel code on both sides. Skipped with a reason when the Node peer is not
 * installed.
 */
class SasRustInteropTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String USER = "@bot:localhost";
  private static final String RUST_DEVICE = "RUSTDEVICE";
  private static final String JAVA_DEVICE = "JAVADEVICE";

  /** Rounds of pump and sync on both sides: each verification step needs one. */
  private static final int SETTLE_ROUNDS = 4;

  private InMemoryRouter router;
  private RustMachinePeer rust;
  private JavaMachine java;

  @BeforeEach
  void connect() {
    router = new InMemoryRouter();
    router.registerDevice(USER, RUST_DEVICE);
    router.registerDevice(USER, JAVA_DEVICE);
    rust = RustMachinePeer.start(USER, RUST_DEVICE);
    java = JavaMachine.inMemory(USER, JAVA_DEVICE);
    rust.pump(router);
    java.pump(router);
    for (RoutedMachine m : List.<RoutedMachine>of(rust, java)) {
      m.sync(router);
      m.updateTrackedUsers(List.of(USER));
      m.pump(router);
    }
    assertTrue(java.machine().device(USER, RUST_DEVICE).isPresent(), "Java knows the Rust device");
    assertTrue(rust.device(USER, JAVA_DEVICE).path("found").asBoolean(), "Rust knows Java");
  }

  @AfterEach
  void close() {
    if (rust != null) {
      rust.close();
    }
    if (java != null) {
      java.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  private ObjectNode flowParams(String flowId) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", USER);
    p.put("flow_id", flowId);
    return p;
  }

  /** Calls a peer op that returns {@code requests} and sends them, after {@code tamper}. */
  private ObjectNode rustOp(String op, ObjectNode params, Consumer<ObjectNode> tamper) {
    ObjectNode result = rust.call(op, params);
    for (JsonNode r : result.path("requests")) {
      ObjectNode request = (ObjectNode) r;
      tamper.accept(request);
      rust.send(router, request);
    }
    return result;
  }

  private ObjectNode rustOp(String op, ObjectNode params) {
    return rustOp(op, params, r -> {});
  }

  /** Lets both machines send what they queued and receive what was sent to them. */
  private void settle() {
    for (int i = 0; i < SETTLE_ROUNDS; i++) {
      rust.pump(router);
      java.pump(router);
      rust.sync(router);
      java.sync(router);
    }
  }

  private ObjectNode rustState(String flowId) {
    return rust.call("verification.state", flowParams(flowId));
  }

  private SasVerification javaFlow(String flowId) {
    return java.machine().verifications().get(USER, flowId).orElseThrow();
  }

  /** The to-device content of a peer request addressed to the Java device. */
  private static ObjectNode contentOf(ObjectNode request) {
    return (ObjectNode) request.path("body").path("messages").path(USER).path(JAVA_DEVICE);
  }

  private static String flip(String base64) {
    return (base64.charAt(0) == 'A' ? "B" : "A") + base64.substring(1);
  }

  /** Asserts that both sides show the same seven emoji and the same three numbers. */
  private void assertSameSas(SasVerification j, ObjectNode rustSas) {
    assertTrue(rustSas.path("can_be_presented").asBoolean(), "Rust shows the SAS: " + rustSas);
    List<SasEmoji> javaEmoji = j.emoji().orElseThrow();
    ArrayNode rustEmoji = (ArrayNode) rustSas.get("emoji");
    assertEquals(7, rustEmoji.size());
    for (int i = 0; i < 7; i++) {
      JsonNode e = rustEmoji.get(i);
      assertEquals(e.get("index").asInt(), javaEmoji.get(i).index(), "emoji " + i);
      assertEquals(e.get("symbol").asText(), javaEmoji.get(i).symbol(), "emoji symbol " + i);
      assertEquals(e.get("description").asText(), javaEmoji.get(i).description(), "emoji " + i);
    }
    int[] javaDecimals = j.decimals().orElseThrow();
    for (int i = 0; i < 3; i++) {
      assertEquals(rustSas.get("decimals").get(i).asInt(), javaDecimals[i], "decimal " + i);
    }
  }

  /** Rust requested, Java readied, Rust started, Java accepted: the SAS is shown on both. */
  private String rustStartsUpToSas() {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", USER);
    p.put("device_id", JAVA_DEVICE);
    String flowId = rustOp("verification.request", p).get("flow_id").asText();
    settle();
    SasVerification j = javaFlow(flowId);
    assertEquals(SasState.REQUEST_RECEIVED, j.state());
    j.accept();
    settle();
    assertEquals("ready", rustState(flowId).path("request").path("phase").asText());
    rustOp("verification.start_sas", flowParams(flowId));
    settle();
    assertEquals(SasState.KEYS_EXCHANGED, j.state());
    assertFalse(j.weStarted(), "Rust's start counts");
    return flowId;
  }

  /** Java requested, Rust readied, Java started, Rust accepted (with {@code tamper}). */
  private String javaStartsUpToAccept(Consumer<ObjectNode> tamper) {
    SasVerification j = java.machine().startVerification(USER, RUST_DEVICE);
    String flowId = j.flowId();
    settle();
    assertEquals("requested", rustState(flowId).path("request").path("phase").asText());
    rustOp("verification.accept", flowParams(flowId));
    settle();
    assertEquals(SasState.STARTED, j.state(), "Java starts once Rust is ready");
    rustOp("sas.accept", flowParams(flowId), tamper);
    settle();
    return flowId;
  }

  private void assertBothVerified(String flowId) {
    SasVerification j = javaFlow(flowId);
    assertEquals(SasState.DONE, j.state());
    ObjectNode state = rustState(flowId);
    assertTrue(state.path("sas").path("is_done").asBoolean(), "Rust SAS done: " + state);
    assertTrue(state.path("request").path("is_done").asBoolean(), "Rust request done: " + state);
    assertEquals(
        LocalTrust.VERIFIED,
        java.machine().device(USER, RUST_DEVICE).orElseThrow().localTrust(),
        "Java marked the Rust device verified");
    assertEquals(
        rust.identityKeys().get("ed25519").asText(),
        j.verifiedKeys().orElseThrow().deviceKey().toBase64(),
        "Java verified the Rust device's Ed25519 key");
    ObjectNode seen = rust.device(USER, JAVA_DEVICE);
    assertTrue(seen.path("is_verified").asBoolean(), "Rust sees Java verified: " + seen);
  }

  // ---------------------------------------------------------------- scenarios

  @Test
  void rustStarts_javaAnswers_sameSas_bothDoneAndVerified() {
    String flowId = rustStartsUpToSas();
    SasVerification j = javaFlow(flowId);
    assertSameSas(j, (ObjectNode) rustState(flowId).get("sas"));
    j.confirm();
    settle();
    assertEquals(SasState.CONFIRMED, j.state(), "Java waits for Rust's MAC");
    rustOp("sas.confirm", flowParams(flowId));
    settle();
    assertBothVerified(flowId);
  }

  @Test
  void rustWithCrossSigning_itsMasterKeyMacIsVerifiedToo() {
    rust.bootstrapCrossSigning(router);
    java.sync(router);
    java.pump(router); // re-query our user: the new identity
    String flowId = rustStartsUpToSas();
    SasVerification j = javaFlow(flowId);
    j.confirm();
    rustOp("sas.confirm", flowParams(flowId));
    settle();
    assertBothVerified(flowId);
    assertNotNull(j.verifiedKeys().orElseThrow().masterKey(), "Rust's MAC covered its master key");
  }

  @Test
  void javaStarts_rustAnswers_sameSas_bothDoneAndVerified() {
    String flowId = javaStartsUpToAccept(r -> {});
    SasVerification j = javaFlow(flowId);
    assertEquals(SasState.KEYS_EXCHANGED, j.state());
    assertTrue(j.weStarted());
    assertSameSas(j, (ObjectNode) rustState(flowId).get("sas"));
    rustOp("sas.confirm", flowParams(flowId));
    settle();
    j.confirm();
    settle();
    assertBothVerified(flowId);
  }

  @Test
  void javaSaysMismatch_rustSeesMismatchedSas() {
    String flowId = rustStartsUpToSas();
    javaFlow(flowId).mismatch();
    settle();
    ObjectNode state = rustState(flowId);
    assertTrue(state.path("sas").path("is_cancelled").asBoolean(), "Rust SAS cancelled: " + state);
    JsonNode info = state.path("request").path("cancel_info");
    assertTrue(info.isObject(), "Rust reports the cancel: " + state);
    assertEquals("m.mismatched_sas", info.get("code").asText());
    assertFalse(info.get("cancelled_by_us").asBoolean());
    assertEquals(
        LocalTrust.UNSET, java.machine().device(USER, RUST_DEVICE).orElseThrow().localTrust());
    assertFalse(rust.device(USER, JAVA_DEVICE).path("is_verified").asBoolean());
  }

  @Test
  void rustSaysMismatch_javaSeesMismatchedSas() {
    String flowId = javaStartsUpToAccept(r -> {});
    ObjectNode p = flowParams(flowId);
    p.put("code", "m.mismatched_sas");
    rustOp("sas.cancel", p);
    settle();
    SasVerification j = javaFlow(flowId);
    assertEquals(SasState.CANCELLED, j.state());
    assertEquals("m.mismatched_sas", j.cancelInfo().orElseThrow().code());
    assertFalse(j.cancelInfo().orElseThrow().cancelledByUs());
    assertThrowsState(j);
  }

  @Test
  void tamperedRustMac_javaCancelsKeyMismatch_nothingVerified() {
    String flowId = rustStartsUpToSas();
    SasVerification j = javaFlow(flowId);
    j.confirm();
    settle();
    List<String> tampered = new ArrayList<>();
    rustOp(
        "sas.confirm",
        flowParams(flowId),
        r -> {
          if ("m.key.verification.mac".equals(r.path("event_type").asText())) {
            ObjectNode macs = (ObjectNode) contentOf(r).get("mac");
            String id = "ed25519:" + RUST_DEVICE;
            macs.put(id, flip(macs.get(id).asText()));
            tampered.add(id);
          }
        });
    assertEquals(1, tampered.size(), "Rust's confirm sent its MAC");
    settle();
    assertEquals(SasState.CANCELLED, j.state());
    assertEquals("m.key_mismatch", j.cancelInfo().orElseThrow().code());
    assertEquals(
        LocalTrust.UNSET, java.machine().device(USER, RUST_DEVICE).orElseThrow().localTrust());
    ObjectNode info = (ObjectNode) rustState(flowId).path("request").get("cancel_info");
    assertEquals("m.key_mismatch", info.get("code").asText(), "Rust learns why");
    assertFalse(rust.device(USER, JAVA_DEVICE).path("is_verified").asBoolean());
  }

  @Test
  void tamperedRustCommitment_javaCancelsMismatchedCommitment() {
    String flowId =
        javaStartsUpToAccept(
            r -> {
              ObjectNode c = contentOf(r);
              c.put("commitment", flip(c.get("commitment").asText()));
            });
    SasVerification j = javaFlow(flowId);
    assertEquals(SasState.CANCELLED, j.state());
    assertEquals("m.mismatched_commitment", j.cancelInfo().orElseThrow().code());
    assertTrue(j.emoji().isEmpty(), "no SAS for a broken commitment");
    ObjectNode info = (ObjectNode) rustState(flowId).path("request").get("cancel_info");
    assertEquals("m.mismatched_commitment", info.get("code").asText());
  }

  @Test
  void tamperedJavaMac_rustRefuses_andJavaLearnsTheCancel() {
    String flowId = rustStartsUpToSas();
    SasVerification j = javaFlow(flowId);
    j.confirm();
    // Tamper with Java's MAC on its way out: the router carries what the test hands it.
    for (var r : java.machine().outgoingRequests()) {
      ObjectNode described = JavaMachine.describe(r);
      if ("m.key.verification.mac".equals(described.path("event_type").asText())) {
        ObjectNode c =
            (ObjectNode) described.path("body").path("messages").path(USER).path(RUST_DEVICE);
        ObjectNode macs = (ObjectNode) c.get("mac");
        String id = "ed25519:" + JAVA_DEVICE;
        macs.put(id, flip(macs.get(id).asText()));
        router.route(USER, JAVA_DEVICE, described);
        java.machine().markRequestAsSent(r.requestId(), r.type(), MAPPER.createObjectNode());
      }
    }
    settle();
    rustOp("sas.confirm", flowParams(flowId));
    settle();
    ObjectNode state = rustState(flowId);
    JsonNode info = state.path("sas").path("cancel_info");
    assertTrue(info.isObject(), "Rust cancelled: " + state);
    assertTrue(info.get("cancelled_by_us").asBoolean(), "Rust found the bad MAC: " + state);
    // matrix-sdk-crypto reports a MAC that does not match as m.mismatched_sas.
    assertEquals("m.mismatched_sas", info.get("code").asText());
    assertEquals(SasState.CANCELLED, j.state());
    assertEquals("m.mismatched_sas", j.cancelInfo().orElseThrow().code());
    assertFalse(j.cancelInfo().orElseThrow().cancelledByUs());
    assertTrue(j.verifiedKeys().isEmpty(), "Java verified nothing either");
    assertFalse(rust.device(USER, JAVA_DEVICE).path("is_verified").asBoolean());
  }

  private static void assertThrowsState(SasVerification j) {
    try {
      j.confirm();
    } catch (IllegalStateException expected) {
      return;
    }
    throw new AssertionError("confirm() after a cancel must throw");
  }
}
