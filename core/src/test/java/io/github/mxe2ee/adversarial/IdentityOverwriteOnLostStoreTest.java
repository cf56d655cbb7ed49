package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.MachineLimits;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.testing.InMemoryRouter;
import io.github.mxe2ee.testing.JavaMachine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Careless operator (issue 10, item 4): a bot restarted with its old device id but a lost or new
 * store used to upload a brand-new identity over its device on the server, silently: every peer
 * then saw the device's keys change under the same id (or refused it), and sessions and
 * verifications made with the old keys broke. Now the first request of an account the server has
 * not confirmed is a {@code /keys/query} for our own user, device keys are uploaded only after its
 * answer shows no other keys for our device, and a conflict stops the machine with a message that
 * says what happened and what to do. The server's keys stay as they were.
 */
class IdentityOverwriteOnLostStoreTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String BOT = "@bot:localhost";
  private static final String DEVICE = "BOTDEVICE";

  @TempDir Path dir;

  private final InMemoryRouter router = new InMemoryRouter();
  private final FloodBot.MovableClock clock = new FloodBot.MovableClock(System.currentTimeMillis());
  private final List<JavaMachine> machines = new ArrayList<>();

  @AfterEach
  void closeAll() {
    machines.forEach(JavaMachine::close);
  }

  private JavaMachine fresh() {
    JavaMachine m = JavaMachine.inMemory(JavaMachine.config(BOT, DEVICE).withClock(clock));
    machines.add(m);
    return m;
  }

  /** The device keys the server lists for our device now, or a missing node. */
  private JsonNode serverKeys() {
    router.registerDevice("@observer:localhost", "OBSERVER");
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("device_keys").putArray(BOT);
    return router
        .keysQuery("@observer:localhost", "OBSERVER", body)
        .path("device_keys")
        .path(BOT)
        .path(DEVICE)
        .path("keys");
  }

  private static void assertConflictMessage(Mxe2eeException e) {
    String m = e.getMessage();
    assertEquals("identity_conflict", e.kind(), m);
    assertTrue(m.contains(BOT) && m.contains(DEVICE), m);
    assertTrue(m.contains("other keys"), "says what happened: " + m);
    assertTrue(m.contains("new device id"), "says what to do: " + m);
    assertTrue(m.contains("restore"), "or restore the store: " + m);
  }

  @Test
  void lostStore_sameDeviceId_isRefusedBeforeUploading_andServerKeysStay() {
    router.registerDevice(BOT, DEVICE);
    JavaMachine first = fresh();
    first.pump(router);
    JsonNode original = serverKeys();
    assertEquals(
        first.identityKeys().path("ed25519").asText(), original.path("ed25519:" + DEVICE).asText());

    // The store is lost (or a new one configured); the bot logs in again with the same device id.
    JavaMachine second = fresh();
    Mxe2eeException e = assertThrows(Mxe2eeException.class, () -> second.pump(router));
    assertConflictMessage(e);
    assertEquals(original, serverKeys(), "the server's keys for the device are unchanged");
    // It stays refused: nothing goes out with the new identity.
    Mxe2eeException again =
        assertThrows(Mxe2eeException.class, () -> second.machine().outgoingRequests());
    assertEquals("identity_conflict", again.kind());
    assertEquals(original, serverKeys());
  }

  @Test
  void freshAccount_firstRequestIsOwnKeysQuery_andUploadWaitsForItsAnswer() {
    router.registerDevice(BOT, DEVICE);
    JavaMachine m = fresh();
    List<OutgoingRequest> firstRound = m.machine().outgoingRequests();
    assertTrue(
        firstRound.stream().noneMatch(r -> r.type() == RequestType.KEYS_UPLOAD),
        "no upload before the server's keys for our device are known: " + firstRound);
    OutgoingRequest query =
        firstRound.stream()
            .filter(r -> r.type() == RequestType.KEYS_QUERY)
            .findFirst()
            .orElseThrow();
    assertTrue(query.body().path("device_keys").has(BOT), query.body().toString());
    // The same round again (no answer yet): still no upload.
    assertTrue(
        m.machine().outgoingRequests().stream()
            .noneMatch(r -> r.type() == RequestType.KEYS_UPLOAD));
    // A failed query proves nothing: still no upload, and the query is retried.
    m.machine().markRequestAsFailed(query.requestId(), RequestType.KEYS_QUERY, 502, null);
    clock.advance(MachineLimits.DEFAULT.retryBackoffBase().toMillis() + 1);
    List<OutgoingRequest> retry = m.machine().outgoingRequests();
    assertTrue(
        retry.stream().noneMatch(r -> r.type() == RequestType.KEYS_UPLOAD), retry.toString());
    assertTrue(retry.stream().anyMatch(r -> r.type() == RequestType.KEYS_QUERY), retry.toString());
    // Answered with no keys for our device: the upload follows, and the device is on the server.
    m.pump(router);
    assertEquals(
        m.identityKeys().path("ed25519").asText(), serverKeys().path("ed25519:" + DEVICE).asText());
  }

  @Test
  void crashAfterUploadBeforeSave_sameKeysOnServer_isNoConflict() {
    router.registerDevice(BOT, DEVICE);
    MachineConfig config = JavaMachine.config(BOT, DEVICE);
    JavaMachine m = JavaMachine.sqlite(config, dir.resolve("bot.db"));
    machines.add(m);
    // Query answered, then the upload reaches the server but the process dies before its answer
    // is saved: the store still says "not shared".
    for (int round = 0; round < 5; round++) {
      List<OutgoingRequest> out = m.machine().outgoingRequests();
      OutgoingRequest upload =
          out.stream().filter(r -> r.type() == RequestType.KEYS_UPLOAD).findFirst().orElse(null);
      if (upload != null) {
        router.route(BOT, DEVICE, upload);
        break;
      }
      out.forEach(r -> m.send(router, r));
    }
    String ed = m.identityKeys().path("ed25519").asText();
    assertEquals(ed, serverKeys().path("ed25519:" + DEVICE).asText());
    m.reopen();
    m.pump(router);
    assertEquals(ed, serverKeys().path("ed25519:" + DEVICE).asText());
  }

  @Test
  void deviceOverwrittenOnServerWhileRunning_isDetectedAtTheNextOwnQuery() {
    router.registerDevice(BOT, DEVICE);
    JavaMachine running = fresh();
    running.pump(router);
    running.sync(router);
    running.pump(router);
    JsonNode ours = serverKeys();

    // An old-version process with a lost store uploads a new identity for the same device id: its
    // upload body is made on a server that does not know the device yet, then replayed here.
    InMemoryRouter elsewhere = new InMemoryRouter();
    elsewhere.registerDevice(BOT, DEVICE);
    JavaMachine impostor = fresh();
    ObjectNode upload =
        (ObjectNode)
            impostor.pump(elsewhere).stream()
                .filter(r -> "keys_upload".equals(r.path("type").asText()))
                .findFirst()
                .orElseThrow()
                .path("body");
    // Only the device keys: its one-time key ids clash with ours and are refused, as on Synapse.
    ObjectNode deviceKeysOnly = MAPPER.createObjectNode();
    deviceKeysOnly.set("device_keys", upload.path("device_keys").deepCopy());
    router.keysUpload(BOT, DEVICE, deviceKeysOnly);
    assertFalse(ours.equals(serverKeys()));

    running.sync(router); // device_lists.changed names our own user
    Mxe2eeException e = assertThrows(Mxe2eeException.class, () -> running.pump(router));
    assertConflictMessage(e);
  }
}
