package io.github.mxe2ee.store.memory;

import io.github.mxe2ee.store.Change;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.WithheldRecord;
import io.github.mxe2ee.store.memory.MemoryState.Key;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Applies {@link Change}s to a {@link MemoryState} copy, enforcing the same constraints as the SQL
 * schema. Not API.
 */
final class MemoryChangeApplier {
  private MemoryChangeApplier() {}

  static void apply(MemoryState s, Change change) {
    if (change instanceof Change.PutAccount c) {
      s.account = c.account();
    } else if (change instanceof Change.PutOlmSession c) {
      s.olmSessions.put(new Key(c.session().senderKey(), c.session().sessionId()), c.session());
    } else if (change instanceof Change.DeleteOlmSession c) {
      s.olmSessions.remove(new Key(c.senderKey(), c.sessionId()));
    } else if (change instanceof Change.PutInboundGroupSession c) {
      InboundGroupSessionRecord r = c.session();
      s.inbound
          .computeIfAbsent(new Key(r.roomId(), r.sessionId()), k -> new TreeMap<>())
          .put(r.senderKey(), r);
    } else if (change instanceof Change.DeleteInboundGroupSession c) {
      Key key = new Key(c.roomId(), c.sessionId());
      TreeMap<String, InboundGroupSessionRecord> copies = s.inbound.get(key);
      if (copies != null) {
        copies.remove(c.senderKey());
        if (copies.isEmpty()) {
          s.inbound.remove(key);
        }
      }
    } else if (change instanceof Change.MarkInboundGroupSessionBackedUp c) {
      TreeMap<String, InboundGroupSessionRecord> copies =
          s.inbound.get(new Key(c.roomId(), c.sessionId()));
      if (copies != null) {
        copies.computeIfPresent(c.senderKey(), (k, v) -> v.withBackedUp(true));
      }
    } else if (change instanceof Change.ResetInboundGroupSessionBackup) {
      s.inbound
          .values()
          .forEach(copies -> copies.replaceAll((k, v) -> v.backedUp() ? v.withBackedUp(false) : v));
    } else if (change instanceof Change.PutOutboundGroupSession c) {
      putOutbound(s, c.session());
    } else if (change instanceof Change.AdvanceOutboundGroupSession c) {
      OutboundGroupSessionRecord stored = s.outbound.get(c.session().roomId());
      if (stored == null
          || !stored.sessionId().equals(c.session().sessionId())
          || stored.messageIndex() != c.expectedIndex()) {
        throw c.conflict();
      }
      s.outbound.put(c.session().roomId(), c.session());
    } else if (change instanceof Change.DeleteOutboundGroupSession c) {
      s.outbound.remove(c.roomId());
      s.sharedWith.remove(c.roomId());
    } else if (change instanceof Change.PutOutboundSharedWith c) {
      OutboundGroupSessionRecord current = s.outbound.get(c.roomId());
      if (current == null || !current.sessionId().equals(c.sessionId())) {
        return; // a late acknowledgement for a rotated or discarded session
      }
      s.sharedWith
          .computeIfAbsent(c.roomId(), r -> new HashMap<>())
          .put(c.device(), c.messageIndex());
    } else {
      applyOther(s, change);
    }
  }

  private static void putOutbound(MemoryState s, OutboundGroupSessionRecord session) {
    OutboundGroupSessionRecord old = s.outbound.put(session.roomId(), session);
    if (old != null && !old.sessionId().equals(session.sessionId())) {
      s.sharedWith.remove(session.roomId());
    }
  }

  private static void applyOther(MemoryState s, Change change) {
    if (change instanceof Change.PutDevice c) {
      s.devices.put(new Key(c.device().userId(), c.device().deviceId()), c.device());
    } else if (change instanceof Change.DeleteDevice c) {
      s.devices.remove(new Key(c.userId(), c.deviceId()));
    } else if (change instanceof Change.PutCrossSigningIdentity c) {
      s.identities.put(c.identity().userId(), c.identity());
    } else if (change instanceof Change.DeleteCrossSigningIdentity c) {
      s.identities.remove(c.userId());
    } else if (change instanceof Change.PutTrackedUser c) {
      s.tracked.put(c.user().userId(), c.user());
    } else if (change instanceof Change.DeleteTrackedUser c) {
      s.tracked.remove(c.userId());
    } else if (change instanceof Change.PutOutgoingKeyRequest c) {
      putKeyRequest(s.keyRequests, c.request());
    } else if (change instanceof Change.PutReplayRecord c) {
      ReplayRecord r = c.record();
      s.replay.putIfAbsent(
          MemoryState.replayKey(r.roomId(), r.senderKey(), r.sessionId(), r.messageIndex()), r);
    } else if (change instanceof Change.PruneReplayRecords c) {
      var it = s.replay.values().iterator();
      for (int excess = s.replay.size() - c.keep(); excess > 0; excess--) {
        it.next();
        it.remove();
      }
    } else if (change instanceof Change.DeleteOutgoingKeyRequest c) {
      s.keyRequests.remove(c.requestId());
    } else if (change instanceof Change.PutWithheld c) {
      WithheldRecord w = c.withheld();
      s.withheld
          .computeIfAbsent(new Key(w.roomId(), w.sessionId()), k -> new TreeMap<>())
          .put(w.senderKey(), w);
    } else if (change instanceof Change.DeleteWithheld c) {
      Key key = new Key(c.roomId(), c.sessionId());
      TreeMap<String, WithheldRecord> notices = s.withheld.get(key);
      if (notices != null) {
        notices.remove(c.senderKey());
        if (notices.isEmpty()) {
          s.withheld.remove(key);
        }
      }
    } else if (change instanceof Change.PutSyncToken c) {
      s.syncToken = c.token();
    } else if (change instanceof Change.PutPendingRoomKeyBundle c) {
      s.bundles.put(MemoryState.bundleKey(c.bundle().roomId(), c.bundle().inviter()), c.bundle());
    } else if (change instanceof Change.DeletePendingRoomKeyBundle c) {
      s.bundles.remove(MemoryState.bundleKey(c.roomId(), c.inviter()));
    } else if (change instanceof Change.PutValue c) {
      s.values.put(c.key(), c.value());
    } else if (change instanceof Change.DeleteValue c) {
      s.values.remove(c.key());
    } else {
      throw new IllegalStateException("unhandled change type " + change.getClass().getName());
    }
  }

  private static void putKeyRequest(Map<String, OutgoingKeyRequest> map, OutgoingKeyRequest r) {
    for (OutgoingKeyRequest other : map.values()) {
      if (!other.requestId().equals(r.requestId())
          && other.roomId().equals(r.roomId())
          && other.sessionId().equals(r.sessionId())) {
        throw new StoreException(
            StoreException.Reason.CONSTRAINT,
            "key request "
                + r.requestId()
                + " duplicates request "
                + other.requestId()
                + " for room "
                + r.roomId()
                + " session "
                + r.sessionId());
      }
    }
    map.put(r.requestId(), r);
  }
}
