package io.github.mxe2ee.store.sqlite;

import static io.github.mxe2ee.store.Fixtures.ALICE;
import static io.github.mxe2ee.store.Fixtures.ROOM;
import static io.github.mxe2ee.store.Fixtures.inbound;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.ReplayRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The V5 migration adds {@code replay_records} (Megolm replay records that survive a restart) to a
 * version 4 store holding data: the data stays, the new table starts empty and is usable.
 */
class ReplayRecordsMigrationTest {
  @TempDir Path dir;

  @Test
  void v4StoreWithData_migratesToV5_keepingIt() {
    Path file = dir.resolve("v4.db");
    PendingRoomKeyBundle bundle = new PendingRoomKeyBundle("!a:x", "@i:x", "{\"a\":1}", 5);
    try (SqliteCryptoStore v4 =
        SqliteCryptoStore.open(
            file, ALICE, SqliteMigrations.load("/io/github/mxe2ee/store/sqlite/v4only/"))) {
      v4.save(
          new Changes()
              .putInboundGroupSession(inbound(ROOM, "s", true, false))
              .putPendingRoomKeyBundle(bundle)
              .putSyncToken("t"));
    }
    try (SqliteCryptoStore v5 = SqliteCryptoStore.open(file, ALICE)) {
      assertEquals(
          Optional.of(inbound(ROOM, "s", true, false)),
          v5.inboundGroupSession(ROOM, "senderKey-s", "s"));
      assertEquals(List.of(bundle), v5.pendingRoomKeyBundles());
      assertEquals(Optional.of("t"), v5.syncToken());
      assertEquals(0, v5.replayRecordCount());
      ReplayRecord r = new ReplayRecord(ROOM, "senderKey-s", "s", 3, "$e", 9);
      v5.save(new Changes().putReplayRecord(r));
      assertEquals(Optional.of(r), v5.replayRecord(ROOM, "senderKey-s", "s", 3));
    }
  }
}
