package io.github.mxe2ee.store.memory;

import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.OlmSessionRecord;
import io.github.mxe2ee.store.OutboundGroupSessionRecord;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.ReplayRecord;
import io.github.mxe2ee.store.TrackedUser;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** One account's data in a {@link MemoryDatabase}. Mutable; guarded by the database lock. */
final class MemoryState {
  /** A two-part key (sender key + session id, room + session id, user + device). */
  record Key(String a, String b) {}

  AccountRecord account;
  String syncToken;
  final Map<Key, OlmSessionRecord> olmSessions;

  /** (room, session id) to the copies by sender key: a session is keyed by all three. */
  final Map<Key, TreeMap<String, InboundGroupSessionRecord>> inbound;

  final Map<String, OutboundGroupSessionRecord> outbound;
  final Map<String, Map<UserDevice, Long>> sharedWith;
  final Map<Key, DeviceRecord> devices;
  final Map<String, CrossSigningIdentityRecord> identities;
  final TreeMap<String, TrackedUser> tracked;
  final TreeMap<String, OutgoingKeyRequest> keyRequests;

  /** (room, session id) to the notices by the withholding device's Curve25519 key. */
  final Map<Key, TreeMap<String, WithheldRecord>> withheld;

  /** Pending bundles by {@link #bundleKey}: ordered by room id, then inviter. */
  final TreeMap<String, PendingRoomKeyBundle> bundles;

  final Map<String, byte[]> values;

  /** Replay records by {@link #replayKey}, in the order they were recorded (oldest first). */
  final LinkedHashMap<String, ReplayRecord> replay;

  MemoryState() {
    olmSessions = new LinkedHashMap<>();
    inbound = new LinkedHashMap<>();
    outbound = new HashMap<>();
    sharedWith = new HashMap<>();
    devices = new LinkedHashMap<>();
    identities = new HashMap<>();
    tracked = new TreeMap<>();
    keyRequests = new TreeMap<>();
    withheld = new HashMap<>();
    bundles = new TreeMap<>();
    values = new HashMap<>();
    replay = new LinkedHashMap<>();
  }

  /** The key of a replay record in {@link #replay}: the session's full identity and the index. */
  static String replayKey(String roomId, String senderKey, String sessionId, long index) {
    return roomId + "\u0000" + senderKey + "\u0000" + sessionId + "\u0000" + index;
  }

  /** The key of a pending bundle in {@link #bundles}. */
  static String bundleKey(String roomId, String inviter) {
    return roomId + "\u0000" + inviter;
  }

  /** Every inbound session record, in insertion order of their (room, session id). */
  java.util.stream.Stream<InboundGroupSessionRecord> inboundRecords() {
    return inbound.values().stream().flatMap(m -> m.values().stream());
  }

  /** Returns a copy that can be changed without affecting this state (records are immutable). */
  MemoryState copy() {
    MemoryState c = new MemoryState();
    c.account = account;
    c.syncToken = syncToken;
    c.olmSessions.putAll(olmSessions);
    inbound.forEach((k, copies) -> c.inbound.put(k, new TreeMap<>(copies)));
    c.outbound.putAll(outbound);
    sharedWith.forEach((room, map) -> c.sharedWith.put(room, new HashMap<>(map)));
    c.devices.putAll(devices);
    c.identities.putAll(identities);
    c.tracked.putAll(tracked);
    c.keyRequests.putAll(keyRequests);
    withheld.forEach((k, notices) -> c.withheld.put(k, new TreeMap<>(notices)));
    c.bundles.putAll(bundles);
    c.values.putAll(values);
    c.replay.putAll(replay);
    return c;
  }
}
