package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;

/** Small helpers shared by the Olm pickle readers and writers. */
final class PickleIo {
  static final int KEY_LENGTH = 32;

  private PickleIo() {}

  static long readU32(PickleReader reader) {
    return reader.readU32() & 0xFFFF_FFFFL;
  }

  static void writeU32(PickleWriter writer, long value) {
    if (value < 0 || value > 0xFFFF_FFFFL) {
      throw new IllegalStateException("value does not fit in 32 bits: " + value);
    }
    writer.writeU32(value);
  }

  /** Reads a count and checks it against the limit the live type enforces. */
  static int readCount(PickleReader reader, int max, String what) {
    long count = readU32(reader);
    if (count > max) {
      throw new OlmDecodeException(what + ": expected at most " + max + ", got " + count);
    }
    return (int) count;
  }

  static Curve25519PublicKey readPublicKey(PickleReader reader) {
    return Curve25519PublicKey.fromBytes(reader.readBytes(KEY_LENGTH));
  }

  static Curve25519SecretKey readSecretKey(PickleReader reader) {
    return Curve25519SecretKey.fromBytes(reader.readBytes(KEY_LENGTH));
  }

  /** Reads a stored key pair and rejects it if the public half does not match the private one. */
  static Curve25519SecretKey readKeyPair(PickleReader reader, String what) {
    Curve25519PublicKey stored = readPublicKey(reader);
    Curve25519SecretKey secret = readSecretKey(reader);
    if (!secret.publicKey().equals(stored)) {
      throw new OlmDecodeException(what + ": public key does not match the private key");
    }
    return secret;
  }

  static void expectEnd(PickleReader reader, String what) {
    if (reader.remaining() != 0) {
      throw new OlmDecodeException(
          what + ": expected end of pickle, " + reader.remaining() + " bytes left");
    }
  }
}
