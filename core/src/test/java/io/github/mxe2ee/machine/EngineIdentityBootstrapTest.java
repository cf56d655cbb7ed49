package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.secrets.EncryptedSecret;
import io.github.mxe2ee.secrets.KeyDescription;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.github.mxe2ee.testing.InMemoryRouter;
import io.github.mxe2ee.testing.JavaMachine;
import io.github.mxe2ee.testing.RouterException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The identity bootstrap ({@link OlmMachine#bootstrapIdentity}) against the in-memory homeserver:
 * cross-signing keys on the server, their private keys in secret storage under the recovery key,
 * this device self-signed; idempotent, resumable after a crash between any two requests, and
 * restoring the same identity on a new device with the recovery key (docs/IDENTITY.md).
 */
class EngineIdentityBootstrapTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String BOT = "@bot:localhost";
  private static final int MAX_STEPS = 20;

  private final InMemoryRouter router = new InMemoryRouter();
  private final SecretStorageKey recoveryKey = SecretStorageKey.generate(new SecureRandom());
  private final List<JavaMachine> machines = new ArrayList<>();

  /** Every master key any run uploaded, in order (more than one would be a second identity). */
  private final Set<String> uploadedMasters = new LinkedHashSet<>();

  /** Every request type sent, in order, by the last {@link #run}. */
  private final List<RequestType> sent = new ArrayList<>();

  @AfterEach
  void closeAll() {
    machines.forEach(JavaMachine::close);
  }

  /** A device of the bot with uploaded device keys. */
  private JavaMachine device(String deviceId) {
    router.registerDevice(BOT, deviceId);
    JavaMachine m = JavaMachine.inMemory(BOT, deviceId);
    machines.add(m);
    m.pump(router);
    return m;
  }

  /** The process died: this request reached the server but its answer never came back. */
  private static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  private IdentityStep run(JavaMachine m, SecretStorageKey key) {
    return run(m, key, Integer.MAX_VALUE);
  }

  /**
   * Drives a bootstrap to its end, crashing after {@code crashAfter} requests reached the server.
   */
  private IdentityStep run(JavaMachine m, SecretStorageKey key, int crashAfter) {
    sent.clear();
    int served = 0;
    for (int i = 0; i < MAX_STEPS; i++) {
      IdentityStep step = m.machine().bootstrapIdentity(key);
      if (!(step instanceof IdentityStep.Send send)) {
        return step;
      }
      for (OutgoingRequest r : send.requests()) {
        sent.add(r.type());
        if (r.type() == RequestType.SIGNING_KEYS_UPLOAD) {
          uploadedMasters.add(onlyKey(r.body().path("master_key")));
        }
        ObjectNode response = null;
        RouterException error = null;
        try {
          response = router.route(m.userId(), m.deviceId(), r);
        } catch (RouterException e) {
          error = e;
        }
        if (++served >= crashAfter) {
          throw new Crash();
        }
        if (error != null) {
          ObjectNode body = MAPPER.createObjectNode().put("errcode", error.errcode());
          m.machine().markRequestAsFailed(r.requestId(), r.type(), error.status(), body);
        } else {
          m.machine().markRequestAsSent(r.requestId(), r.type(), response);
        }
      }
    }
    throw new AssertionError("bootstrap did not finish in " + MAX_STEPS + " steps");
  }

  private static String onlyKey(JsonNode crossSigningKey) {
    return crossSigningKey.path("keys").elements().next().asText();
  }

  private JsonNode serverKeys(JavaMachine asker) {
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("device_keys").putArray(BOT);
    return router.keysQuery(asker.userId(), asker.deviceId(), body);
  }

  /** The master key the server has for the bot (as another user sees it), or null. */
  private String serverMaster() {
    router.registerDevice("@observer:localhost", "OBS");
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("device_keys").putArray(BOT);
    JsonNode master = router.keysQuery("@observer:localhost", "OBS", body).path("master_keys");
    return master.has(BOT) ? onlyKey(master.get(BOT)) : null;
  }

  /** Asserts that secret storage holds, under {@code key}, exactly the server's three keys. */
  private void assertKeysInSecretStorage(JavaMachine asker, SecretStorageKey key) {
    String keyId = router.accountData(BOT, "m.secret_storage.default_key").get("key").asText();
    KeyDescription description =
        KeyDescription.fromJson(router.accountData(BOT, "m.secret_storage.key." + keyId));
    assertTrue(key.matches(description), "the default key is the recovery key");
    JsonNode server = serverKeys(asker);
    String[][] pairs = {
      {"m.cross_signing.master", "master_keys"},
      {"m.cross_signing.self_signing", "self_signing_keys"},
      {"m.cross_signing.user_signing", "user_signing_keys"}
    };
    for (String[] pair : pairs) {
      JsonNode encrypted = router.accountData(BOT, pair[0]).path("encrypted").get(keyId);
      byte[] plain = key.decrypt(pair[0], EncryptedSecret.fromJson(encrypted));
      Ed25519PublicKey pub =
          Ed25519SecretKey.fromSeed(
                  UnpaddedBase64.decode(new String(plain, StandardCharsets.UTF_8)))
              .publicKey();
      assertEquals(onlyKey(server.path(pair[1]).path(BOT)), pub.toBase64(), pair[0]);
    }
  }

  /** Asserts that the server shows {@code m}'s device signed by the bot's self-signing key. */
  private void assertDeviceSigned(JavaMachine m) {
    JsonNode server = serverKeys(m);
    String ssk = onlyKey(server.path("self_signing_keys").path(BOT));
    DeviceKeys device = DeviceKeys.parse(server.path("device_keys").path(BOT).path(m.deviceId()));
    assertTrue(
        device.isSignedBy(BOT, "ed25519:" + ssk, Ed25519PublicKey.fromBase64(ssk)),
        m.deviceId() + " is signed by the self-signing key");
  }

  @Test
  void firstStart_publishesIdentity_storesPrivateKeysIn4S_andSignsTheDevice() {
    JavaMachine bot = device("BOTDEVICE");
    IdentityStep.Done done = assertInstanceOf(IdentityStep.Done.class, run(bot, recoveryKey));
    assertEquals(IdentityStep.Source.CREATED, done.source());
    assertEquals(done.masterKey(), serverMaster());
    assertKeysInSecretStorage(bot, recoveryKey);
    assertDeviceSigned(bot);
    assertTrue(bot.machine().hasCrossSigningKeys());
    // The order that makes a crash harmless: 4S written before the public keys are published.
    int lastPut = sent.lastIndexOf(RequestType.ACCOUNT_DATA_PUT);
    assertTrue(lastPut < sent.indexOf(RequestType.SIGNING_KEYS_UPLOAD), sent.toString());
    assertTrue(
        sent.indexOf(RequestType.SIGNING_KEYS_UPLOAD) < sent.indexOf(RequestType.SIGNATURE_UPLOAD));
    // The machine's own view after it re-queried itself: signed by an identity it holds.
    bot.pump(router);
    assertEquals(
        io.github.mxe2ee.device.DeviceTrust.CROSS_SIGNED_VERIFIED,
        bot.machine().device(BOT, "BOTDEVICE").orElseThrow().trust());
  }

  @Test
  void restart_keepsTheSameIdentity_andWritesNothing() {
    JavaMachine bot = device("BOTDEVICE");
    IdentityStep.Done first = (IdentityStep.Done) run(bot, recoveryKey);
    bot.reopen();
    IdentityStep.Done second = assertInstanceOf(IdentityStep.Done.class, run(bot, recoveryKey));
    assertEquals(first.masterKey(), second.masterKey());
    assertEquals(IdentityStep.Source.STORE, second.source());
    assertEquals(
        Set.of(RequestType.KEYS_QUERY, RequestType.ACCOUNT_DATA_GET),
        Set.copyOf(sent),
        "a restart only reads: " + sent);
    assertEquals(1, uploadedMasters.size());
  }

  @Test
  void crashBetweenAnyTwoRequests_thenRestart_leavesOneIdentityWithItsKeysIn4S() {
    int total = countRequestsOfAFullRun();
    for (int crashAfter = 1; crashAfter <= total; crashAfter++) {
      for (boolean storeLost : new boolean[] {false, true}) {
        EngineIdentityBootstrapTest fresh = new EngineIdentityBootstrapTest();
        try {
          fresh.crashThenResume(crashAfter, storeLost);
        } finally {
          fresh.closeAll();
        }
      }
    }
  }

  private int countRequestsOfAFullRun() {
    JavaMachine bot = device("COUNTING");
    run(bot, recoveryKey);
    return sent.size();
  }

  /**
   * On this (fresh) test's homeserver: crashes after {@code crashAfter} requests (the last answer
   * lost), then restarts on the same store or, with {@code storeLost}, as a new device with an
   * empty store and the same recovery key; the restart must finish with one identity in 4S.
   */
  private void crashThenResume(int crashAfter, boolean storeLost) {
    String where = "crash after request " + crashAfter + (storeLost ? ", store lost" : "");
    JavaMachine first = device("FIRST");
    try {
      run(first, recoveryKey, crashAfter);
    } catch (Crash expected) {
      // the process died here
    }
    JavaMachine next = first;
    if (storeLost) {
      next = device("SECOND");
    } else {
      first.reopen();
    }
    IdentityStep.Done done =
        assertInstanceOf(IdentityStep.Done.class, run(next, recoveryKey), where);
    assertEquals(1, uploadedMasters.size(), where + ": one identity " + uploadedMasters);
    assertEquals(uploadedMasters.iterator().next(), done.masterKey(), where);
    assertEquals(done.masterKey(), serverMaster(), where);
    assertKeysInSecretStorage(next, recoveryKey);
    assertDeviceSigned(next);
  }

  @Test
  void lostStore_withTheRecoveryKey_restoresTheSameIdentity_andSignsTheNewDevice() {
    JavaMachine old = device("OLDDEVICE");
    IdentityStep.Done created = (IdentityStep.Done) run(old, recoveryKey);
    JavaMachine fresh = device("NEWDEVICE");
    IdentityStep.Done restored = assertInstanceOf(IdentityStep.Done.class, run(fresh, recoveryKey));
    assertEquals(IdentityStep.Source.RESTORED, restored.source());
    assertEquals(created.masterKey(), restored.masterKey());
    assertEquals(created.masterKey(), serverMaster());
    assertFalse(sent.contains(RequestType.SIGNING_KEYS_UPLOAD), "nothing re-published: " + sent);
    assertFalse(sent.contains(RequestType.ACCOUNT_DATA_PUT), "4S untouched: " + sent);
    assertDeviceSigned(fresh);
    assertEquals(1, uploadedMasters.size());
  }

  @Test
  void lostStore_withAnotherRecoveryKey_isRefused_andOverwritesNothing() {
    JavaMachine old = device("OLDDEVICE");
    IdentityStep.Done created = (IdentityStep.Done) run(old, recoveryKey);
    ObjectNode defaultKey = router.accountData(BOT, "m.secret_storage.default_key");
    JavaMachine fresh = device("NEWDEVICE");
    SecretStorageKey wrong = SecretStorageKey.generate(new SecureRandom());
    IdentityStep.Refused refused = assertInstanceOf(IdentityStep.Refused.class, run(fresh, wrong));
    assertTrue(refused.reason().contains("recovery key does not open"), refused.reason());
    assertEquals(List.of(RequestType.KEYS_QUERY), sent.subList(0, 1));
    assertFalse(sent.contains(RequestType.ACCOUNT_DATA_PUT), sent.toString());
    assertFalse(sent.contains(RequestType.SIGNING_KEYS_UPLOAD), sent.toString());
    assertEquals(created.masterKey(), serverMaster());
    assertEquals(defaultKey, router.accountData(BOT, "m.secret_storage.default_key"));
    assertFalse(fresh.machine().hasCrossSigningKeys());
  }

  @Test
  void serverHasAnotherMasterKey_andNo4S_isRefused_notOverwritten() {
    // Someone else published an identity for the bot (say, Element with the bot's password) and
    // kept no secret storage this recovery key opens: the bot must not replace it.
    JavaMachine element = device("ELEMENT");
    for (OutgoingRequest r : element.machine().bootstrapCrossSigning()) {
      element.send(router, r);
    }
    String theirs = serverMaster();
    assertNotNull(theirs);
    JavaMachine bot = device("BOTDEVICE");
    IdentityStep.Refused refused =
        assertInstanceOf(IdentityStep.Refused.class, run(bot, recoveryKey));
    assertTrue(refused.reason().contains("already has a cross-signing identity"), refused.reason());
    assertTrue(refused.reason().contains(theirs), "names the server's master key");
    assertEquals(theirs, serverMaster());
    assertFalse(sent.contains(RequestType.ACCOUNT_DATA_PUT), sent.toString());
    assertFalse(sent.contains(RequestType.SIGNING_KEYS_UPLOAD), sent.toString());
    assertNull(router.accountData(BOT, "m.secret_storage.default_key"));
  }

  @Test
  void tamperedSecretIn4S_isRewrittenFromTheStore() {
    JavaMachine bot = device("BOTDEVICE");
    run(bot, recoveryKey);
    ObjectNode master = router.accountData(BOT, "m.cross_signing.master");
    ObjectNode entry = (ObjectNode) master.path("encrypted").elements().next();
    byte[] ct = UnpaddedBase64.decode(entry.get("ciphertext").asText());
    ct[0] ^= 1;
    entry.put("ciphertext", UnpaddedBase64.encode(ct));
    router.putAccountData(BOT, "m.cross_signing.master", master);
    bot.reopen();
    assertInstanceOf(IdentityStep.Done.class, run(bot, recoveryKey));
    assertEquals(List.of(RequestType.ACCOUNT_DATA_PUT), onlyWrites(), "one secret rewritten");
    assertKeysInSecretStorage(bot, recoveryKey);
  }

  private List<RequestType> onlyWrites() {
    return sent.stream()
        .filter(t -> t != RequestType.KEYS_QUERY && t != RequestType.ACCOUNT_DATA_GET)
        .toList();
  }

  @Test
  void noPrivateKeyOrRecoveryKey_inAnyStepOrRequestText() {
    JavaMachine bot = device("BOTDEVICE");
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < MAX_STEPS; i++) {
      IdentityStep step = bot.machine().bootstrapIdentity(recoveryKey);
      texts.add(step.toString());
      if (!(step instanceof IdentityStep.Send send)) {
        break;
      }
      for (OutgoingRequest r : send.requests()) {
        texts.add(r.toString());
        try {
          bot.machine()
              .markRequestAsSent(r.requestId(), r.type(), router.route(BOT, "BOTDEVICE", r));
        } catch (RouterException e) {
          bot.machine()
              .markRequestAsFailed(r.requestId(), r.type(), e.status(), MAPPER.createObjectNode());
        }
      }
    }
    texts.add(recoveryKey.toString());
    List<String> secrets = new ArrayList<>();
    secrets.add(recoveryKey.exposeForPerson());
    secrets.add(recoveryKey.exposeForPerson().replace(" ", ""));
    secrets.add(UnpaddedBase64.encode(recoveryKey.exposeSecretBytes()));
    for (io.github.mxe2ee.device.KeyUsage u : io.github.mxe2ee.device.KeyUsage.values()) {
      secrets.add(UnpaddedBase64.encode(privateKey(bot, u)));
    }
    for (String text : texts) {
      for (String secret : secrets) {
        assertFalse(text.contains(secret), "a secret in: " + text);
      }
    }
  }

  /** Reads a private key back out of the 4S secret (the test's only way to see it). */
  private byte[] privateKey(JavaMachine bot, io.github.mxe2ee.device.KeyUsage usage) {
    String name = IdentitySetup.SECRET_NAMES.get(usage);
    String keyId = router.accountData(BOT, "m.secret_storage.default_key").get("key").asText();
    byte[] plain =
        recoveryKey.decrypt(
            name,
            EncryptedSecret.fromJson(router.accountData(BOT, name).path("encrypted").get(keyId)));
    return UnpaddedBase64.decode(new String(plain, StandardCharsets.UTF_8));
  }
}
