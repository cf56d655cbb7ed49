package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.export.KeyExportFile;
import io.github.mxe2ee.export.RoomKeyParseResult;
import io.github.mxe2ee.testing.JavaMachine;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Room keys leave one machine in a key export file and enter another (spec: "Key exports"): the
 * importing device was never sent the key, yet decrypts the room's events, marked unauthenticated.
 */
class EngineKeyExportTest extends EngineFixture {
  private static final char[] PASSPHRASE = "correct horse".toCharArray();

  @Test
  void exportedKeysDecryptOnAnotherDevice_unauthenticated() {
    share(alice);
    ObjectNode first = send(alice, "first");
    ObjectNode second = send(alice, "second");
    bob.sync(router);
    assertEquals("first", bob.decryptRoomEvent(ROOM, first).path("content").path("body").asText());

    List<ExportedRoomKey> keys = bob.machine().exportRoomKeys(r -> r.roomId().equals(ROOM));
    assertEquals(1, keys.size());
    assertTrue(bob.machine().exportRoomKeys(r -> false).isEmpty());
    String file = KeyExportFile.exportRoomKeys(keys, PASSPHRASE, 1_000, new SecureRandom());

    // A new device of Bob's that joined after the key was shared: it has no session.
    JavaMachine laptop = loggedIn(BOB, "BOBLAPTOP");
    assertInstanceOf(
        DecryptionResult.UnableToDecrypt.class, laptop.machine().decryptRoomEvent(ROOM, second));
    RoomKeyParseResult parsed = KeyExportFile.importRoomKeys(file, PASSPHRASE);
    assertTrue(parsed.rejected().isEmpty());
    RoomKeyImportResult result = laptop.machine().importRoomKeys(parsed.keys());
    assertEquals(new RoomKeyImportResult(1, 1), result);

    DecryptionResult.Decrypted decrypted =
        assertInstanceOf(
            DecryptionResult.Decrypted.class, laptop.machine().decryptRoomEvent(ROOM, second));
    assertEquals("second", decrypted.content().path("body").asText());
    assertFalse(decrypted.authenticated(), "a key from a file proves nothing about its sender");
    assertEquals(1, decrypted.messageIndex());

    // The same file again changes nothing; nor does it for Bob, who holds the same copy.
    assertEquals(0, laptop.machine().importRoomKeys(parsed.keys()).imported());
    assertEquals(0, bob.machine().importRoomKeys(parsed.keys()).imported());
  }

  @Test
  void aKeyExportedAtALaterIndexDoesNotReplaceAnEarlierCopy() {
    share(alice);
    ObjectNode first = send(alice, "first");
    bob.sync(router);
    List<ExportedRoomKey> fromBob = bob.machine().exportRoomKeys(r -> true);
    assertEquals(0, fromBob.get(0).firstKnownIndex());
    // Alice's own copy of her session also starts at 0: importing Bob's changes nothing there.
    assertEquals(0, alice.machine().importRoomKeys(fromBob).imported());
    assertEquals("first", bob.decryptRoomEvent(ROOM, first).path("content").path("body").asText());
  }
}
