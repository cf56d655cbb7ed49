package io.github.mxe2ee.plugin.impl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.identity.IdentityBootstrap;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.PickleKey;
import io.github.mxe2ee.store.PickleKeySource;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The implementation of {@link MatrixE2ee}; not API. */
public final class MatrixE2eeImpl implements MatrixE2ee {
  private final Vertx vertx;
  private final HomeserverClient client;
  private final E2eeOptions options;
  private WorkerExecutor worker;
  private CryptoStore store;
  private OlmMachine machine;
  private RequestPump pump;

  /** Use {@link MatrixE2ee#create}. */
  public MatrixE2eeImpl(Vertx vertx, HomeserverClient client, E2eeOptions options) {
    this.vertx = vertx;
    this.client = client;
    this.options = options;
  }

  @Override
  public Future<Void> start() {
    HomeserverClient.Session session = client.session();
    if (session == null) {
      return Future.failedFuture(new IllegalStateException("log the client in before start()"));
    }
    worker = vertx.createSharedWorkerExecutor("mxe2ee-" + UUID.randomUUID(), 1);
    return worker
        .executeBlocking(
            () -> {
              SecureRandom random = new SecureRandom();
              PickleKey key =
                  PickleKeySource.standard(
                          options.getPickleKeyBase64(),
                          System.getenv(),
                          Path.of(options.getPickleKeyFile()),
                          random)
                      .load();
              store =
                  SqliteCryptoStore.open(
                      Path.of(options.getStorePath()),
                      AccountId.of(session.userId(), session.deviceId()));
              MachineConfig config =
                  MachineConfig.of(session.userId(), session.deviceId(), key.exposeSecretBytes())
                      .withSharingStrategy(options.getSharingStrategy());
              machine = OlmMachine.open(config, store);
              pump = new RequestPump(worker, client, machine, options.getMaxPumpRounds());
              return null;
            },
            true)
        .compose(v -> pump.drain())
        .compose(v -> IdentityBootstrap.runIfConfigured(worker, client, machine, options));
  }

  private <T> Future<T> onWorker(java.util.concurrent.Callable<T> call) {
    return worker.executeBlocking(call, true);
  }

  @Override
  public Future<JsonObject> onSync(JsonObject sync) {
    JsonObject copy = sync.copy();
    return onWorker(
            () -> {
              machine.receiveSyncChanges(SyncChanges.fromSync(Json.toNode(copy)));
              JsonObject rooms =
                  copy.getJsonObject("rooms", new JsonObject())
                      .getJsonObject("join", new JsonObject());
              for (String roomId : rooms.fieldNames()) {
                JsonObject room = rooms.getJsonObject(roomId);
                followState(
                    roomId,
                    room.getJsonObject("state", new JsonObject())
                        .getJsonArray("events", new JsonArray()));
                JsonArray timeline =
                    room.getJsonObject("timeline", new JsonObject())
                        .getJsonArray("events", new JsonArray());
                followState(roomId, timeline);
                decryptTimeline(roomId, timeline);
              }
              return copy;
            })
        .compose(result -> pump.drain().map(result));
  }

  private void followState(String roomId, JsonArray events) {
    for (int i = 0; i < events.size(); i++) {
      JsonObject e = events.getJsonObject(i);
      if (e == null || !e.containsKey("state_key")) {
        continue;
      }
      JsonObject content = e.getJsonObject("content", new JsonObject());
      switch (e.getString("type", "")) {
        case "m.room.encryption" -> machine.onRoomEncryption(roomId, Json.toNode(content));
        case "m.room.history_visibility" ->
            machine.onHistoryVisibility(roomId, content.getString("history_visibility", "shared"));
        case "m.room.member" -> {
          String membership = content.getString("membership", "");
          if (membership.equals("leave") || membership.equals("ban")) {
            machine.invalidateGroupSession(roomId);
          } else if (membership.equals("join") || membership.equals("invite")) {
            machine.updateTrackedUsers(List.of(e.getString("state_key")));
          }
        }
        default -> {}
      }
    }
  }

  /** Decrypts a room's encrypted timeline events in one batch (one Ed25519 batch per session). */
  private void decryptTimeline(String roomId, JsonArray timeline) {
    List<Integer> positions = new ArrayList<>();
    List<ObjectNode> events = new ArrayList<>();
    for (int i = 0; i < timeline.size(); i++) {
      if (timeline.getValue(i) instanceof JsonObject event
          && "m.room.encrypted".equals(event.getValue("type"))) {
        positions.add(i);
        events.add(Json.toNode(event));
      }
    }
    if (events.isEmpty()) {
      return;
    }
    List<DecryptionResult> results = machine.decryptRoomEvents(roomId, events);
    for (int j = 0; j < positions.size(); j++) {
      int i = positions.get(j);
      timeline.set(i, decrypted(timeline.getJsonObject(i), results.get(j)));
    }
  }

  private JsonObject decrypted(JsonObject event, DecryptionResult result) {
    JsonObject out = event.copy();
    if (result instanceof DecryptionResult.Decrypted d) {
      if (d.senderDeviceId() == null && event.getValue("sender") instanceof String sender) {
        machine.updateTrackedUsers(List.of(sender));
      }
      out.put("type", d.type());
      out.put("content", Json.toVertx(d.content()));
      out.put(
          "mxe2ee",
          new JsonObject()
              .put("encrypted", true)
              .put("sender_device", d.senderDeviceId())
              .put("trust", d.trust().name())
              .put("authenticated", d.authenticated()));
    } else if (result instanceof DecryptionResult.UnableToDecrypt u) {
      JsonObject info = new JsonObject().put("decryption_failure", u.reason().name());
      if (u.withheldCode() != null) {
        info.put("withheld_code", u.withheldCode());
      }
      out.put("mxe2ee", info);
    }
    return out;
  }

  @Override
  public Future<JsonObject> encrypt(String roomId, String type, JsonObject content) {
    String path = "/_matrix/client/v3/rooms/" + encode(roomId) + "/joined_members";
    return client
        .request("GET", path, null)
        .compose(
            body -> {
              List<String> members =
                  new ArrayList<>(body.getJsonObject("joined", new JsonObject()).fieldNames());
              return onWorker(
                      () -> {
                        machine.updateTrackedUsers(members);
                        return null;
                      })
                  .compose(v -> pump.drain())
                  .compose(v -> onWorker(() -> machine.getMissingSessions(members)))
                  .compose(this::sendIfPresent)
                  .compose(v -> onWorker(() -> machine.shareRoomKey(roomId, members)))
                  .compose(pump::sendAll)
                  .compose(
                      v ->
                          onWorker(
                              () -> {
                                ObjectNode encrypted =
                                    machine.encryptRoomEvent(roomId, type, Json.toNode(content));
                                return Json.toVertx(encrypted);
                              }));
            });
  }

  private Future<Void> sendIfPresent(Optional<OutgoingRequest> request) {
    return request.map(pump::send).orElse(Future.succeededFuture());
  }

  @Override
  public Future<String> send(String roomId, String type, JsonObject content) {
    return encrypt(roomId, type, content)
        .compose(
            encrypted ->
                client.request(
                    "PUT",
                    "/_matrix/client/v3/rooms/"
                        + encode(roomId)
                        + "/send/m.room.encrypted/"
                        + encode("mxe2ee-" + UUID.randomUUID()),
                    encrypted))
        .map(resp -> resp.getString("event_id"));
  }

  @Override
  public String fingerprint() {
    return machine == null ? null : machine.identityKeys().ed25519().toBase64();
  }

  @Override
  public Future<Void> close() {
    if (worker == null) {
      return Future.succeededFuture();
    }
    return onWorker(
            () -> {
              machine.close();
              store.close();
              return null;
            })
        .onComplete(ar -> worker.close())
        .mapEmpty();
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
