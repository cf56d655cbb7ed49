package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.sas.SasState;
import io.github.mxe2ee.sas.SasVerification;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a successful SAS verification leaves on the server (issue 13, item 4): the verifying side
 * signs what it verified with its cross-signing keys, so that other devices and users see it. An
 * own device is signed with the self-signing key; another user's master key with the user-signing
 * key. Machines of two users through the {@link InMemoryRouter}, which checks every signature it is
 * given.
 */
class SasSigningThroughRouterTest {
  private static final String BOT = "@bot:localhost";
  private static final String ALICE = "@alice:localhost";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final InMemoryRouter router = new InMemoryRouter();
  private final List<JavaMachine> machines = new java.util.ArrayList<>();

  @AfterEach
  void close() {
    machines.forEach(JavaMachine::close);
  }

  private JavaMachine device(String user, String id) {
    router.registerDevice(user, id);
    JavaMachine m = JavaMachine.inMemory(user, id);
    machines.add(m);
    m.pump(router);
    return m;
  }

  private void settle() {
    for (int i = 0; i < 8; i++) {
      for (JavaMachine m : machines) {
        m.pump(router);
        m.sync(router);
      }
    }
  }

  /** Runs a SAS from {@code a} to {@code b}'s device, both confirming, until both are done. */
  private void verify(JavaMachine a, JavaMachine b) {
    SasVerification mine = a.machine().startVerification(b.userId(), b.deviceId());
    settle();
    SasVerification theirs =
        b.machine().verifications().get(a.userId(), mine.flowId()).orElseThrow();
    theirs.accept();
    settle();
    assertEquals(SasState.KEYS_EXCHANGED, mine.state());
    mine.confirm();
    theirs.confirm();
    settle();
    assertEquals(SasState.DONE, mine.state());
    assertEquals(SasState.DONE, theirs.state());
  }

  /** Puts both users in one room, so each hears of the other's key changes. */
  private void shareRoom() {
    router.joinRoom("!room:localhost", BOT);
    router.joinRoom("!room:localhost", ALICE);
  }

  /** A {@code /keys/query} for {@code user} as {@code asker} sees it on the server. */
  private JsonNode query(JavaMachine asker, String user) {
    ObjectNode request = MAPPER.createObjectNode();
    request.put("type", "keys_query");
    request.putObject("body").putObject("device_keys").putArray(user);
    return router.route(asker.userId(), asker.deviceId(), request);
  }

  @Test
  void sasVerifiedOwnDevice_isSignedWithTheSelfSigningKey_forEveryoneToSee() {
    JavaMachine one = device(BOT, "ONE");
    JavaMachine two = device(BOT, "TWO");
    JavaMachine alice = device(ALICE, "A");
    one.bootstrapCrossSigning(router);
    shareRoom();
    for (JavaMachine m : machines) {
      m.updateTrackedUsers(List.of(BOT));
    }
    settle();
    assertEquals("unverified", alice.device(BOT, "TWO").path("trust").asText());

    verify(one, two);

    JsonNode signatures =
        query(alice, BOT).path("device_keys").path(BOT).path("TWO").path("signatures").path(BOT);
    assertEquals(
        2, signatures.size(), "TWO's own signature and the self-signing key's: " + signatures);
    settle();
    assertTrue(
        alice.device(BOT, "TWO").path("is_cross_signed_by_owner").asBoolean(),
        "another user sees TWO signed by its owner: " + alice.device(BOT, "TWO"));
  }

  @Test
  void sasVerifiedOtherUser_hasItsMasterKeySignedWithTheUserSigningKey() {
    JavaMachine bot = device(BOT, "ONE");
    JavaMachine bot2 = device(BOT, "TWO");
    JavaMachine alice = device(ALICE, "A");
    bot.bootstrapCrossSigning(router);
    alice.bootstrapCrossSigning(router);
    shareRoom();
    for (JavaMachine m : machines) {
      m.updateTrackedUsers(List.of(BOT, ALICE));
    }
    settle();
    bot.verifyOwnDevice(router, "TWO");
    settle();
    assertEquals(
        "cross_signed",
        alice.device(BOT, "TWO").path("trust").asText(),
        "signed, owner unverified");

    verify(alice, bot);

    JsonNode master = query(alice, BOT).path("master_keys").path(BOT);
    JsonNode aliceSigned = master.path("signatures").path(ALICE);
    assertFalse(aliceSigned.isMissingNode(), "alice's user-signing key signed the bot: " + master);
    assertEquals(
        "cross_signed_verified",
        alice.device(BOT, "TWO").path("trust").asText(),
        "the bot's other device is now verified through the bot's verified identity");
    JsonNode aliceMaster = query(bot, ALICE).path("master_keys").path(ALICE);
    assertFalse(
        aliceMaster.path("signatures").path(BOT).isMissingNode(),
        "and the bot signed alice's master key: " + aliceMaster);
  }
}
