package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.pickle.PickleReader;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Readers for libolm 3.2.16's decrypted account and session pickles (big-endian, libolm's {@code
 * pickle.cpp}). Import only: we never write libolm's format.
 *
 * <pre>
 * account (versions 2, 3, 4; 1 is rejected like libolm does):
 * | u32 version | 32 Ed25519 public | 64 Ed25519 expanded private |
 * | 32 Curve25519 public | 32 Curve25519 private |
 * | u32 n (&lt;= 100) | n x [u32 id | u8 published | 32 public | 32 private] |  newest first
 * | v3: current + previous fallback key, always both, each as a one-time key;
 * |     how many are real follows from their published flags                 |
 * | v4: u8 m (&lt;= 2) | m x fallback key, current first                         |
 * | u32 last used key id |
 *
 * session (versions 1 and 0x80000001):
 * | u32 version | u8 received message | 32 I_A | 32 E_A | 32 E_B | 32 root key |
 * | u32 n (&lt;= 1)  | n x [32 ratchet public | 32 ratchet private | 32 chain key | u32 index] |
 * | u32 n (&lt;= 5)  | n x [32 ratchet public | 32 chain key | u32 index]     |  newest first
 * | u32 n (&lt;= 40) | n x [32 ratchet public | 32 message key | u32 index]   |  newest first
 * | 0x80000001 only: u32 (an unused chain index) |
 * </pre>
 *
 * <p>Stored public keys must match their private keys; trailing bytes are rejected. Stateless.
 */
final class LibolmPickles {
  static final long ACCOUNT_V1_LEGACY = 1;
  static final long SESSION_V1 = 1;
  static final long SESSION_V1_WITH_CHAIN_INDEX = 0x8000_0001L;

  private static final int ED25519_EXPANDED_LENGTH = 64;
  private static final String ACCOUNT = "libolm account pickle";
  private static final String SESSION = "libolm session pickle";

  private LibolmPickles() {}

  static Account account(byte[] plain, SecureRandom random) {
    PickleReader r = new PickleReader(plain);
    long version = PickleIo.readU32(r);
    if (version == ACCOUNT_V1_LEGACY) {
      throw new OlmDecodeException(
          ACCOUNT
              + ": version 1 stored only 32 bytes of the Ed25519 private key and cannot be"
              + " imported (libolm: BAD_LEGACY_ACCOUNT_PICKLE)");
    }
    if (version < 2 || version > 4) {
      throw new OlmDecodeException(ACCOUNT + ": expected version 2, 3 or 4, got " + version);
    }
    Ed25519PublicKey edPublic = Ed25519PublicKey.fromBytes(r.readBytes(PickleIo.KEY_LENGTH));
    Ed25519SecretKey edSecret = Ed25519SecretKey.fromExpanded(r.readBytes(ED25519_EXPANDED_LENGTH));
    if (!edSecret.publicKey().equals(edPublic)) {
      throw new OlmDecodeException(ACCOUNT + ": Ed25519 public key does not match the private key");
    }
    Curve25519SecretKey identity = PickleIo.readKeyPair(r, ACCOUNT + " identity key");
    int count = PickleIo.readCount(r, Account.MAX_ONE_TIME_KEYS, ACCOUNT + " one-time keys");
    List<OneTimeKey> keys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      keys.add(readKey(r, "one-time key"));
    }
    OneTimeKey current = null;
    OneTimeKey previous = null;
    if (version == 3) {
      // Both slots are always written; an unused one is all zeros and is not a key pair.
      StoredKey first = StoredKey.read(r);
      StoredKey second = StoredKey.read(r);
      if (first.published()) {
        current = first.toOneTimeKey("fallback key");
        previous = second.published() ? second.toOneTimeKey("fallback key") : null;
      }
    } else if (version == 4) {
      int fallbackCount = r.readU8();
      if (fallbackCount > 2) {
        throw new OlmDecodeException(
            ACCOUNT + ": expected at most 2 fallback keys, got " + fallbackCount);
      }
      current = fallbackCount >= 1 ? readKey(r, "fallback key") : null;
      previous = fallbackCount >= 2 ? readKey(r, "fallback key") : null;
    }
    long nextKeyId = PickleIo.readU32(r);
    PickleIo.expectEnd(r, ACCOUNT);
    List<OneTimeKey> oldestFirst = new ArrayList<>(keys);
    oldestFirst.sort((a, b) -> Long.compare(a.id(), b.id()));
    Account account = new Account(edSecret, identity, random);
    account.restore(oldestFirst, current, previous, nextKeyId);
    return account;
  }

  private static OneTimeKey readKey(PickleReader r, String what) {
    return StoredKey.read(r).toOneTimeKey(what);
  }

  /** A one-time key entry as stored, before its key pair is checked. */
  private record StoredKey(long id, boolean published, byte[] publicKey, byte[] secretKey) {
    static StoredKey read(PickleReader r) {
      long id = PickleIo.readU32(r);
      boolean published = r.readBool();
      byte[] publicKey = r.readBytes(PickleIo.KEY_LENGTH);
      return new StoredKey(id, published, publicKey, r.readBytes(PickleIo.KEY_LENGTH));
    }

    OneTimeKey toOneTimeKey(String what) {
      Curve25519SecretKey secret = Curve25519SecretKey.fromBytes(secretKey);
      if (!secret.publicKey().equals(Curve25519PublicKey.fromBytes(publicKey))) {
        throw new OlmDecodeException(
            ACCOUNT + ": " + what + " " + OneTimeKey.keyId(id) + " public key does not match");
      }
      return new OneTimeKey(id, secret, published);
    }
  }

  static Session session(byte[] plain, SecureRandom random) {
    PickleReader r = new PickleReader(plain);
    long version = PickleIo.readU32(r);
    if (version != SESSION_V1 && version != SESSION_V1_WITH_CHAIN_INDEX) {
      throw new OlmDecodeException(
          SESSION + ": expected version 1 or 0x80000001, got 0x" + Long.toHexString(version));
    }
    boolean received = r.readBool();
    SessionKeys keys =
        SessionKeys.of(
            PickleIo.readPublicKey(r), PickleIo.readPublicKey(r), PickleIo.readPublicKey(r));
    RootKey rootKey = new RootKey(r.readBytes(PickleIo.KEY_LENGTH));
    int senderCount = PickleIo.readCount(r, 1, SESSION + " sender chains");
    SenderChain sender = null;
    if (senderCount == 1) {
      Curve25519SecretKey ratchetKey = PickleIo.readKeyPair(r, SESSION + " sender chain");
      sender = new SenderChain(ratchetKey, readChainKey(r));
    }
    int chainCount =
        PickleIo.readCount(r, Session.MAX_RECEIVER_CHAINS, SESSION + " receiver chains");
    List<ReceiverChain> chains = new ArrayList<>(chainCount);
    for (int i = 0; i < chainCount; i++) {
      chains.add(new ReceiverChain(PickleIo.readPublicKey(r), readChainKey(r)));
    }
    int keyCount =
        PickleIo.readCount(r, Session.MAX_SKIPPED_MESSAGE_KEYS, SESSION + " skipped message keys");
    List<SkippedMessageKey> skipped = new ArrayList<>(keyCount);
    for (int i = 0; i < keyCount; i++) {
      Curve25519PublicKey ratchetKey = PickleIo.readPublicKey(r);
      byte[] key = r.readBytes(PickleIo.KEY_LENGTH);
      skipped.add(new SkippedMessageKey(ratchetKey, new MessageKey(key, PickleIo.readU32(r))));
    }
    if (version == SESSION_V1_WITH_CHAIN_INDEX) {
      PickleIo.readU32(r);
    }
    PickleIo.expectEnd(r, SESSION);
    return new Session(
        keys, SessionPickle.state(received, rootKey, sender, chains, skipped), random);
  }

  private static ChainKey readChainKey(PickleReader r) {
    byte[] key = r.readBytes(PickleIo.KEY_LENGTH);
    return new ChainKey(key, PickleIo.readU32(r));
  }
}
