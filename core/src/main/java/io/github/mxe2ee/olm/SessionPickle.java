package io.github.mxe2ee.olm;

import io.github.mxe2ee.pickle.PickleReader;
import io.github.mxe2ee.pickle.PickleWriter;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * mxe2ee's persisted form of a {@link Session} (before {@code PickleCipher.mxe2ee} encryption).
 * Big-endian; every count is bounded by the live type's limit.
 *
 * <pre>
 * +--------+---------------------------------------------------------------+
 * | size   | field                                                         |
 * +--------+---------------------------------------------------------------+
 * | u32    | version = 1                                                   |
 * | u8     | received message (0/1)                                        |
 * | 32     | Alice's identity key I_A                                      |
 * | 32     | Alice's base key E_A                                          |
 * | 32     | Bob's one-time key E_B                                        |
 * | 32     | root key R_i                                                  |
 * | u8     | has sender chain (0/1); if 1:                                 |
 * |  32    |   our ratchet private key T_i                                 |
 * |  32    |   chain key                                                   |
 * |  u32   |   chain index                                                 |
 * | u32    | receiver chain count (&lt;= 5), newest first, each:             |
 * |  32    |   their ratchet key, 32 chain key, u32 chain index            |
 * | u32    | skipped message key count (&lt;= 40), newest first, each:       |
 * |  32    |   their ratchet key, 32 message key, u32 chain index          |
 * +--------+---------------------------------------------------------------+
 * </pre>
 *
 * <p>Stateless utility; thread-safe.
 */
final class SessionPickle {
  /** Current version of this layout; bump it (and keep reading old ones) on any change. */
  static final int VERSION = 1;

  private static final String WHAT = "mxe2ee session pickle";

  private SessionPickle() {}

  static byte[] encode(Session session) {
    RatchetState s = session.state();
    SessionKeys keys = session.sessionKeys();
    PickleWriter w = new PickleWriter();
    PickleIo.writeU32(w, VERSION);
    w.writeBool(s.receivedMessage());
    w.writeBytes(keys.identityKey().toBytes());
    w.writeBytes(keys.baseKey().toBytes());
    w.writeBytes(keys.oneTimeKey().toBytes());
    w.writeBytes(s.rootKey().exposeSecretBytes());
    SenderChain sender = s.senderChain();
    w.writeBool(sender != null);
    if (sender != null) {
      w.writeBytes(sender.ratchetKey().exposeSecretBytes());
      writeChainKey(w, sender.chainKey());
    }
    PickleIo.writeU32(w, s.receiverChains().size());
    for (ReceiverChain chain : s.receiverChains()) {
      w.writeBytes(chain.ratchetKey().toBytes());
      writeChainKey(w, chain.chainKey());
    }
    PickleIo.writeU32(w, s.skippedMessageKeys().size());
    for (SkippedMessageKey key : s.skippedMessageKeys()) {
      w.writeBytes(key.ratchetKey().toBytes());
      w.writeBytes(key.messageKey().exposeSecretBytes());
      PickleIo.writeU32(w, key.messageKey().index());
    }
    return w.toByteArray();
  }

  private static void writeChainKey(PickleWriter w, ChainKey chainKey) {
    w.writeBytes(chainKey.exposeSecretBytes());
    PickleIo.writeU32(w, chainKey.index());
  }

  static Session decode(byte[] plain, SecureRandom random) {
    PickleReader r = new PickleReader(plain);
    long version = PickleIo.readU32(r);
    if (version != VERSION) {
      throw new OlmDecodeException(WHAT + ": expected version " + VERSION + ", got " + version);
    }
    boolean received = r.readBool();
    SessionKeys keys =
        SessionKeys.of(
            PickleIo.readPublicKey(r), PickleIo.readPublicKey(r), PickleIo.readPublicKey(r));
    RootKey rootKey = new RootKey(r.readBytes(PickleIo.KEY_LENGTH));
    SenderChain sender = null;
    if (r.readBool()) {
      sender = new SenderChain(PickleIo.readSecretKey(r), readChainKey(r));
    }
    int chainCount = PickleIo.readCount(r, Session.MAX_RECEIVER_CHAINS, WHAT + " receiver chains");
    List<ReceiverChain> chains = new ArrayList<>(chainCount);
    for (int i = 0; i < chainCount; i++) {
      chains.add(new ReceiverChain(PickleIo.readPublicKey(r), readChainKey(r)));
    }
    int keyCount =
        PickleIo.readCount(r, Session.MAX_SKIPPED_MESSAGE_KEYS, WHAT + " skipped message keys");
    List<SkippedMessageKey> skipped = new ArrayList<>(keyCount);
    for (int i = 0; i < keyCount; i++) {
      var ratchetKey = PickleIo.readPublicKey(r);
      byte[] key = r.readBytes(PickleIo.KEY_LENGTH);
      skipped.add(new SkippedMessageKey(ratchetKey, new MessageKey(key, PickleIo.readU32(r))));
    }
    PickleIo.expectEnd(r, WHAT);
    return new Session(keys, state(received, rootKey, sender, chains, skipped), random);
  }

  private static ChainKey readChainKey(PickleReader r) {
    byte[] key = r.readBytes(PickleIo.KEY_LENGTH);
    return new ChainKey(key, PickleIo.readU32(r));
  }

  static RatchetState state(
      boolean received,
      RootKey rootKey,
      SenderChain sender,
      List<ReceiverChain> chains,
      List<SkippedMessageKey> skipped) {
    if (sender == null && chains.isEmpty()) {
      throw new OlmDecodeException("session pickle: neither a sender nor a receiver chain");
    }
    return new RatchetState(received, rootKey, sender, chains, skipped);
  }
}
