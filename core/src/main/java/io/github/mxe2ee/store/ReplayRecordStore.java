package io.github.mxe2ee.store;

import java.util.Optional;

/**
 * Reads the Megolm replay records ({@link ReplayRecord}): the event that first used each (session,
 * message index). Written with {@link Changes#putReplayRecord} (first record of an index wins) and
 * bounded with {@link Changes#pruneReplayRecords} (oldest recorded first out).
 */
public interface ReplayRecordStore {
  /** Returns the record of this index of the session (room id, sender key, session id), if kept. */
  Optional<ReplayRecord> replayRecord(
      String roomId, String senderKey, String sessionId, long messageIndex);

  /**
   * Returns the highest message index recorded for the session (room id, sender key, session id),
   * or -1 if none is: indices above it need no look-up.
   */
  long replayRecordMaxIndex(String roomId, String senderKey, String sessionId);

  /** Returns how many replay records this account keeps. */
  long replayRecordCount();
}
