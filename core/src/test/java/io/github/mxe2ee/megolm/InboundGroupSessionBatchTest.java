package io.github.mxe2ee.megolm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link InboundGroupSession#decryptAll} gives exactly what {@code decrypt} gives, message by
 * message.
 */
class InboundGroupSessionBatchTest {

  private static List<MegolmMessage> backlog(OutboundGroupSession out, int n) {
    List<MegolmMessage> messages = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      messages.add(out.encrypt(("event " + i).getBytes(StandardCharsets.UTF_8)));
    }
    return messages;
  }

  @Test
  void decryptAll_matchesSingleDecryptIncludingFailuresInTheMiddle() {
    OutboundGroupSession out = OutboundGroupSession.create(new SecureRandom());
    SessionKey key = out.sessionKey();
    List<MegolmMessage> messages = backlog(out, 40);
    // message 7: signature tampered; message 20: MAC tampered (signature re-made cannot be forged,
    // so the MAC byte change also breaks the signature, which is checked first); message 30: from
    // another session entirely.
    byte[] badSig = messages.get(7).toBytes();
    badSig[badSig.length - 1] ^= 1;
    messages.set(7, MegolmMessage.fromBytes(badSig));
    byte[] badMac = messages.get(20).toBytes();
    badMac[badMac.length - 64 - 1] ^= 1;
    messages.set(20, MegolmMessage.fromBytes(badMac));
    OutboundGroupSession other = OutboundGroupSession.create(new SecureRandom());
    messages.set(30, other.encrypt("foreign".getBytes(StandardCharsets.UTF_8)));

    InboundGroupSession batch = InboundGroupSession.fromSessionKey(key);
    InboundGroupSession single = InboundGroupSession.fromSessionKey(key);
    List<InboundGroupSession.Attempt> attempts = batch.decryptAll(messages);
    assertEquals(messages.size(), attempts.size());
    for (int i = 0; i < messages.size(); i++) {
      InboundGroupSession.Attempt a = attempts.get(i);
      DecryptedMessage expected = null;
      MegolmDecryptionException expectedError = null;
      try {
        expected = single.decrypt(messages.get(i));
      } catch (MegolmDecryptionException e) {
        expectedError = e;
      }
      if (expected != null) {
        assertNull(a.error(), "message " + i);
        assertArrayEquals(expected.plaintext(), a.message().plaintext(), "message " + i);
        assertEquals(expected.messageIndex(), a.message().messageIndex(), "message " + i);
      } else {
        assertNull(a.message(), "message " + i);
        assertNotNull(a.error(), "message " + i);
        assertEquals(expectedError.reason(), a.error().reason(), "message " + i);
      }
    }
    assertEquals(MegolmDecryptionException.Reason.BAD_SIGNATURE, attempts.get(7).error().reason());
    assertEquals(MegolmDecryptionException.Reason.BAD_SIGNATURE, attempts.get(30).error().reason());
  }

  @Test
  void decryptAll_reportsUnknownIndexForMessagesBeforeTheFirstKnownIndex() {
    OutboundGroupSession out = OutboundGroupSession.create(new SecureRandom());
    List<MegolmMessage> early = backlog(out, 10);
    InboundGroupSession late = InboundGroupSession.fromSessionKey(out.sessionKey());
    List<MegolmMessage> all = new ArrayList<>(early);
    all.addAll(backlog(out, 10));
    List<InboundGroupSession.Attempt> attempts = late.decryptAll(all);
    for (int i = 0; i < 10; i++) {
      assertEquals(
          MegolmDecryptionException.Reason.UNKNOWN_MESSAGE_INDEX,
          attempts.get(i).error().reason(),
          "message " + i);
    }
    for (int i = 10; i < 20; i++) {
      assertEquals("event " + (i - 10), attempts.get(i).message().plaintextUtf8(), "message " + i);
    }
  }

  @Test
  void decryptAll_smallListsTakeTheSinglePath() {
    OutboundGroupSession out = OutboundGroupSession.create(new SecureRandom());
    InboundGroupSession in = InboundGroupSession.fromSessionKey(out.sessionKey());
    List<InboundGroupSession.Attempt> attempts = in.decryptAll(backlog(out, 3));
    assertEquals("event 2", attempts.get(2).message().plaintextUtf8());
    assertEquals(List.of(), in.decryptAll(List.of()));
  }
}
