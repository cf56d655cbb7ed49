package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.EncryptedPickle;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.util.Base64;
import java.util.Random;

/**
 * Fills a store with realistic-size inbound group sessions for capacity tests: 43-character ids and
 * keys like real unpadded base64 Ed25519/Curve25519 keys, and a pickle the size of an encrypted
 * Megolm inbound session pickle (~300 characters), spread over {@link #ROOMS} rooms.
 */
final class SessionFiller {
  /** Number of distinct rooms the sessions are spread over. */
  static final int ROOMS = 1000;

  /** Sessions per save: big transactions, as a key backup import would do. */
  static final int BATCH = 10_000;

  /** Encrypted pickle length in bytes before base64 (~ libolm inbound session pickle size). */
  static final int PICKLE_BYTES = 230;

  private SessionFiller() {}

  static String roomId(int i) {
    return "!room" + (i % ROOMS) + ":example.org";
  }

  /** Session ids are derived from the index, so lookups can be generated without keeping them. */
  static String sessionId(int i) {
    byte[] b = new byte[32];
    new Random(i * 0x9E3779B97F4A7C15L).nextBytes(b);
    return Base64.getEncoder().withoutPadding().encodeToString(b);
  }

  static void fill(CryptoStore store, int count) {
    fill(store, count, BATCH);
  }

  /** Fills with saves of {@code batch} sessions each. */
  static void fill(CryptoStore store, int count, int batch) {
    Random random = new Random(count);
    byte[] pickle = new byte[PICKLE_BYTES];
    byte[] key = new byte[32];
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    Changes changes = new Changes();
    for (int i = 0; i < count; i++) {
      random.nextBytes(pickle);
      random.nextBytes(key);
      String senderKey = b64.encodeToString(key);
      random.nextBytes(key);
      changes.putInboundGroupSession(
          new InboundGroupSessionRecord(
              roomId(i),
              sessionId(i),
              senderKey,
              b64.encodeToString(key),
              0,
              (i & 1) == 0,
              false,
              new EncryptedPickle(b64.encodeToString(pickle))));
      if (changes.size() == batch) {
        store.save(changes);
        changes = new Changes();
      }
    }
    store.save(changes);
  }
}
