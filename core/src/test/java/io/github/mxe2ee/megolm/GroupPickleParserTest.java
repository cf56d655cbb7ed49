package io.github.mxe2ee.megolm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.PickleCipher;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Negative tests for mxe2ee's own Megolm pickle parsers (the plaintext under the cipher). */
class GroupPickleParserTest {
  private static final byte[] KEY = new byte[32];
  private static final PickleCipher CIPHER = PickleCipher.mxe2ee(KEY);

  private static byte[] outboundPlain() {
    return CIPHER.decrypt(OutboundGroupSessionTest.generatedSession().pickle(KEY));
  }

  private static byte[] inboundPlain() {
    return CIPHER.decrypt(InboundGroupSessionTest.fromKeyAtZero().pickle(KEY));
  }

  private static void assertRejected(
      Function<String, ?> parser, byte[] plain, String why, String messagePart) {
    String pickle = CIPHER.encrypt(plain);
    DecodeException e = assertThrows(DecodeException.class, () -> parser.apply(pickle), why);
    assertEquals("decode", e.kind(), why);
    assertTrue(e.getMessage().contains(messagePart), why + ": " + e.getMessage());
  }

  private static Object outbound(String pickle) {
    return OutboundGroupSession.fromPickle(pickle, KEY);
  }

  private static Object inbound(String pickle) {
    return InboundGroupSession.fromPickle(pickle, KEY);
  }

  @Test
  void layoutLengths() {
    assertEquals(4 + 4 + 128 + 4 + 1 + 32 + 32, outboundPlain().length);
    assertEquals(4 + 4 + 132 + 132 + 32 + 1, inboundPlain().length);
  }

  @Test
  void outbound_rejectsTruncationTrailingBytesVersionAndForm() {
    byte[] plain = outboundPlain();
    for (int length : new int[] {0, 3, 7, 100, 140, 141, 150, plain.length - 1}) {
      assertRejected(
          GroupPickleParserTest::outbound,
          Arrays.copyOf(plain, length),
          "length " + length,
          "truncated");
    }
    assertRejected(
        GroupPickleParserTest::outbound,
        Arrays.copyOf(plain, plain.length + 1),
        "trailing",
        "1 extra bytes");
    byte[] version = plain.clone();
    version[7] = 2;
    assertRejected(GroupPickleParserTest::outbound, version, "version", "expected 1, got 2");
    byte[] form = plain.clone();
    form[4 + 4 + 128 + 4] = 7;
    assertRejected(GroupPickleParserTest::outbound, form, "key form", "expected 0 or 1, got 7");
    byte[] publicKey = plain.clone();
    publicKey[plain.length - 1] ^= 1;
    assertRejected(GroupPickleParserTest::outbound, publicKey, "public key", "");
  }

  @Test
  void inbound_rejectsTruncationTrailingBytesVersionAndOrder() {
    byte[] plain = inboundPlain();
    for (int length : new int[] {0, 3, 7, 136, 140, 272, 276, 300, plain.length - 1}) {
      assertRejected(
          GroupPickleParserTest::inbound,
          Arrays.copyOf(plain, length),
          "length " + length,
          "truncated");
    }
    assertRejected(
        GroupPickleParserTest::inbound,
        Arrays.copyOf(plain, plain.length + 3),
        "trailing",
        "3 extra bytes");
    byte[] version = plain.clone();
    version[7] = 9;
    assertRejected(GroupPickleParserTest::inbound, version, "version", "expected 1, got 9");
    // Initial ratchet index 5, latest 0: the cache would sit before the start.
    byte[] order = plain.clone();
    order[4 + 4 + 128 + 3] = 5;
    assertRejected(
        GroupPickleParserTest::inbound, order, "latest below initial", "below initial index");
  }

  @Test
  void magic_keepsTheTwoKindsApart() {
    assertRejected(
        GroupPickleParserTest::inbound, outboundPlain(), "outbound as inbound", "expected magic");
    assertRejected(
        GroupPickleParserTest::outbound, inboundPlain(), "inbound as outbound", "expected magic");
  }
}
