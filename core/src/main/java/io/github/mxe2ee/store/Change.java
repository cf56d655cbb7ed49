package io.github.mxe2ee.store;

import java.util.Arrays;

/**
 * One put or delete inside a {@link Changes}. Backends apply the changes of a save in order, so a
 * later change to the same key wins. Puts are upserts; deleting something absent is a no-op.
 */
public sealed interface Change {
  /** Replaces the account. */
  record PutAccount(AccountRecord account) implements Change {}

  /** Upserts an Olm session keyed by (sender key, session id). */
  record PutOlmSession(OlmSessionRecord session) implements Change {}

  /** Deletes an Olm session. */
  record DeleteOlmSession(String senderKey, String sessionId) implements Change {}

  /** Upserts an inbound group session keyed by (room id, sender key, session id). */
  record PutInboundGroupSession(InboundGroupSessionRecord session) implements Change {}

  /** Deletes an inbound group session. */
  record DeleteInboundGroupSession(String roomId, String senderKey, String sessionId)
      implements Change {}

  /** Marks an existing inbound group session as backed up (no-op if absent). */
  record MarkInboundGroupSessionBackedUp(String roomId, String senderKey, String sessionId)
      implements Change {}

  /** Marks every inbound group session as not backed up (a new backup version was created). */
  record ResetInboundGroupSessionBackup() implements Change {}

  /**
   * Upserts the room's outbound group session. If the session id differs from the stored one
   * (rotation), the old session's shared-with entries are dropped.
   */
  record PutOutboundGroupSession(OutboundGroupSessionRecord session) implements Change {}

  /**
   * Stores the room's outbound group session after it encrypted, as a compare-and-set on the
   * message index: applied only if the stored record is the same session at {@code expectedIndex}
   * (the index the encryption used); otherwise the whole save fails with {@link
   * StoreException.Reason#CONSTRAINT} and nothing of it is applied. Two processes that both loaded
   * the session at index i and both encrypted at i cannot both save: one index is never handed out
   * twice, even if the guard that keeps one process per device (for PostgreSQL, the advisory lock)
   * were lost.
   */
  record AdvanceOutboundGroupSession(OutboundGroupSessionRecord session, long expectedIndex)
      implements Change {
    /** Validates arguments: the new index must be above the expected one. */
    public AdvanceOutboundGroupSession {
      Require.nonNull(session, "session");
      Require.nonNegative(expectedIndex, "expectedIndex");
      if (session.messageIndex() <= expectedIndex) {
        throw new IllegalArgumentException(
            "an advance must raise the index: expected index "
                + expectedIndex
                + " but new index "
                + session.messageIndex());
      }
    }

    /** The error a backend throws when the stored record does not match. */
    public StoreException conflict() {
      return new StoreException(
          StoreException.Reason.CONSTRAINT,
          "outbound Megolm session "
              + session.sessionId()
              + " of room "
              + session.roomId()
              + " is no longer stored at index "
              + expectedIndex
              + ": another writer used or replaced it (refused so that no index is used twice)");
    }
  }

  /** Deletes the room's outbound group session and its shared-with entries. */
  record DeleteOutboundGroupSession(String roomId) implements Change {}

  /**
   * Records that the outbound session {@code sessionId} of {@code roomId} was shared with a device
   * starting at {@code messageIndex}. Ignored (a no-op) unless that session is the room's current
   * outbound session when the change is applied: an acknowledgement that arrives after the session
   * was rotated or discarded is irrelevant and must not fail the machine step.
   */
  record PutOutboundSharedWith(
      String roomId, String sessionId, UserDevice device, long messageIndex) implements Change {
    /** Validates arguments. */
    public PutOutboundSharedWith {
      Require.nonEmpty(roomId, "roomId");
      Require.nonEmpty(sessionId, "sessionId");
      Require.nonNull(device, "device");
      Require.nonNegative(messageIndex, "messageIndex");
    }
  }

  /** Upserts a device keyed by (user id, device id). */
  record PutDevice(DeviceRecord device) implements Change {}

  /** Deletes a device row entirely (prefer {@code deleted = true} to keep history resolvable). */
  record DeleteDevice(String userId, String deviceId) implements Change {}

  /** Upserts a user's cross-signing identity. */
  record PutCrossSigningIdentity(CrossSigningIdentityRecord identity) implements Change {}

  /** Deletes a user's cross-signing identity. */
  record DeleteCrossSigningIdentity(String userId) implements Change {}

  /** Upserts a tracked user. */
  record PutTrackedUser(TrackedUser user) implements Change {}

  /** Stops tracking a user. */
  record DeleteTrackedUser(String userId) implements Change {}

  /** Upserts an outgoing key request keyed by request id (unique per room and session). */
  record PutOutgoingKeyRequest(OutgoingKeyRequest request) implements Change {}

  /** Deletes an outgoing key request. */
  record DeleteOutgoingKeyRequest(String requestId) implements Change {}

  /** Upserts a withheld record keyed by (room id, sender key, session id). */
  record PutWithheld(WithheldRecord withheld) implements Change {}

  /** Deletes a withheld record. */
  record DeleteWithheld(String roomId, String senderKey, String sessionId) implements Change {}

  /** Replaces the sync token ({@code next_batch}). */
  record PutSyncToken(String token) implements Change {}

  /** Upserts the pending room key bundle of a room. */
  record PutPendingRoomKeyBundle(PendingRoomKeyBundle bundle) implements Change {}

  /** Deletes the pending room key bundle of a room. */
  record DeletePendingRoomKeyBundle(String roomId, String inviter) implements Change {}

  /**
   * Upserts a small value. {@code toString} prints only the key and length: values may be secret
   * material that is already encrypted, or not.
   */
  record PutValue(String key, byte[] value) implements Change {
    /** Copies the value. */
    public PutValue {
      Require.nonEmpty(key, "key");
      value = Require.nonNull(value, "value").clone();
    }

    /** Returns a copy of the value. */
    @Override
    public byte[] value() {
      return value.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PutValue p && p.key.equals(key) && Arrays.equals(p.value, value);
    }

    @Override
    public int hashCode() {
      return key.hashCode();
    }

    @Override
    public String toString() {
      return "PutValue[key=" + key + ", " + value.length + " bytes]";
    }
  }

  /** Deletes a small value. */
  record DeleteValue(String key) implements Change {}

  /**
   * Records which event used an index of an inbound Megolm session. Inserted only if absent: the
   * first event recorded at an index stays (a later put of the same index is a no-op).
   */
  record PutReplayRecord(ReplayRecord record) implements Change {
    /** Validates arguments. */
    public PutReplayRecord {
      Require.nonNull(record, "record");
    }
  }

  /**
   * Keeps only the {@code keep} most recently recorded replay records of the account, deleting the
   * oldest recorded first (a no-op while there are at most {@code keep}).
   */
  record PruneReplayRecords(int keep) implements Change {
    /** Validates arguments: {@code keep} is positive. */
    public PruneReplayRecords {
      if (keep < 1) {
        throw new IllegalArgumentException("keep must be positive, was " + keep);
      }
    }
  }
}
