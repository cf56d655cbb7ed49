package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.EncryptedPickle;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.UserDevice;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.TreeSet;

/**
 * The process {@link SqliteCrashTest} kills: runs machine-like steps against a SQLite store until
 * it is killed, printing each externally visible effect only after the save that makes it durable
 * has returned (the rule the real machine follows before a ciphertext or key upload leaves).
 *
 * <p>Output lines: {@code READY}; {@code MEGOLM <sessionId> <index>} (an index handed out for
 * encryption); {@code OTK_NEW <id>...} (one-time keys persisted, hence uploadable); {@code OTK_USED
 * <id>} (a claimed key consumed by a new Olm session).
 *
 * <p>The outbound Megolm session is real ({@link OutboundGroupSession}, pickled with {@link
 * #PICKLE_KEY}): each step encrypts a message, saves the advanced session, then prints the index.
 * The one-time-key bookkeeping and the Olm sessions use stand-in pickles ({@link FakeAccount})
 * because a real claim needs a peer and a server; the store treats pickles as opaque text either
 * way, and the machine will replace these stand-ins when it lands.
 */
public final class CrashChild {
  static final AccountId ACCOUNT = AccountId.of("@crash:example.org", "CRASHDEV");
  static final String ROOM = "!crash:example.org";

  /** Rotate the outbound session after this many messages, like {@code rotation_period_msgs}. */
  static final int ROTATE_AFTER = 40;

  /** Generate more one-time keys when fewer than this many are unused. */
  static final int OTK_LOW_WATER = 20;

  /** Fixed test pickle key (never a real deployment's key). */
  static final byte[] PICKLE_KEY = new byte[32];

  static {
    Arrays.fill(PICKLE_KEY, (byte) 0x5c);
  }

  private CrashChild() {}

  /** Arguments: store file, random seed. */
  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    Random random = new Random(Long.parseLong(args[1]));
    SecureRandom secureRandom = new SecureRandom();
    PrintStream out = System.out;
    SqliteCryptoStore store = SqliteCryptoStore.open(file, ACCOUNT);
    if (store.account().isEmpty()) {
      store.save(new Changes().putAccount(FakeAccount.EMPTY.toRecord()));
    }
    warmUp(secureRandom);
    emit(out, "READY");
    while (true) {
      int dice = random.nextInt(10);
      if (dice < 5) {
        reserveMegolmIndex(store, random, secureRandom, out);
      } else if (dice < 7) {
        generateOneTimeKeys(store, out);
      } else {
        claimOneTimeKey(store, random, out);
      }
    }
  }

  /**
   * Loads and exercises the crypto classes outside the store so that the parent's random kill
   * window covers store steps rather than JVM class loading.
   */
  private static void warmUp(SecureRandom secureRandom) {
    for (int i = 0; i < 5; i++) {
      OutboundGroupSession s = OutboundGroupSession.create(secureRandom);
      s.encrypt("warm-up");
      OutboundGroupSession.fromPickle(s.pickle(PICKLE_KEY), PICKLE_KEY).encrypt("warm-up");
    }
  }

  private static void emit(PrintStream out, String line) {
    out.println(line);
    out.flush();
  }

  private static void reserveMegolmIndex(
      SqliteCryptoStore store, Random random, SecureRandom secureRandom, PrintStream out) {
    Optional<OutboundGroupSessionRecord> current = store.outboundGroupSession(ROOM);
    OutboundGroupSession session;
    long createdAt;
    Changes changes = new Changes();
    if (current.isEmpty() || current.get().messageIndex() >= ROTATE_AFTER) {
      session = OutboundGroupSession.create(secureRandom);
      createdAt = System.currentTimeMillis();
      changes.putInboundGroupSession(
          new InboundGroupSessionRecord(
              ROOM,
              session.sessionId(),
              "ownCurve",
              "ownEd",
              0,
              true,
              false,
              new EncryptedPickle("stand-in inbound copy")));
    } else {
      session = OutboundGroupSession.fromPickle(current.get().pickle().ciphertext(), PICKLE_KEY);
      createdAt = current.get().createdAtMillis();
    }
    MegolmMessage message = session.encrypt("crash test message");
    long index = message.messageIndex();
    changes.putOutboundGroupSession(
        new OutboundGroupSessionRecord(
            ROOM,
            session.sessionId(),
            new EncryptedPickle(session.pickle(PICKLE_KEY)),
            session.messageIndex(),
            createdAt));
    changes.putOutboundSharedWith(
        ROOM,
        session.sessionId(),
        new UserDevice("@peer" + random.nextInt(5) + ":example.org", "D" + random.nextInt(3)),
        index);
    store.save(changes);
    // Only now may the ciphertext leave the process.
    emit(out, "MEGOLM " + session.sessionId() + " " + index);
  }

  private static void generateOneTimeKeys(SqliteCryptoStore store, PrintStream out) {
    FakeAccount account = FakeAccount.parse(store.account().orElseThrow());
    if (account.unused().size() >= OTK_LOW_WATER) {
      return;
    }
    TreeSet<Long> unused = new TreeSet<>(account.unused());
    StringBuilder line = new StringBuilder("OTK_NEW");
    long next = account.nextId();
    for (int i = 0; i < 5; i++, next++) {
      unused.add(next);
      line.append(' ').append(next);
    }
    store.save(new Changes().putAccount(new FakeAccount(next, unused, account.used()).toRecord()));
    emit(out, line.toString());
  }

  private static void claimOneTimeKey(SqliteCryptoStore store, Random random, PrintStream out) {
    FakeAccount account = FakeAccount.parse(store.account().orElseThrow());
    if (account.unused().isEmpty()) {
      return;
    }
    Long[] ids = account.unused().toArray(new Long[0]);
    long id = ids[random.nextInt(ids.length)];
    TreeSet<Long> unused = new TreeSet<>(account.unused());
    TreeSet<Long> used = new TreeSet<>(account.used());
    unused.remove(id);
    used.add(id);
    // The pre-key message's session and the account without the consumed key: one save.
    store.save(
        new Changes()
            .putAccount(new FakeAccount(account.nextId(), unused, used).toRecord())
            .putOlmSession(
                new OlmSessionRecord(
                    FakeAccount.peerKey(id), "olm-" + id, pickle("olm", "" + id, 0), id, id)));
    emit(out, "OTK_USED " + id);
  }

  static EncryptedPickle pickle(String kind, String id, long index) {
    return new EncryptedPickle(kind + ":" + id + ":" + index);
  }
}
