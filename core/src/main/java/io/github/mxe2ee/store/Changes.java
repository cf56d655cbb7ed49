package io.github.mxe2ee.store;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Everything one machine step wants to persist, applied by {@link CryptoStore#save(Changes)} as one
 * atomic, durable transaction. A builder: each method appends a {@link Change} and returns {@code
 * this}. Changes are applied in the order they were added, so a later put or delete of the same key
 * wins.
 *
 * <p>Not thread-safe; build it on the machine's thread. The store does not keep a reference after
 * {@code save} returns, so a {@code Changes} may be discarded or reused (with {@link #clear()}).
 */
public final class Changes {
  private final List<Change> changes = new ArrayList<>();

  /** Creates an empty set of changes. */
  public Changes() {}

  /** Appends an arbitrary change. */
  public Changes add(Change change) {
    changes.add(Require.nonNull(change, "change"));
    return this;
  }

  /** Replaces the account. */
  public Changes putAccount(AccountRecord account) {
    return add(new Change.PutAccount(Require.nonNull(account, "account")));
  }

  /** Upserts an Olm session. */
  public Changes putOlmSession(OlmSessionRecord session) {
    return add(new Change.PutOlmSession(Require.nonNull(session, "session")));
  }

  /** Deletes an Olm session. */
  public Changes deleteOlmSession(String senderKey, String sessionId) {
    return add(
        new Change.DeleteOlmSession(
            Require.nonEmpty(senderKey, "senderKey"), Require.nonEmpty(sessionId, "sessionId")));
  }

  /** Upserts an inbound group session. */
  public Changes putInboundGroupSession(InboundGroupSessionRecord session) {
    return add(new Change.PutInboundGroupSession(Require.nonNull(session, "session")));
  }

  /** Deletes the inbound group session with this (room id, sender key, session id). */
  public Changes deleteInboundGroupSession(String roomId, String senderKey, String sessionId) {
    return add(
        new Change.DeleteInboundGroupSession(
            Require.nonEmpty(roomId, "roomId"),
            Require.nonEmpty(senderKey, "senderKey"),
            Require.nonEmpty(sessionId, "sessionId")));
  }

  /** Marks the inbound group session with this (room id, sender key, session id) backed up. */
  public Changes markInboundGroupSessionBackedUp(
      String roomId, String senderKey, String sessionId) {
    return add(
        new Change.MarkInboundGroupSessionBackedUp(
            Require.nonEmpty(roomId, "roomId"),
            Require.nonEmpty(senderKey, "senderKey"),
            Require.nonEmpty(sessionId, "sessionId")));
  }

  /** Marks all inbound group sessions as not backed up. */
  public Changes resetInboundGroupSessionBackup() {
    return add(new Change.ResetInboundGroupSessionBackup());
  }

  /** Upserts a room's outbound group session. */
  public Changes putOutboundGroupSession(OutboundGroupSessionRecord session) {
    return add(new Change.PutOutboundGroupSession(Require.nonNull(session, "session")));
  }

  /**
   * Stores a room's outbound group session that encrypted at {@code expectedIndex}, if the store
   * still holds that session at that index (see {@link Change.AdvanceOutboundGroupSession}).
   */
  public Changes advanceOutboundGroupSession(
      OutboundGroupSessionRecord session, long expectedIndex) {
    return add(new Change.AdvanceOutboundGroupSession(session, expectedIndex));
  }

  /** Deletes a room's outbound group session. */
  public Changes deleteOutboundGroupSession(String roomId) {
    return add(new Change.DeleteOutboundGroupSession(Require.nonEmpty(roomId, "roomId")));
  }

  /** Records a device the room's outbound session was shared with. */
  public Changes putOutboundSharedWith(
      String roomId, String sessionId, UserDevice device, long messageIndex) {
    return add(new Change.PutOutboundSharedWith(roomId, sessionId, device, messageIndex));
  }

  /** Upserts a device. */
  public Changes putDevice(DeviceRecord device) {
    return add(new Change.PutDevice(Require.nonNull(device, "device")));
  }

  /** Deletes a device row. */
  public Changes deleteDevice(String userId, String deviceId) {
    return add(
        new Change.DeleteDevice(
            Require.nonEmpty(userId, "userId"), Require.nonEmpty(deviceId, "deviceId")));
  }

  /** Upserts a cross-signing identity. */
  public Changes putCrossSigningIdentity(CrossSigningIdentityRecord identity) {
    return add(new Change.PutCrossSigningIdentity(Require.nonNull(identity, "identity")));
  }

  /** Deletes a cross-signing identity. */
  public Changes deleteCrossSigningIdentity(String userId) {
    return add(new Change.DeleteCrossSigningIdentity(Require.nonEmpty(userId, "userId")));
  }

  /** Upserts a tracked user. */
  public Changes putTrackedUser(TrackedUser user) {
    return add(new Change.PutTrackedUser(Require.nonNull(user, "user")));
  }

  /** Stops tracking a user. */
  public Changes deleteTrackedUser(String userId) {
    return add(new Change.DeleteTrackedUser(Require.nonEmpty(userId, "userId")));
  }

  /** Upserts an outgoing key request. */
  public Changes putOutgoingKeyRequest(OutgoingKeyRequest request) {
    return add(new Change.PutOutgoingKeyRequest(Require.nonNull(request, "request")));
  }

  /** Deletes an outgoing key request. */
  public Changes deleteOutgoingKeyRequest(String requestId) {
    return add(new Change.DeleteOutgoingKeyRequest(Require.nonEmpty(requestId, "requestId")));
  }

  /** Upserts a withheld record. */
  public Changes putWithheld(WithheldRecord withheld) {
    return add(new Change.PutWithheld(Require.nonNull(withheld, "withheld")));
  }

  /** Deletes the withheld record with this (room id, sender key, session id). */
  public Changes deleteWithheld(String roomId, String senderKey, String sessionId) {
    return add(
        new Change.DeleteWithheld(
            Require.nonEmpty(roomId, "roomId"),
            Require.nonEmpty(senderKey, "senderKey"),
            Require.nonEmpty(sessionId, "sessionId")));
  }

  /** Replaces the sync token. */
  public Changes putSyncToken(String token) {
    return add(new Change.PutSyncToken(Require.nonEmpty(token, "token")));
  }

  /** Upserts a pending room key bundle. */
  public Changes putPendingRoomKeyBundle(PendingRoomKeyBundle bundle) {
    return add(new Change.PutPendingRoomKeyBundle(Require.nonNull(bundle, "bundle")));
  }

  /** Deletes the pending room key bundle {@code inviter} sent for a room. */
  public Changes deletePendingRoomKeyBundle(String roomId, String inviter) {
    return add(
        new Change.DeletePendingRoomKeyBundle(
            Require.nonEmpty(roomId, "roomId"), Require.nonEmpty(inviter, "inviter")));
  }

  /** Upserts a small value (the bytes are copied). */
  public Changes putValue(String key, byte[] value) {
    return add(new Change.PutValue(key, value));
  }

  /** Deletes a small value. */
  public Changes deleteValue(String key) {
    return add(new Change.DeleteValue(Require.nonEmpty(key, "key")));
  }

  /** Records the event that used an index of an inbound Megolm session (first record wins). */
  public Changes putReplayRecord(ReplayRecord record) {
    return add(new Change.PutReplayRecord(record));
  }

  /** Keeps only the {@code keep} most recently recorded replay records. */
  public Changes pruneReplayRecords(int keep) {
    return add(new Change.PruneReplayRecords(keep));
  }

  /** Returns the changes in application order (unmodifiable view). */
  public List<Change> list() {
    return Collections.unmodifiableList(changes);
  }

  /** Returns whether nothing was added. */
  public boolean isEmpty() {
    return changes.isEmpty();
  }

  /** Returns the number of changes. */
  public int size() {
    return changes.size();
  }

  /** Removes every change. */
  public Changes clear() {
    changes.clear();
    return this;
  }

  @Override
  public String toString() {
    return "Changes[" + changes.size() + " changes]";
  }
}
