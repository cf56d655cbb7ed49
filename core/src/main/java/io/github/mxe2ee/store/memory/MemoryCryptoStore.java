package io.github.mxe2ee.store.memory;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.Change;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.TrackedUser;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import io.github.mxe2ee.store.memory.MemoryState.Key;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@link CryptoStore} kept in process memory, for tests and short-lived tools. Honors the whole
 * contract of {@link CryptoStore} (atomic saves, isolation, account scoping, the same constraints
 * as the SQL backends) except durability beyond the process. A save copies the account's state,
 * applies the changes to the copy and publishes it only if every change succeeded, so it costs
 * O(stored records): not meant for large stores.
 *
 * <p>Thread-safe: every call synchronizes on the {@link MemoryDatabase}.
 */
public final class MemoryCryptoStore implements CryptoStore {
  private final MemoryDatabase db;
  private final AccountId accountId;
  private boolean closed;

  private MemoryCryptoStore(MemoryDatabase db, AccountId accountId) {
    this.db = Objects.requireNonNull(db, "db");
    this.accountId = Objects.requireNonNull(accountId, "accountId");
  }

  /** Opens a store for {@code accountId} in a fresh private database. */
  public static MemoryCryptoStore create(AccountId accountId) {
    return new MemoryCryptoStore(new MemoryDatabase(), accountId);
  }

  /** Opens (or reopens) the store of {@code accountId} inside a shared database. */
  public static MemoryCryptoStore open(MemoryDatabase db, AccountId accountId) {
    return new MemoryCryptoStore(db, accountId);
  }

  @Override
  public AccountId accountId() {
    return accountId;
  }

  private void ensureOpen() {
    if (closed) {
      throw new StoreException(StoreException.Reason.CLOSED, "store of " + accountId + " closed");
    }
  }

  private <T> T read(Function<MemoryState, T> reader) {
    synchronized (db) {
      ensureOpen();
      return reader.apply(db.state(accountId));
    }
  }

  @Override
  public void save(Changes changes) {
    Objects.requireNonNull(changes, "changes");
    synchronized (db) {
      ensureOpen();
      if (changes.isEmpty()) {
        return;
      }
      MemoryState next = db.state(accountId).copy();
      for (Change change : changes.list()) {
        MemoryChangeApplier.apply(next, change);
      }
      db.commit(accountId, next);
    }
  }

  @Override
  public void close() {
    synchronized (db) {
      closed = true;
    }
  }

  @Override
  public Optional<AccountRecord> account() {
    return read(s -> Optional.ofNullable(s.account));
  }

  @Override
  public List<OlmSessionRecord> olmSessions(String senderKey) {
    Objects.requireNonNull(senderKey, "senderKey");
    return read(
        s -> {
          List<OlmSessionRecord> out = new ArrayList<>();
          for (OlmSessionRecord r : s.olmSessions.values()) {
            if (r.senderKey().equals(senderKey)) {
              out.add(r);
            }
          }
          out.sort(
              Comparator.comparingLong(OlmSessionRecord::lastDecryptedAtMillis)
                  .reversed()
                  .thenComparing(OlmSessionRecord::sessionId));
          return out;
        });
  }

  @Override
  public Optional<InboundGroupSessionRecord> inboundGroupSession(
      String roomId, String senderKey, String sessionId) {
    Key key = new Key(Objects.requireNonNull(roomId), Objects.requireNonNull(sessionId));
    Objects.requireNonNull(senderKey, "senderKey");
    return read(
        s -> Optional.ofNullable(s.inbound.getOrDefault(key, EMPTY_INBOUND).get(senderKey)));
  }

  private static final java.util.TreeMap<String, InboundGroupSessionRecord> EMPTY_INBOUND =
      new java.util.TreeMap<>();

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessions(String roomId, String sessionId) {
    Key key = new Key(Objects.requireNonNull(roomId), Objects.requireNonNull(sessionId));
    return read(s -> List.copyOf(s.inbound.getOrDefault(key, EMPTY_INBOUND).values()));
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessionsToBackUp(int limit) {
    return read(
        s -> s.inboundRecords().filter(r -> !r.backedUp()).limit(Math.max(0, limit)).toList());
  }

  @Override
  public List<InboundGroupSessionRecord> inboundGroupSessionsAfter(
      String roomId, String senderKey, String sessionId, int limit) {
    if ((roomId == null) != (sessionId == null) || (roomId == null) != (senderKey == null)) {
      throw new IllegalArgumentException(
          "roomId, senderKey and sessionId must all be null or all be set");
    }
    java.util.Comparator<InboundGroupSessionRecord> order =
        java.util.Comparator.comparing(InboundGroupSessionRecord::roomId)
            .thenComparing(InboundGroupSessionRecord::senderKey)
            .thenComparing(InboundGroupSessionRecord::sessionId);
    return read(
        s ->
            s.inboundRecords()
                .filter(
                    r ->
                        roomId == null
                            || r.roomId().compareTo(roomId) > 0
                            || (r.roomId().equals(roomId)
                                && (r.senderKey().compareTo(senderKey) > 0
                                    || (r.senderKey().equals(senderKey)
                                        && r.sessionId().compareTo(sessionId) > 0))))
                .sorted(order)
                .limit(Math.max(0, limit))
                .toList());
  }

  @Override
  public List<InboundGroupSessionRecord> sharedHistoryInboundGroupSessions(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return read(
        s ->
            s.inboundRecords()
                .filter(r -> r.roomId().equals(roomId) && r.sharedHistory())
                .sorted(Comparator.comparing(InboundGroupSessionRecord::sessionId))
                .toList());
  }

  @Override
  public long inboundGroupSessionCount() {
    return read(s -> s.inboundRecords().count());
  }

  @Override
  public Optional<OutboundGroupSessionRecord> outboundGroupSession(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return read(s -> Optional.ofNullable(s.outbound.get(roomId)));
  }

  @Override
  public Map<UserDevice, Long> outboundSharedWith(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return read(s -> Map.copyOf(s.sharedWith.getOrDefault(roomId, Map.of())));
  }

  @Override
  public List<DeviceRecord> devices(String userId) {
    Objects.requireNonNull(userId, "userId");
    return read(
        s ->
            s.devices.values().stream()
                .filter(d -> d.userId().equals(userId))
                .sorted(Comparator.comparing(DeviceRecord::deviceId))
                .toList());
  }

  @Override
  public Optional<DeviceRecord> device(String userId, String deviceId) {
    Key key = new Key(Objects.requireNonNull(userId), Objects.requireNonNull(deviceId));
    return read(s -> Optional.ofNullable(s.devices.get(key)));
  }

  @Override
  public Optional<CrossSigningIdentityRecord> crossSigningIdentity(String userId) {
    Objects.requireNonNull(userId, "userId");
    return read(s -> Optional.ofNullable(s.identities.get(userId)));
  }

  @Override
  public Optional<TrackedUser> trackedUser(String userId) {
    Objects.requireNonNull(userId, "userId");
    return read(s -> Optional.ofNullable(s.tracked.get(userId)));
  }

  @Override
  public List<TrackedUser> trackedUsers() {
    return read(s -> List.copyOf(s.tracked.values()));
  }

  @Override
  public List<String> outdatedUsers() {
    return read(
        s ->
            s.tracked.values().stream()
                .filter(TrackedUser::outdated)
                .map(TrackedUser::userId)
                .toList());
  }

  @Override
  public Optional<OutgoingKeyRequest> outgoingKeyRequest(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    return read(s -> Optional.ofNullable(s.keyRequests.get(requestId)));
  }

  @Override
  public Optional<OutgoingKeyRequest> outgoingKeyRequestFor(String roomId, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(sessionId, "sessionId");
    return read(
        s ->
            s.keyRequests.values().stream()
                .filter(r -> r.roomId().equals(roomId) && r.sessionId().equals(sessionId))
                .findFirst());
  }

  @Override
  public List<OutgoingKeyRequest> outgoingKeyRequests(KeyRequestState state) {
    Objects.requireNonNull(state, "state");
    return read(s -> s.keyRequests.values().stream().filter(r -> r.state() == state).toList());
  }

  @Override
  public Optional<ReplayRecord> replayRecord(
      String roomId, String senderKey, String sessionId, long messageIndex) {
    String key =
        MemoryState.replayKey(
            Objects.requireNonNull(roomId, "roomId"),
            Objects.requireNonNull(senderKey, "senderKey"),
            Objects.requireNonNull(sessionId, "sessionId"),
            messageIndex);
    return read(s -> Optional.ofNullable(s.replay.get(key)));
  }

  @Override
  public long replayRecordMaxIndex(String roomId, String senderKey, String sessionId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(sessionId, "sessionId");
    return read(
        s ->
            s.replay.values().stream()
                .filter(
                    r ->
                        r.roomId().equals(roomId)
                            && r.senderKey().equals(senderKey)
                            && r.sessionId().equals(sessionId))
                .mapToLong(ReplayRecord::messageIndex)
                .max()
                .orElse(-1L));
  }

  @Override
  public long replayRecordCount() {
    return read(s -> (long) s.replay.size());
  }

  @Override
  public List<WithheldRecord> withheld(String roomId, String sessionId) {
    Key key = new Key(Objects.requireNonNull(roomId), Objects.requireNonNull(sessionId));
    return read(
        s -> {
          var notices = s.withheld.get(key);
          return notices == null ? List.of() : List.copyOf(notices.values());
        });
  }

  @Override
  public long withheldCount(String senderKey) {
    return read(
        s ->
            s.withheld.values().stream()
                .flatMap(notices -> notices.values().stream())
                .filter(r -> senderKey == null || r.senderKey().equals(senderKey))
                .count());
  }

  @Override
  public List<WithheldRecord> oldestWithheld(String senderKey, int offset, int limit) {
    if (offset < 0 || limit < 0) {
      throw new IllegalArgumentException("offset and limit must not be negative");
    }
    return read(
        s ->
            s.withheld.values().stream()
                .flatMap(notices -> notices.values().stream())
                .filter(r -> senderKey == null || r.senderKey().equals(senderKey))
                .sorted(
                    java.util.Comparator.comparingLong(WithheldRecord::receivedAtMillis)
                        .thenComparing(WithheldRecord::roomId)
                        .thenComparing(WithheldRecord::senderKey)
                        .thenComparing(WithheldRecord::sessionId))
                .skip(offset)
                .limit(limit)
                .toList());
  }

  @Override
  public Optional<String> syncToken() {
    return read(s -> Optional.ofNullable(s.syncToken));
  }

  @Override
  public Optional<PendingRoomKeyBundle> pendingRoomKeyBundle(String roomId, String inviter) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(inviter, "inviter");
    return read(s -> Optional.ofNullable(s.bundles.get(MemoryState.bundleKey(roomId, inviter))));
  }

  @Override
  public List<PendingRoomKeyBundle> pendingRoomKeyBundles() {
    return read(s -> List.copyOf(s.bundles.values()));
  }

  @Override
  public Optional<byte[]> value(String key) {
    Objects.requireNonNull(key, "key");
    return read(s -> Optional.ofNullable(s.values.get(key)).map(byte[]::clone));
  }

  @Override
  public String toString() {
    return "MemoryCryptoStore[" + accountId + "]";
  }
}
