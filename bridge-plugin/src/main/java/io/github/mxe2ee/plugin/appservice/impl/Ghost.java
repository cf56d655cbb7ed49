package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One open ghost device: its engine, how many calls use it now (an idle ghost may be closed), and
 * the rooms it sent to in this process (whose state changes it is fed). Not API.
 */
final class Ghost {
  /** Rooms remembered per ghost; past this the oldest is forgotten (its members are refetched). */
  static final int MAX_ROOMS = 1024;

  final String userId;
  final String deviceId;
  final MatrixE2eeImpl engine;
  final io.github.mxe2ee.plugin.HomeserverClient client;
  final String masterKey;
  private final Set<String> rooms = Collections.synchronizedSet(new LinkedHashSet<>());
  private int inUse;

  Ghost(
      String userId,
      String deviceId,
      MatrixE2eeImpl engine,
      io.github.mxe2ee.plugin.HomeserverClient client,
      String masterKey) {
    this.userId = userId;
    this.deviceId = deviceId;
    this.engine = engine;
    this.client = client;
    this.masterKey = masterKey;
  }

  void sentTo(String roomId) {
    synchronized (rooms) {
      rooms.remove(roomId);
      rooms.add(roomId);
      if (rooms.size() > MAX_ROOMS) {
        rooms.remove(rooms.iterator().next());
      }
    }
  }

  boolean inRoom(String roomId) {
    return rooms.contains(roomId);
  }

  boolean hasRooms() {
    return !rooms.isEmpty();
  }

  synchronized void acquire() {
    inUse++;
  }

  synchronized void release() {
    inUse--;
  }

  synchronized boolean idle() {
    return inUse == 0;
  }
}
