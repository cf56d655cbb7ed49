package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmDecryptionException;
import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.megolm.SessionOrdering;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real Megolm sessions through a key export file: messages encrypted by an outbound session are
 * decrypted by the session imported from a file exported from its inbound twin.
 */
class KeyExportRoundTripTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] PASSPHRASE = "export for alice".toCharArray();
  private static final int ROUNDS = 50;

  private final Curve25519PublicKey senderKey = Curve25519SecretKey.generate(RANDOM).publicKey();
  private final Ed25519PublicKey claimedKey = Ed25519SecretKey.generate(RANDOM).publicKey();

  private static List<MegolmMessage> encrypt(OutboundGroupSession outbound, String prefix, int n) {
    List<MegolmMessage> messages = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // Through the wire form, as a receiver would see them.
      messages.add(MegolmMessage.fromBase64(outbound.encrypt(prefix + i).toBase64()));
    }
    return messages;
  }

  @Test
  void exportedFile_importsSessionsThatDecryptTheRoomsMessages() {
    OutboundGroupSession roomA = OutboundGroupSession.create(RANDOM);
    InboundGroupSession twinA = InboundGroupSession.fromSessionKey(roomA.sessionKey());
    List<MegolmMessage> messagesA = encrypt(roomA, "room A message ", 5);

    OutboundGroupSession roomB = OutboundGroupSession.create(RANDOM);
    encrypt(roomB, "before the bot joined ", 3);
    InboundGroupSession twinB = InboundGroupSession.fromSessionKey(roomB.sessionKey());
    List<MegolmMessage> messagesB = encrypt(roomB, "room B message ", 4);

    List<ExportedRoomKey> keys =
        List.of(
            ExportedRoomKey.fromSession(
                twinA, "!a:example.org", senderKey, claimedKey, List.of(), true),
            ExportedRoomKey.fromSession(
                twinB,
                "!b:example.org",
                senderKey,
                claimedKey,
                List.of(senderKey.toBase64()),
                false));
    String file = KeyExportFile.exportRoomKeys(keys, PASSPHRASE, ROUNDS, RANDOM);

    RoomKeyParseResult imported = KeyExportFile.importRoomKeys(file, PASSPHRASE.clone());
    assertEquals(List.of(), imported.rejected());
    assertEquals(2, imported.keys().size());

    ExportedRoomKey a = imported.keys().get(0);
    assertEquals("!a:example.org", a.roomId());
    assertEquals(roomA.sessionId(), a.sessionId());
    assertEquals(senderKey, a.senderKey());
    assertEquals(claimedKey, a.claimedEd25519Key());
    assertEquals(true, a.sharedHistory());
    InboundGroupSession sessionA = a.toInboundGroupSession();
    assertFalse(sessionA.isSigningKeyVerified(), "imported keys are unverified");
    assertEquals(SessionOrdering.EQUAL, sessionA.compare(twinA));
    for (int i = 0; i < messagesA.size(); i++) {
      assertEquals("room A message " + i, sessionA.decrypt(messagesA.get(i)).plaintextUtf8());
    }

    ExportedRoomKey b = imported.keys().get(1);
    assertEquals(3, b.firstKnownIndex());
    assertEquals(List.of(senderKey.toBase64()), b.forwardingCurve25519KeyChain());
    InboundGroupSession sessionB = b.toInboundGroupSession();
    for (int i = 0; i < messagesB.size(); i++) {
      assertEquals("room B message " + i, sessionB.decrypt(messagesB.get(i)).plaintextUtf8());
    }
    assertEquals(
        MegolmDecryptionException.Reason.BAD_SIGNATURE,
        assertThrows(MegolmDecryptionException.class, () -> sessionB.decrypt(messagesA.get(4)))
            .reason(),
        "room A's messages are not signed by room B's session");
  }

  @Test
  void exportAtALaterIndex_cannotReadEarlierMessages() {
    OutboundGroupSession outbound = OutboundGroupSession.create(RANDOM);
    InboundGroupSession twin = InboundGroupSession.fromSessionKey(outbound.sessionKey());
    List<MegolmMessage> messages = encrypt(outbound, "m", 6);
    ExportedRoomKey later =
        ExportedRoomKey.of(
            "!r:example.org",
            senderKey,
            claimedKey,
            List.of(),
            twin.exportAt(4).orElseThrow(),
            false);
    String file = KeyExportFile.exportRoomKeys(List.of(later), PASSPHRASE, ROUNDS, RANDOM);
    InboundGroupSession imported =
        KeyExportFile.importRoomKeys(file, PASSPHRASE).keys().get(0).toInboundGroupSession();
    assertEquals(4, imported.firstKnownIndex());
    assertEquals("m5", imported.decrypt(messages.get(5)).plaintextUtf8());
    assertThrows(MegolmDecryptionException.class, () -> imported.decrypt(messages.get(3)));
    assertEquals(SessionOrdering.BETTER, twin.compare(imported));
  }

  @Test
  void importWithTheWrongPassphrase_importsNothing() {
    OutboundGroupSession outbound = OutboundGroupSession.create(RANDOM);
    ExportedRoomKey key =
        ExportedRoomKey.fromSession(
            InboundGroupSession.fromSessionKey(outbound.sessionKey()),
            "!r:example.org",
            senderKey,
            claimedKey,
            List.of(),
            false);
    String file = KeyExportFile.exportRoomKeys(List.of(key), PASSPHRASE, ROUNDS, RANDOM);
    assertThrows(
        CryptoException.class,
        () -> KeyExportFile.importRoomKeys(file, "export for bob".toCharArray()));
  }

  @Test
  void emptyExport_roundTrips() {
    String file = KeyExportFile.exportRoomKeys(List.of(), PASSPHRASE, ROUNDS, RANDOM);
    assertEquals(0, KeyExportFile.importRoomKeys(file, PASSPHRASE).total());
  }
}
