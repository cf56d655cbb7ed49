package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.postgres.PostgresCryptoStore;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Optional;

/**
 * The bridge's own small state, in the bridge's one store under a pseudo-account of the bot user
 * ({@value #STATE_DEVICE}): the bot's and each ghost's device id, which ghosts are set up, and the
 * ids of the last completed transactions. Every write is one durable store save. Not thread-safe:
 * the caller runs it on one worker. Not API.
 */
final class AppserviceState implements AutoCloseable {
  /** The device id of the pseudo-account that holds this state; no real device has it. */
  static final String STATE_DEVICE = "MXE2EE_APPSERVICE_STATE";

  private static final String BOT_DEVICE = "as.bot_device";
  private static final String GHOST_DEVICE = "as.ghost_device/";
  private static final String GHOST_READY = "as.ghost_ready/";
  private static final String TXN = "as.txn/";
  private static final String TXN_RING = "as.txn_ring";
  private static final String INBOX_SINCE = "as.inbox_since/";

  private final CryptoStore store;
  private final int remembered;
  private final ArrayDeque<String> ring = new ArrayDeque<>();

  private AppserviceState(CryptoStore store, int remembered) {
    this.store = store;
    this.remembered = remembered;
    store
        .value(TXN_RING)
        .ifPresent(
            b -> {
              for (String id : new String(b, StandardCharsets.UTF_8).split("\n")) {
                if (!id.isEmpty()) {
                  ring.add(id);
                }
              }
            });
  }

  /** Opens the state of {@code botUserId} in the store of {@code engine}. Blocking. */
  static AppserviceState open(E2eeOptions engine, String botUserId, int remembered) {
    AccountId account = AccountId.of(botUserId, STATE_DEVICE);
    CryptoStore store =
        engine.getPostgresUrl() != null
            ? PostgresCryptoStore.open(engine.getPostgresUrl(), account)
            : SqliteCryptoStore.open(Path.of(engine.getStorePath()), account);
    return new AppserviceState(store, remembered);
  }

  Optional<String> botDevice() {
    return text(BOT_DEVICE);
  }

  void putBotDevice(String deviceId) {
    store.save(new Changes().putValue(BOT_DEVICE, bytes(deviceId)));
  }

  Optional<String> ghostDevice(String userId) {
    return text(GHOST_DEVICE + userId);
  }

  /** Remembers a ghost's device id (before the device is created), not yet ready. */
  void putGhostDevice(String userId, String deviceId) {
    store.save(
        new Changes()
            .putValue(GHOST_DEVICE + userId, bytes(deviceId))
            .deleteValue(GHOST_READY + userId));
  }

  /** The master key of a ghost that is set up, if it is. */
  Optional<String> ghostMasterKey(String userId) {
    return text(GHOST_READY + userId);
  }

  /**
   * The ghost's user is registered, its device created, its keys and identity (this master key)
   * uploaded.
   */
  void markGhostReady(String userId, String masterKey) {
    store.save(new Changes().putValue(GHOST_READY + userId, bytes(masterKey)));
  }

  /** The {@code /sync} token up to which a device's to-device inbox was read, if any. */
  Optional<String> inboxSince(String userId, String deviceId) {
    return text(INBOX_SINCE + userId + "/" + deviceId);
  }

  void putInboxSince(String userId, String deviceId, String since) {
    store.save(new Changes().putValue(INBOX_SINCE + userId + "/" + deviceId, bytes(since)));
  }

  boolean txnCompleted(String txnId) {
    return store.value(TXN + txnId).isPresent();
  }

  /**
   * Saves {@code txnId} as completed; the oldest id past the bound is forgotten in the same save.
   */
  void completeTxn(String txnId) {
    if (txnCompleted(txnId)) {
      return;
    }
    Changes changes = new Changes().putValue(TXN + txnId, new byte[] {1});
    ArrayDeque<String> next = new ArrayDeque<>(ring);
    next.add(txnId);
    while (next.size() > remembered) {
      changes.deleteValue(TXN + next.removeFirst());
    }
    changes.putValue(TXN_RING, bytes(String.join("\n", next)));
    store.save(changes);
    ring.clear();
    ring.addAll(next);
  }

  private Optional<String> text(String key) {
    return store.value(key).map(b -> new String(b, StandardCharsets.UTF_8));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    store.close();
  }
}
