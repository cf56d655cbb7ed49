package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.pickle.PickleReader;
import java.util.Arrays;

/**
 * Import of libolm's group session pickles (libolm 3.2.x, {@code PickleCipher.libolm}). Plaintext
 * layouts (big-endian):
 *
 * <pre>
 * OlmOutboundGroupSession, version 1:
 * +---------+------+-----+------+------------------+
 * | version | R(i) | i   | Kpub | Ed25519 expanded |
 * | u32 = 1 | 128  | u32 | 32   | 64               |
 * +---------+------+-----+------+------------------+
 *
 * OlmInboundGroupSession, version 1 or 2:
 * +---------+-----------+-----+-----------+-----+------+-----------------------+
 * | version | initial R | i0  | latest R  | iL  | Kpub | verified (v2 only, u8) |
 * | u32     | 128       | u32 | 128       | u32 | 32   | v1: implicitly true    |
 * +---------+-----------+-----+-----------+-----+------+-----------------------+
 * </pre>
 *
 * <p>A public key that is not a valid Ed25519 point (for example all zeros, as in some test
 * fixtures) is rejected: no signature could be trusted with it. Trailing bytes are rejected, as
 * libolm does ({@code OLM_PICKLE_EXTRA_DATA}). An outbound pickle whose stored public key does not
 * belong to its private key is rejected: every message it signed would fail verification. A latest
 * ratchet below the initial one is replaced by the initial one (it is only a cache).
 */
final class LibolmGroupPickles {
  static final int OUTBOUND_VERSION = 1;
  static final int INBOUND_VERSION_WITHOUT_VERIFIED_FLAG = 1;
  static final int INBOUND_VERSION = 2;

  private static final int EXPANDED_KEY_LENGTH = 64;

  private LibolmGroupPickles() {}

  static OutboundGroupSession outbound(String pickle, byte[] pickleKey) {
    byte[] plain = PickleCipher.libolm(pickleKey).decrypt(pickle);
    try {
      PickleReader reader = new PickleReader(plain);
      int version = (int) reader.readU32();
      if (version != OUTBOUND_VERSION) {
        throw new MegolmDecodeException(
            "libolm outbound group session pickle version: expected "
                + OUTBOUND_VERSION
                + ", got "
                + Integer.toUnsignedString(version));
      }
      Ratchet ratchet = PickleFields.readRatchet(reader);
      Ed25519PublicKey stored =
          PickleFields.readPublicKey(reader, "libolm outbound group session pickle");
      byte[] expanded = reader.readBytes(EXPANDED_KEY_LENGTH);
      Ed25519SecretKey key = Ed25519SecretKey.fromExpanded(expanded);
      Arrays.fill(expanded, (byte) 0);
      PickleFields.requireFullyRead(reader, "libolm outbound group session pickle");
      PickleFields.requireMatchingPublicKey(key, stored, "libolm outbound group session pickle");
      return new OutboundGroupSession(ratchet, key);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  static InboundGroupSession inbound(String pickle, byte[] pickleKey) {
    byte[] plain = PickleCipher.libolm(pickleKey).decrypt(pickle);
    try {
      PickleReader reader = new PickleReader(plain);
      int version = (int) reader.readU32();
      if (version != INBOUND_VERSION && version != INBOUND_VERSION_WITHOUT_VERIFIED_FLAG) {
        throw new MegolmDecodeException(
            "libolm inbound group session pickle version: expected 1 or 2, got "
                + Integer.toUnsignedString(version));
      }
      Ratchet initial = PickleFields.readRatchet(reader);
      Ratchet latest = PickleFields.readRatchet(reader);
      Ed25519PublicKey key =
          PickleFields.readPublicKey(reader, "libolm inbound group session pickle");
      boolean verified = version == INBOUND_VERSION ? reader.readBool() : true;
      PickleFields.requireFullyRead(reader, "libolm inbound group session pickle");
      if (Integer.compareUnsigned(latest.index(), initial.index()) < 0) {
        latest = initial.copy();
      }
      return new InboundGroupSession(initial, latest, key, verified);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }
}
