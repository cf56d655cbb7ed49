package io.github.mxe2ee.megolm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.megolm.MegolmDecryptionException.Reason;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Seeded random scenarios: out-of-order delivery, exports at random indices, re-imports. */
class GroupSessionPropertyTest {
  private static OutboundGroupSession seededSession(Random random, int startIndex) {
    byte[] ratchet = new byte[128];
    random.nextBytes(ratchet);
    byte[] seed = new byte[32];
    random.nextBytes(seed);
    return OutboundGroupSession.fromParts(ratchet, startIndex, Ed25519SecretKey.fromSeed(seed));
  }

  @Test
  void outOfOrderDeliveryAndExportsAgreeWithTheSender() {
    for (int seed = 1; seed <= 4; seed++) {
      Random random = new Random(seed);
      // Seed 4 ends 20 indices short of 2^32: large unsigned indices, no wrap.
      int start = seed == 4 ? 0xfffffec0 : random.nextInt(1 << 20);
      OutboundGroupSession sender = seededSession(random, start);
      InboundGroupSession receiver = InboundGroupSession.fromSessionKey(sender.sessionKey());
      List<Integer> order = new ArrayList<>();
      List<MegolmMessage> messages = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        messages.add(sender.encrypt("event " + i));
        order.add(i);
      }
      Collections.shuffle(order, random);
      for (int i : order) {
        DecryptedMessage decrypted = receiver.decrypt(messages.get(i));
        assertEquals("event " + i, decrypted.plaintextUtf8(), "seed " + seed + " message " + i);
        assertEquals(Integer.toUnsignedLong(start + i), decrypted.messageIndex(), "seed " + seed);
      }
      int cut = random.nextInt(300);
      long cutIndex = Integer.toUnsignedLong(start + cut);
      InboundGroupSession later =
          InboundGroupSession.fromExportedSessionKey(
              ExportedSessionKey.fromBase64(receiver.exportAt(cutIndex).orElseThrow().toBase64()));
      assertEquals(cutIndex, later.firstKnownIndex());
      for (int i : order) {
        String id = "seed " + seed + " export at " + cut + ", message " + i;
        if (i >= cut) {
          assertEquals("event " + i, later.decrypt(messages.get(i)).plaintextUtf8(), id);
        } else {
          MegolmDecryptionException e =
              assertThrows(
                  MegolmDecryptionException.class, () -> later.decrypt(messages.get(i)), id);
          assertEquals(Reason.UNKNOWN_MESSAGE_INDEX, e.reason(), id);
        }
      }
      assertEquals(SessionOrdering.BETTER, receiver.compare(later), "seed " + seed);
      assertEquals(SessionOrdering.WORSE, later.compare(receiver), "seed " + seed);
    }
  }

  @Test
  void indicesCompareAsPlainUnsigned_aKeyNearTheTopCannotReachWrappedIndices() {
    Random random = new Random(99);
    OutboundGroupSession sender = seededSession(random, 0xffffffff);
    InboundGroupSession receiver = InboundGroupSession.fromSessionKey(sender.sessionKey());
    MegolmMessage last = sender.encrypt("last");
    MegolmMessage wrapped = sender.encrypt("wrapped");
    assertEquals(0xffffffffL, last.messageIndex());
    assertEquals(0, wrapped.messageIndex());
    assertEquals("last", receiver.decrypt(last).plaintextUtf8());
    MegolmDecryptionException e =
        assertThrows(MegolmDecryptionException.class, () -> receiver.decrypt(wrapped));
    assertEquals(Reason.UNKNOWN_MESSAGE_INDEX, e.reason());
  }
}
