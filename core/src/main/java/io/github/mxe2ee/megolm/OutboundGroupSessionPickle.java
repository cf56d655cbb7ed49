package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.util.Arrays;

/**
 * The persisted form of an {@link OutboundGroupSession} in mxe2ee's own pickle format, encrypted
 * with {@code PickleCipher.mxe2ee}. Plaintext layout (big-endian):
 *
 * <pre>
 * +-------+---------+---------+---------+------+-----------------+----------+
 * | magic | version | R(i)    | i       | form | Ed25519 secret  | Kpub     |
 * | u32   | u32 = 1 | 128     | u32     | u8   | 32 (seed) or    | 32       |
 * |"MGOS" |         |         |         |      | 64 (expanded)   |          |
 * +-------+---------+---------+---------+------+-----------------+----------+
 * form: 0 = seed, 1 = libolm's expanded key (clamped scalar || prefix)
 * </pre>
 *
 * <p>The public key is stored to detect a pickle whose key halves do not match. Fixtures of every
 * version are kept in tests and never regenerated; a new layout gets a new version number.
 */
final class OutboundGroupSessionPickle {
  /** ASCII "MGOS": tells an outbound pickle from an inbound one or another object's. */
  static final int MAGIC = 0x4d474f53;

  /** Current layout version; older versions stay readable. */
  static final int VERSION = 1;

  private static final int FORM_SEED = 0;
  private static final int FORM_EXPANDED = 1;
  private static final int SEED_LENGTH = 32;
  private static final int EXPANDED_LENGTH = 64;

  private static final String WHAT = "outbound group session pickle";

  private final Ratchet ratchet;
  private final Ed25519SecretKey signingKey;

  OutboundGroupSessionPickle(Ratchet ratchet, Ed25519SecretKey signingKey) {
    this.ratchet = ratchet;
    this.signingKey = signingKey;
  }

  String encrypt(byte[] pickleKey) {
    PickleWriter writer = new PickleWriter();
    writer.writeU32(MAGIC);
    writer.writeU32(VERSION);
    PickleFields.writeRatchet(writer, ratchet);
    writer.writeU8(signingKey.isExpanded() ? FORM_EXPANDED : FORM_SEED);
    byte[] secret = signingKey.exposeSecretBytes();
    writer.writeBytes(secret);
    Arrays.fill(secret, (byte) 0);
    writer.writeBytes(signingKey.publicKey().toBytes());
    byte[] plain = writer.toByteArray();
    try {
      return PickleCipher.mxe2ee(pickleKey).encrypt(plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  static OutboundGroupSessionPickle decrypt(String pickle, byte[] pickleKey) {
    byte[] plain = PickleCipher.mxe2ee(pickleKey).decrypt(pickle);
    try {
      PickleReader reader = new PickleReader(plain);
      PickleFields.readMagic(reader, MAGIC, WHAT);
      int version = (int) reader.readU32();
      if (version != VERSION) {
        throw new MegolmDecodeException(
            "outbound group session pickle version: expected " + VERSION + ", got " + version);
      }
      Ratchet ratchet = PickleFields.readRatchet(reader);
      int form = reader.readU8();
      byte[] secret;
      Ed25519SecretKey key;
      if (form == FORM_SEED) {
        secret = reader.readBytes(SEED_LENGTH);
        key = Ed25519SecretKey.fromSeed(secret);
      } else if (form == FORM_EXPANDED) {
        secret = reader.readBytes(EXPANDED_LENGTH);
        key = Ed25519SecretKey.fromExpanded(secret);
      } else {
        throw new MegolmDecodeException(
            "outbound group session pickle: key form expected 0 or 1, got " + form);
      }
      Arrays.fill(secret, (byte) 0);
      Ed25519PublicKey stored = PickleFields.readPublicKey(reader, WHAT);
      PickleFields.requireMatchingPublicKey(key, stored, WHAT);
      PickleFields.requireFullyRead(reader, WHAT);
      return new OutboundGroupSessionPickle(ratchet, key);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  OutboundGroupSession toSession() {
    return new OutboundGroupSession(ratchet, signingKey);
  }
}
