package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * mxe2ee's persisted form of an {@link Account} (before {@code PickleCipher.mxe2ee} encryption).
 * Big-endian; public keys are derived again on load.
 *
 * <pre>
 * +--------+---------------------------------------------------------------+
 * | size   | field                                                         |
 * +--------+---------------------------------------------------------------+
 * | u32    | version = 1                                                   |
 * | u8     | Ed25519 key form: 0 = 32-byte seed, 1 = 64-byte expanded key  |
 * | 32/64  | Ed25519 private key (expanded only for libolm imports)        |
 * | 32     | Curve25519 identity private key                               |
 * | u32    | last used key id (shared by one-time and fallback keys)       |
 * | u32    | one-time key count (&lt;= 100), oldest first, each:              |
 * |  u32   |   key id                                                      |
 * |  u8    |   published (0/1)                                             |
 * |  32    |   Curve25519 private key                                      |
 * | u8     | fallback key count (0..2), current first, each as above       |
 * +--------+---------------------------------------------------------------+
 * </pre>
 *
 * <p>Stateless utility; thread-safe.
 */
final class AccountPickle {
  /** Current version of this layout; bump it (and keep reading old ones) on any change. */
  static final int VERSION = 1;

  private static final int SEED_FORM = 0;
  private static final int EXPANDED_FORM = 1;
  private static final int SEED_LENGTH = 32;
  private static final int EXPANDED_LENGTH = 64;
  private static final int MAX_FALLBACK_KEYS = 2;
  private static final String WHAT = "mxe2ee account pickle";

  private AccountPickle() {}

  static byte[] encode(Account account) {
    PickleWriter w = new PickleWriter();
    PickleIo.writeU32(w, VERSION);
    Ed25519SecretKey signingKey = account.signingKey();
    w.writeU8(signingKey.isExpanded() ? EXPANDED_FORM : SEED_FORM);
    w.writeBytes(signingKey.exposeSecretBytes());
    w.writeBytes(account.identitySecretKey().exposeSecretBytes());
    PickleIo.writeU32(w, account.nextKeyId());
    List<OneTimeKey> keys = account.storedOneTimeKeys();
    PickleIo.writeU32(w, keys.size());
    for (OneTimeKey key : keys) {
      writeKey(w, key);
    }
    List<OneTimeKey> fallbacks = new ArrayList<>(2);
    if (account.currentFallbackKey() != null) {
      fallbacks.add(account.currentFallbackKey());
    }
    if (account.previousFallbackKey() != null) {
      fallbacks.add(account.previousFallbackKey());
    }
    w.writeU8(fallbacks.size());
    for (OneTimeKey key : fallbacks) {
      writeKey(w, key);
    }
    return w.toByteArray();
  }

  private static void writeKey(PickleWriter w, OneTimeKey key) {
    PickleIo.writeU32(w, key.id());
    w.writeBool(key.published());
    w.writeBytes(key.secretKey().exposeSecretBytes());
  }

  static Account decode(byte[] plain, SecureRandom random) {
    PickleReader r = new PickleReader(plain);
    long version = PickleIo.readU32(r);
    if (version != VERSION) {
      throw new OlmDecodeException(WHAT + ": expected version " + VERSION + ", got " + version);
    }
    int form = r.readU8();
    Ed25519SecretKey signingKey;
    if (form == SEED_FORM) {
      signingKey = Ed25519SecretKey.fromSeed(r.readBytes(SEED_LENGTH));
    } else if (form == EXPANDED_FORM) {
      signingKey = Ed25519SecretKey.fromExpanded(r.readBytes(EXPANDED_LENGTH));
    } else {
      throw new OlmDecodeException(WHAT + ": expected Ed25519 key form 0 or 1, got " + form);
    }
    Account account = new Account(signingKey, PickleIo.readSecretKey(r), random);
    long nextKeyId = PickleIo.readU32(r);
    int count = PickleIo.readCount(r, Account.MAX_ONE_TIME_KEYS, WHAT + " one-time keys");
    List<OneTimeKey> keys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      keys.add(readKey(r));
    }
    int fallbackCount = r.readU8();
    if (fallbackCount > MAX_FALLBACK_KEYS) {
      throw new OlmDecodeException(
          WHAT + ": expected at most 2 fallback keys, got " + fallbackCount);
    }
    OneTimeKey current = fallbackCount >= 1 ? readKey(r) : null;
    OneTimeKey previous = fallbackCount >= 2 ? readKey(r) : null;
    PickleIo.expectEnd(r, WHAT);
    account.restore(keys, current, previous, nextKeyId);
    return account;
  }

  private static OneTimeKey readKey(PickleReader r) {
    long id = PickleIo.readU32(r);
    boolean published = r.readBool();
    Curve25519SecretKey secret = PickleIo.readSecretKey(r);
    return new OneTimeKey(id, secret, published);
  }
}
