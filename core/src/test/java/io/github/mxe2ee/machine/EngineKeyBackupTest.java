package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.testing.JavaMachine;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Server-side key backup through the machine (spec: "Server-side key backups"): Bob's room keys go
 * to the router's backup as they arrive, a new device of Bob's restores them from it, and a
 * replaced backup version stops the uploads until the new version is enabled.
 */
class EngineKeyBackupTest extends EngineFixture {
  private final BackupDecryptionKey backupKey = BackupDecryptionKey.generate(new SecureRandom());

  private String createBackup() {
    return router.createKeyBackupVersion(BOB, backupKey.encryptionKey().authData());
  }

  private static int sessionCount(JsonNode roomKeys) {
    int n = 0;
    for (JsonNode room : roomKeys.get("rooms")) {
      n += room.get("sessions").size();
    }
    return n;
  }

  private static long backupUploads(List<ObjectNode> sent) {
    return sent.stream().filter(r -> r.path("type").asText().equals("keys_backup")).count();
  }

  @Test
  void roomKeysAreBackedUpAsTheyArrive_andANewDeviceRestoresThem() {
    String version = createBackup();
    bob.machine().enableKeyBackup(version, backupKey.encryptionKey());
    assertEquals(Optional.of(version), bob.machine().keyBackupVersion());
    share(alice);
    ObjectNode event = send(alice, "backed up");
    bob.sync(router);
    assertEquals(1, backupUploads(bob.pump(router)));
    JsonNode roomKeys = router.roomKeys(BOB, version);
    assertEquals(1, sessionCount(roomKeys));
    JsonNode data = roomKeys.get("rooms").get(ROOM).get("sessions").get(sessionId(event));
    assertEquals(0, data.get("first_message_index").asLong());
    assertTrue(data.get("is_verified").asBoolean(), "received over Olm from Alice's device");
    assertEquals(0, backupUploads(bob.pump(router)), "nothing left to back up");

    bob.reopen();
    assertEquals(Optional.of(version), bob.machine().keyBackupVersion(), "survives a restart");
    assertEquals(0, backupUploads(bob.pump(router)), "backed-up flags survive too");

    JavaMachine laptop = loggedIn(BOB, "BOBLAPTOP");
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, laptop.machine().decryptRoomEvent(ROOM, event));
    RoomKeyImportResult restored = laptop.machine().importBackedUpRoomKeys(backupKey, roomKeys);
    assertEquals(new RoomKeyImportResult(1, 1), restored);
    DecryptionResult.Decrypted decrypted =
        assertInstanceOf(
            DecryptionResult.Decrypted.class, laptop.machine().decryptRoomEvent(ROOM, event));
    assertEquals("backed up", decrypted.content().path("body").asText());
    assertFalse(decrypted.authenticated(), "a backup proves nothing about the sender");

    BackupDecryptionKey wrong = BackupDecryptionKey.generate(new SecureRandom());
    assertEquals(
        new RoomKeyImportResult(1, 0), laptop.machine().importBackedUpRoomKeys(wrong, roomKeys));
  }

  @Test
  void aReplacedBackupVersionStopsUploads_untilTheNewOneIsEnabled() {
    String first = createBackup();
    bob.machine().enableKeyBackup(first, backupKey.encryptionKey());
    share(alice);
    send(alice, "one");
    bob.sync(router);
    bob.pump(router);
    assertEquals(1, sessionCount(router.roomKeys(BOB, first)));

    String second = createBackup(); // another device replaced the backup
    alice.machine().invalidateGroupSession(ROOM);
    share(alice);
    send(alice, "two, in a new session");
    bob.sync(router);
    bob.pump(router); // the upload of the new session is refused: wrong version
    assertEquals(Optional.empty(), bob.machine().keyBackupVersion(), "disabled on refusal");

    bob.machine().enableKeyBackup(second, backupKey.encryptionKey());
    assertEquals(1, backupUploads(bob.pump(router)));
    assertEquals(2, sessionCount(router.roomKeys(BOB, second)), "everything again, once");
  }
}
