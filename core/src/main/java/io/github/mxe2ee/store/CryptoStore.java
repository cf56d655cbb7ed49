package io.github.mxe2ee.store;

/**
 * Everything the E2EE machine persists for one {@link AccountId}: small read interfaces plus one
 * atomic {@link #save(Changes)} per machine step. Modelled on the {@code OlmMachine} store of
 * matrix-sdk-crypto and libsignal's composed stores.
 *
 * <h2>Durability contract</h2>
 *
 * <ul>
 *   <li><b>Atomic:</b> {@code save} applies either every change of a {@link Changes} or none. If it
 *       throws, the store is exactly as before the call.
 *   <li><b>Durable:</b> once {@code save} returns, everything in it survives a process kill
 *       (SIGKILL) and, for disk-backed stores, a power loss (SQLite: WAL journal with {@code
 *       synchronous=FULL}, i.e. the WAL is fsynced at every commit). {@code MemoryCryptoStore} is
 *       durable only for the life of its process.
 *   <li><b>Isolated:</b> reads never see a {@code Changes} that is not saved yet, nor one whose
 *       save failed.
 *   <li><b>Scoped:</b> a store reads and writes only the rows of its {@link #accountId()}; several
 *       accounts may share one database.
 * </ul>
 *
 * <p>What the machine does with it: persist an outbound Megolm index before the ciphertext leaves;
 * persist one-time keys before they are uploaded; persist an Olm session only after a successful
 * decrypt, together with the account that lost the claimed one-time key. A crash then loses and
 * reuses nothing.
 *
 * <h2>Secrets</h2>
 *
 * Pickles arrive already encrypted ({@link EncryptedPickle}); the store never sees a pickle key.
 *
 * <h2>Threads and errors</h2>
 *
 * Implementations are thread-safe (calls are serialized), though the machine uses a store from one
 * thread. Every method may throw {@link StoreException}; arguments are non-null unless stated.
 */
public interface CryptoStore
    extends AccountStore,
        OlmSessionStore,
        InboundGroupSessionStore,
        OutboundGroupSessionStore,
        DeviceStore,
        TrackedUserStore,
        KeyRequestStore,
        WithheldStore,
        SyncTokenStore,
        RoomKeyBundleStore,
        KeyValueStore,
        ReplayRecordStore,
        AutoCloseable {

  /** Returns the account this store is scoped to. */
  AccountId accountId();

  /**
   * Applies all {@code changes} atomically and durably (see the class Javadoc). An empty {@code
   * Changes} is a no-op.
   *
   * @throws StoreException with {@link StoreException.Reason#CONSTRAINT} if a change breaks a
   *     constraint (nothing is applied), or another reason on I/O failure (nothing is applied)
   */
  void save(Changes changes);

  /** Releases resources. Idempotent; later calls other than {@code close} throw CLOSED. */
  @Override
  void close();
}
