package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.util.Arrays;

/**
 * The persisted form of an {@link InboundGroupSession} in mxe2ee's own pickle format, encrypted
 * with {@code PickleCipher.mxe2ee}. Plaintext layout (big-endian):
 *
 * <pre>
 * +-------+---------+-----------+-----+-----------+-----+------+----------+
 * | magic | version | initial R | i0  | latest R  | iL  | Kpub | verified |
 * | u32   | u32 = 1 | 128       | u32 | 128       | u32 | 32   | u8 0/1   |
 * |"MGIS" |         |           |     |           |     |      |          |
 * +-------+---------+-----------+-----+-----------+-----+------+----------+
 * </pre>
 *
 * <p>The latest ratchet is a cache (spec: inbound sessions "may also choose to cache calculated
 * ratchet values"); its index must not be below the initial one. Fixtures of every version are kept
 * in tests and never regenerated; a new layout gets a new version number.
 */
final class InboundGroupSessionPickle {
  /** ASCII "MGIS": tells an inbound pickle from an outbound one or another object's. */
  static final int MAGIC = 0x4d474953;

  /** Current layout version; older versions stay readable. */
  static final int VERSION = 1;

  private static final String WHAT = "inbound group session pickle";

  private final Ratchet initial;
  private final Ratchet latest;
  private final Ed25519PublicKey signingKey;
  private final boolean verified;

  InboundGroupSessionPickle(
      Ratchet initial, Ratchet latest, Ed25519PublicKey signingKey, boolean verified) {
    this.initial = initial;
    this.latest = latest;
    this.signingKey = signingKey;
    this.verified = verified;
  }

  String encrypt(byte[] pickleKey) {
    PickleWriter writer = new PickleWriter();
    writer.writeU32(MAGIC);
    writer.writeU32(VERSION);
    PickleFields.writeRatchet(writer, initial);
    PickleFields.writeRatchet(writer, latest);
    writer.writeBytes(signingKey.toBytes());
    writer.writeBool(verified);
    byte[] plain = writer.toByteArray();
    try {
      return PickleCipher.mxe2ee(pickleKey).encrypt(plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  static InboundGroupSessionPickle decrypt(String pickle, byte[] pickleKey) {
    byte[] plain = PickleCipher.mxe2ee(pickleKey).decrypt(pickle);
    try {
      PickleReader reader = new PickleReader(plain);
      PickleFields.readMagic(reader, MAGIC, WHAT);
      int version = (int) reader.readU32();
      if (version != VERSION) {
        throw new MegolmDecodeException(
            "inbound group session pickle version: expected " + VERSION + ", got " + version);
      }
      Ratchet initial = PickleFields.readRatchet(reader);
      Ratchet latest = PickleFields.readRatchet(reader);
      if (Integer.compareUnsigned(latest.index(), initial.index()) < 0) {
        throw new MegolmDecodeException(
            "inbound group session pickle: latest index "
                + latest.indexAsLong()
                + " is below initial index "
                + initial.indexAsLong());
      }
      Ed25519PublicKey key = PickleFields.readPublicKey(reader, WHAT);
      boolean verified = reader.readBool();
      PickleFields.requireFullyRead(reader, WHAT);
      return new InboundGroupSessionPickle(initial, latest, key, verified);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  InboundGroupSession toSession() {
    return new InboundGroupSession(initial, latest, signingKey, verified);
  }
}
