package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.util.Arrays;

/**
 * Field codecs shared by the mxe2ee and libolm group session pickles: a ratchet is its 128 bytes
 * followed by its u32 counter (libolm's {@code megolm_pickle} layout), keys are raw bytes. Errors
 * are {@link MegolmDecodeException} naming the pickle ({@code what}); truncation surfaces as the
 * reader's {@link DecodeException}.
 */
final class PickleFields {
  static final int PUBLIC_KEY_LENGTH = Ed25519PublicKey.LENGTH;

  private PickleFields() {}

  static void writeRatchet(PickleWriter writer, Ratchet ratchet) {
    byte[] bytes = ratchet.toBytes();
    writer.writeBytes(bytes);
    Arrays.fill(bytes, (byte) 0);
    writer.writeU32(Integer.toUnsignedLong(ratchet.index()));
  }

  static Ratchet readRatchet(PickleReader reader) {
    byte[] bytes = reader.readBytes(Ratchet.LENGTH);
    Ratchet ratchet = Ratchet.fromBytes(bytes, (int) reader.readU32());
    Arrays.fill(bytes, (byte) 0);
    return ratchet;
  }

  /** Reads a u32 and checks it equals {@code expected}. */
  static void readMagic(PickleReader reader, int expected, String what) {
    int magic = (int) reader.readU32();
    if (magic != expected) {
      throw new MegolmDecodeException(
          "not an "
              + what
              + ": expected magic "
              + Integer.toHexString(expected)
              + ", got "
              + Integer.toHexString(magic));
    }
  }

  /** Reads a 32-byte Ed25519 key; one that is not a valid point could never verify a signature. */
  static Ed25519PublicKey readPublicKey(PickleReader reader, String what) {
    byte[] bytes = reader.readBytes(PUBLIC_KEY_LENGTH);
    try {
      return Ed25519PublicKey.fromBytes(bytes);
    } catch (DecodeException e) {
      throw new MegolmDecodeException(what + ": Ed25519 public key is not a valid point", e);
    }
  }

  static void requireFullyRead(PickleReader reader, String what) {
    if (reader.remaining() != 0) {
      throw new MegolmDecodeException(
          what + ": expected end of data, " + reader.remaining() + " extra bytes");
    }
  }

  static void requireMatchingPublicKey(Ed25519SecretKey key, Ed25519PublicKey stored, String what) {
    if (!key.publicKey().equals(stored)) {
      throw new MegolmDecodeException(
          what
              + ": stored Ed25519 public key "
              + stored.toBase64()
              + " does not match the private key");
    }
  }
}
