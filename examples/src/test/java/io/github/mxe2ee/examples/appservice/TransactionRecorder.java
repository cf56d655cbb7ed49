package io.github.mxe2ee.examples.appservice;

import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stands where the bridge listens and records every transaction Synapse pushes with the right
 * {@code hs_token}, answering 200: the tests then give the real transactions to a bridge's {@code
 * onTransaction} in the order and grouping they need (events apart from the room keys, a
 * transaction resent after a crash, ...).
 */
final class TransactionRecorder {
  /** Transactions Synapse pushed, in arrival order. */
  final List<JsonObject> pushed = new CopyOnWriteArrayList<>();

  private final AppserviceTestSupport t;
  private HttpServer server;

  TransactionRecorder(AppserviceTestSupport t) {
    this.t = t;
  }

  TransactionRecorder listen() throws Exception {
    server =
        AppserviceTestSupport.await(
            t.vertx
                .createHttpServer()
                .requestHandler(
                    req ->
                        req.body()
                            .onSuccess(
                                b -> {
                                  if (("Bearer " + t.hsToken())
                                          .equals(req.getHeader("Authorization"))
                                      && req.path().contains("/transactions/")) {
                                    pushed.add(b.toJsonObject());
                                  }
                                  req.response().end("{}");
                                }))
                .listen(t.appservicePort(), "127.0.0.1"));
    return this;
  }

  void close() throws Exception {
    if (server != null) {
      AppserviceTestSupport.await(server.close());
    }
  }

  /** Every recorded room event, in order. */
  JsonArray events() {
    JsonArray events = new JsonArray();
    for (JsonObject txn : pushed) {
      events.addAll(txn.getJsonArray("events", new JsonArray()));
    }
    return events;
  }

  /** Every recorded to-device event (both spellings), in order. */
  JsonArray toDevice() {
    JsonArray toDevice = new JsonArray();
    for (JsonObject txn : pushed) {
      toDevice.addAll(txn.getJsonArray("de.sorunome.msc2409.to_device", new JsonArray()));
      toDevice.addAll(txn.getJsonArray("to_device", new JsonArray()));
    }
    return toDevice;
  }

  /** The recorded room event with this id, as Synapse pushed it, or null. */
  JsonObject event(String eventId) {
    for (Object o : events()) {
      if (o instanceof JsonObject e && eventId.equals(e.getString("event_id"))) {
        return e;
      }
    }
    return null;
  }

  /** Whether an encrypted to-device message (an Olm message: a room key) went to this device. */
  boolean hasOlmFor(String deviceId) {
    for (Object o : toDevice()) {
      JsonObject e = (JsonObject) o;
      if (deviceId != null
          && deviceId.equals(e.getString("to_device_id"))
          && "m.room.encrypted".equals(e.getString("type"))) {
        return true;
      }
    }
    return false;
  }

  /** Waits until every event id was pushed and an Olm message reached {@code deviceId}. */
  void awaitPushed(String deviceId, String... eventIds) throws Exception {
    for (int i = 0; i < 480; i++) {
      boolean all = hasOlmFor(deviceId);
      for (String id : eventIds) {
        all &= event(id) != null;
      }
      if (all) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(
        "Synapse did not push " + List.of(eventIds) + " and a room key for " + deviceId);
  }
}
