package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.secrets.EncryptedSecret;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.github.mxe2ee.testing.JavaMachine;
import io.github.mxe2ee.testing.RouterException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Key backup on by default ({@link OlmMachine#bootstrapKeyBackup}, docs/KEY_BACKUP.md) against the
 * in-memory homeserver: Bob (the bot) has an identity and a recovery key; the backup version it
 * creates is signed by its device and master key and its key is in 4S; restarts and crashes never
 * make a second version; versions it cannot trust are never uploaded to; a lost store restores the
 * room keys from the backup, in the background and for a missing session on demand.
 */
class EngineKeyBackupBootstrapTest extends EngineFixture {
  private static final int MAX_STEPS = 20;

  private final SecretStorageKey recoveryKey = SecretStorageKey.generate(new SecureRandom());

  /** Request types sent by the last {@link #drive}. */
  private final List<RequestType> sent = new ArrayList<>();

  /** The process died: this request reached the server, its answer never came back. */
  private static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  /**
   * Drives a bootstrap ({@code next} returns its steps) to its end, or crashes after N requests.
   */
  private Object drive(JavaMachine m, Supplier<Object> next, int crashAfter) {
    sent.clear();
    int served = 0;
    for (int i = 0; i < MAX_STEPS; i++) {
      Object step = next.get();
      List<OutgoingRequest> requests;
      if (step instanceof IdentityStep.Send s) {
        requests = s.requests();
      } else if (step instanceof BackupStep.Send s) {
        requests = s.requests();
      } else {
        return step;
      }
      for (OutgoingRequest r : requests) {
        sent.add(r.type());
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

  private IdentityStep identity(JavaMachine m) {
    return (IdentityStep) drive(m, () -> m.machine().bootstrapIdentity(recoveryKey), 1 << 30);
  }

  private BackupStep backup(JavaMachine m) {
    return backup(m, 1 << 30);
  }

  private BackupStep backup(JavaMachine m, int crashAfter) {
    return (BackupStep) drive(m, () -> m.machine().bootstrapKeyBackup(recoveryKey), crashAfter);
  }

  /** Bob's identity on the server, his device signed; then backup on. */
  private BackupStep.Enabled setUp(JavaMachine m) {
    assertInstanceOf(IdentityStep.Done.class, identity(m));
    m.pump(router);
    return assertInstanceOf(BackupStep.Enabled.class, backup(m));
  }

  private String master() {
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("device_keys").putArray(BOB);
    JsonNode master = router.keysQuery(ALICE, "ALICEDEVICE", body).path("master_keys").path(BOB);
    return master.path("keys").elements().next().asText();
  }

  /** The backup key in Bob's 4S, decrypted with the recovery key. */
  private BackupDecryptionKey keyIn4S() {
    String keyId = router.accountData(BOB, "m.secret_storage.default_key").get("key").asText();
    JsonNode entry = router.accountData(BOB, "m.megolm_backup.v1").path("encrypted").get(keyId);
    byte[] plain = recoveryKey.decrypt("m.megolm_backup.v1", EncryptedSecret.fromJson(entry));
    return BackupDecryptionKey.fromBytes(
        UnpaddedBase64.decode(new String(plain, StandardCharsets.UTF_8)));
  }

  private static long count(List<ObjectNode> sent, String type) {
    return sent.stream().filter(r -> r.path("type").asText().equals(type)).count();
  }

  @Test
  void firstStart_createsOneVersion_signedByDeviceAndMaster_keyIn4S_andUploadsRoomKeys() {
    BackupStep.Enabled enabled = setUp(bob);
    assertTrue(enabled.created());
    assertEquals(Optional.of(enabled.version()), bob.machine().keyBackupVersion());
    // The order that makes a crash harmless: the key is in 4S before the version exists.
    assertTrue(
        sent.indexOf(RequestType.ACCOUNT_DATA_PUT)
            < sent.indexOf(RequestType.BACKUP_VERSION_CREATE),
        sent.toString());

    ObjectNode version = router.keyBackupVersion(BOB);
    assertEquals("m.megolm_backup.v1.curve25519-aes-sha2", version.get("algorithm").asText());
    ObjectNode authData = (ObjectNode) version.get("auth_data");
    String master = master();
    assertTrue(
        JsonSigning.verify(authData, BOB, "ed25519:" + master, Ed25519PublicKey.fromBase64(master)),
        "signed by the master key: " + authData);
    assertTrue(
        JsonSigning.verify(
            authData, BOB, "ed25519:BOBDEVICE", bob.machine().deviceKeys().ed25519()),
        "signed by the device");
    BackupDecryptionKey key = keyIn4S();
    assertEquals(key.encryptionKey().publicKey().toBase64(), authData.get("public_key").asText());

    share(alice);
    ObjectNode event = send(alice, "backed up");
    bob.sync(router);
    assertEquals(1, count(bob.pump(router), "keys_backup"));
    JsonNode data =
        router.roomKeys(BOB, enabled.version()).path("rooms").path(ROOM).path("sessions");
    assertNotNull(data.get(sessionId(event)), "the room key is in the backup");
    assertEquals(0, count(bob.pump(router), "backup_keys_get"), "a new backup: nothing to restore");
  }

  @Test
  void restart_usesTheSameVersion_andWritesNothing() {
    String version = setUp(bob).version();
    bob.reopen();
    BackupStep.Enabled again = assertInstanceOf(BackupStep.Enabled.class, backup(bob));
    assertEquals(version, again.version());
    assertFalse(again.created());
    assertTrue(
        sent.stream()
            .allMatch(
                t -> t == RequestType.BACKUP_VERSION_GET || t == RequestType.ACCOUNT_DATA_GET),
        "a restart only reads: " + sent);
    assertEquals(1, router.keyBackupVersionsCreated());
  }

  @Test
  void crashBetweenAnyTwoRequests_neverTwoVersions_andTheVersionsKeyIsIn4S() {
    assertInstanceOf(IdentityStep.Done.class, identity(bob));
    bob.pump(router);
    String base = router.keyBackupVersion(BOB) == null ? null : "unexpected";
    assertEquals(null, base);
    // A full run sends 3 reads, 1 read, the 4S write and the creation: crash after each.
    for (int crashAfter = 1; crashAfter <= 6; crashAfter++) {
      for (boolean storeLost : new boolean[] {false, true}) {
        String where = "crash after request " + crashAfter + (storeLost ? ", store lost" : "");
        EngineKeyBackupBootstrapTest fresh = new EngineKeyBackupBootstrapTest();
        fresh.connect();
        try {
          fresh.crashThenResume(crashAfter, storeLost, where);
        } finally {
          fresh.closeAll();
        }
      }
    }
  }

  private void crashThenResume(int crashAfter, boolean storeLost, String where) {
    assertInstanceOf(IdentityStep.Done.class, identity(bob));
    bob.pump(router);
    try {
      backup(bob, crashAfter);
    } catch (Crash expected) {
      // the process died here
    }
    JavaMachine next = bob;
    if (storeLost) {
      next = loggedIn(BOB, "BOBNEW");
      assertInstanceOf(IdentityStep.Done.class, identity(next), where);
      next.pump(router);
    } else {
      bob.reopen();
    }
    BackupStep.Enabled enabled = assertInstanceOf(BackupStep.Enabled.class, backup(next), where);
    assertEquals(1, router.keyBackupVersionsCreated(), where + ": one version");
    assertEquals(
        keyIn4S().encryptionKey().publicKey().toBase64(),
        router.keyBackupVersion(BOB).path("auth_data").path("public_key").asText(),
        where + ": the version's key is in 4S");
    assertEquals(Optional.of(enabled.version()), next.machine().keyBackupVersion(), where);
  }

  @Test
  void aVersionNotSignedByUs_isNotUploadedTo_evenWithOurPublicKey() {
    setUp(bob);
    // Anyone with the account's access token can post a version; the public key is public.
    router.createKeyBackupVersion(BOB, keyIn4S().encryptionKey().authData());
    BackupStep.Disabled off = assertInstanceOf(BackupStep.Disabled.class, backup(bob));
    assertTrue(off.reason().contains("not signed"), off.reason());
    assertEquals(Optional.empty(), bob.machine().keyBackupVersion());
    assertEquals(2, router.keyBackupVersionsCreated(), "nothing replaced");
    share(alice);
    send(alice, "not for them");
    bob.sync(router);
    assertEquals(0, count(bob.pump(router), "keys_backup"));
  }

  @Test
  void aVersionSignedByUs_whoseKeyIsNotTheOneIn4S_isNotUploadedTo() {
    String version = setUp(bob).version();
    // Secret storage now holds another backup key (written by another client of Bob's): the
    // signed version's key is no longer the one Bob's recovery key restores, so backing up to it
    // would make keys nobody can restore.
    BackupDecryptionKey other = BackupDecryptionKey.generate(new SecureRandom());
    String keyId = router.accountData(BOB, "m.secret_storage.default_key").get("key").asText();
    ObjectNode content = MAPPER.createObjectNode();
    content
        .putObject("encrypted")
        .set(
            keyId,
            recoveryKey
                .encrypt(
                    "m.megolm_backup.v1",
                    UnpaddedBase64.encode(other.exposeSecretBytes())
                        .getBytes(StandardCharsets.UTF_8),
                    new SecureRandom())
                .toJson());
    router.putAccountData(BOB, "m.megolm_backup.v1", content);
    BackupStep.Disabled off = assertInstanceOf(BackupStep.Disabled.class, backup(bob));
    assertTrue(off.reason().contains("not the backup key in secret storage"), off.reason());
    assertTrue(off.reason().contains(version), off.reason());
    assertEquals(Optional.empty(), bob.machine().keyBackupVersion(), "the old version is off too");
    assertEquals(1, router.keyBackupVersionsCreated(), "nothing replaced");
  }

  @Test
  void lostStore_restoresRoomKeysFromTheBackup_inTheBackground_andForAMissingSession() {
    setUp(bob);
    share(alice);
    ObjectNode before = send(alice, "sent before the loss");
    bob.sync(router);
    bob.pump(router);

    // Bob's store is lost; a new device with the same recovery key.
    JavaMachine restored = loggedIn(BOB, "BOBRESTORED");
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, restored.machine().decryptRoomEvent(ROOM, before));
    assertInstanceOf(IdentityStep.Done.class, identity(restored));
    restored.pump(router);
    BackupStep.Enabled enabled = assertInstanceOf(BackupStep.Enabled.class, backup(restored));
    assertFalse(enabled.created());
    List<ObjectNode> pumped = restored.pump(router);
    assertEquals(1, count(pumped, "backup_keys_get"), "one full restore");
    DecryptionResult.Decrypted old =
        assertInstanceOf(
            DecryptionResult.Decrypted.class, restored.machine().decryptRoomEvent(ROOM, before));
    assertEquals("sent before the loss", old.content().path("body").asText());
    assertFalse(old.authenticated(), "a backup proves nothing about the sender");
    assertEquals(1, restored.machine().roomKeysRestoredFromBackup());
    assertEquals(0, count(restored.pump(router), "keys_backup"), "not uploaded back");

    // Later, Bob's first device (still running somewhere) backs up a session the restored device
    // never received: decrypting its event looks the session up in the backup.
    alice.machine().invalidateGroupSession(ROOM);
    alice.shareRoomKey(
        router, ROOM, List.of(ALICE, BOB), null); // devices Alice knows: not the new one
    ObjectNode later = send(alice, "only in the backup");
    bob.sync(router);
    bob.pump(router);
    restored.sync(router);
    DecryptionResult first = restored.machine().decryptRoomEvent(ROOM, later);
    if (first instanceof DecryptionResult.UnableToDecrypt) {
      List<ObjectNode> lookups = restored.pump(router);
      assertEquals(1, count(lookups, "backup_keys_get"), "one lookup: " + lookups);
      assertInstanceOf(
          DecryptionResult.Decrypted.class, restored.machine().decryptRoomEvent(ROOM, later));
    } else {
      throw new AssertionError("the new device got the key directly; the scenario needs it not to");
    }
    restored.machine().decryptRoomEvent(ROOM, later);
    assertEquals(0, count(restored.pump(router), "backup_keys_get"), "each session asked once");

    // An event naming a session id over the id bound is never looked up (nor put in a URL).
    ObjectNode forged = later.deepCopy();
    ((ObjectNode) forged.path("content")).put("session_id", "x".repeat(300));
    forged.put("event_id", "$forged");
    restored.machine().decryptRoomEvent(ROOM, forged);
    assertEquals(0, count(restored.pump(router), "backup_keys_get"), "over-long id looked up");
  }

  // ------------------------------------------------------------ m.secret.request

  /** {@code from} asks all of Bob's devices for {@code name} (plaintext, as clients do). */
  private void requestSecret(JavaMachine from, String name, String requestId) {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("action", "request");
    content.put("name", name);
    content.put("requesting_device_id", from.deviceId());
    content.put("request_id", requestId);
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("messages").putObject(BOB).set("*", content);
    router.sendToDevice(from.userId(), from.deviceId(), "m.secret.request", requestId, body);
  }

  /** The {@code m.secret.send} contents {@code m} received. */
  private static List<JsonNode> secretsReceived(List<ObjectNode> received) {
    return received.stream()
        .filter(e -> "m.secret.send".equals(e.path("type").asText()))
        .map(e -> (JsonNode) e.get("content"))
        .toList();
  }

  @Test
  void secretRequests_areAnsweredOnlyForOurVerifiedDevices_andOnlyForSecretsWeHold() {
    setUp(bob);
    JavaMachine laptop = loggedIn(BOB, "BOBLAPTOP");
    JavaMachine phone = loggedIn(BOB, "BOBPHONE");
    bob.sync(router);
    bob.updateTrackedUsers(List.of(BOB));
    bob.pump(router);
    bob.verifyOwnDevice(router, "BOBLAPTOP"); // the laptop is cross-signed; the phone is not
    for (JavaMachine m : List.of(laptop, phone, alice)) {
      m.establishSessions(router, List.of(BOB));
      m.pump(router);
    }
    bob.sync(router); // the pre-key messages of the new sessions
    bob.establishSessions(router, List.of(BOB, ALICE));
    bob.pump(router);

    requestSecret(laptop, "m.megolm_backup.v1", "req-backup");
    requestSecret(laptop, "m.cross_signing.self_signing", "req-ssk");
    requestSecret(laptop, "m.unknown.secret", "req-unknown");
    requestSecret(phone, "m.megolm_backup.v1", "req-phone");
    requestSecret(alice, "m.megolm_backup.v1", "req-alice");
    bob.sync(router);
    bob.pump(router);

    List<JsonNode> toLaptop = secretsReceived(laptop.sync(router));
    assertEquals(2, toLaptop.size(), "the backup key and the self-signing key: " + toLaptop);
    JsonNode backupSecret =
        toLaptop.stream()
            .filter(c -> c.path("request_id").asText().equals("req-backup"))
            .findFirst()
            .orElseThrow();
    assertEquals(
        UnpaddedBase64.encode(keyIn4S().exposeSecretBytes()),
        backupSecret.path("secret").asText(),
        "the backup key, as stored in 4S");
    assertTrue(secretsReceived(phone.sync(router)).isEmpty(), "an unverified own device");
    assertTrue(secretsReceived(alice.sync(router)).isEmpty(), "another user");
    long[] counts = bob.machine().secretRequestCounts();
    assertEquals(2, counts[0], "shared");
    assertEquals(3, counts[1], "refused: unknown secret, unverified device, other user");
  }
}
