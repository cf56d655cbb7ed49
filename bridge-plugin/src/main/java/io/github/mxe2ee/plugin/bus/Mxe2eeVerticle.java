package io.github.mxe2ee.plugin.bus;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.github.mxe2ee.plugin.bot.SyncBatch;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.github.mxe2ee.plugin.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The plugin as a verticle (event bus mode): deploy it with the configuration file's content as its
 * {@code config()} ({@link E2eeOptions#fromJson}: {@code homeserver}, {@code login}, {@code store},
 * ... and {@code bus.address_prefix}); it logs in, starts {@link MatrixE2ee}, runs the plugin's
 * {@link SyncLoop} and serves the addresses of {@link BusAddresses} (docs/EVENT_BUS.md).
 *
 * <p><b>Start.</b> Fails (the deployment fails, nothing is served) with a {@link ConfigException}
 * naming the field for a bad configuration, with the homeserver's error for a refused login, and
 * with the plugin's start errors (store locked, identity conflict). A {@link
 * io.micrometer.core.instrument.MeterRegistry} cannot come from JSON: set one with {@link
 * #Mxe2eeVerticle(E2eeOptions)} or read the plugin's own from {@link #e2ee()}{@code .metrics()}.
 *
 * <p><b>Delivery.</b> Every timeline event of joined rooms is published on {@code <prefix>.events}
 * (decrypted ones with the plugin's {@code mxe2ee} object, see {@link MatrixE2ee}), in timeline
 * order, before the sync loop marks the batch done: at least once, as the loop guarantees; a batch
 * handed over again after a restart is published again with {@code replayed: true}, and events of
 * the first sync of a new store with {@code initial: true} (history, usually not to be answered).
 * Invites are published on {@code <prefix>.invites}.
 *
 * <p><b>Threading.</b> Handlers run on the verticle's event loop; every plugin call returns a
 * future. {@link #stop()} stops the loop, then closes the plugin (releasing its store).
 */
public final class Mxe2eeVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(Mxe2eeVerticle.class.getName());

  private final E2eeOptions given;
  private E2eeOptions options;
  private BusAddresses addresses;
  private WebClient web;
  private HomeserverClient client;
  private volatile MatrixE2ee e2ee;
  private SyncLoop loop;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  /** A verticle configured by its deployment's {@code config()} (the file's format). */
  public Mxe2eeVerticle() {
    this.given = null;
  }

  /**
   * A verticle configured by {@code options} (copied; {@code config()} is then ignored), for a
   * registry or other settings that JSON cannot carry.
   */
  public Mxe2eeVerticle(E2eeOptions options) {
    this.given = new E2eeOptions(options);
  }

  /** The running plugin (for its metrics and fingerprint), or null before start completes. */
  public MatrixE2ee e2ee() {
    return e2ee;
  }

  /** The addresses served, or null before start. */
  public BusAddresses addresses() {
    return addresses;
  }

  @Override
  public Future<?> start() {
    try {
      options = given != null ? given : E2eeOptions.fromJson(config());
      if (options.getHomeserverUrl() == null) {
        throw new ConfigException("<config>", "homeserver", "is required by Mxe2eeVerticle");
      }
      if (options.getLogin() == null) {
        throw new ConfigException("<config>", "login", "is required by Mxe2eeVerticle");
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    addresses = new BusAddresses(options.getBusAddressPrefix());
    web = WebClient.create(vertx);
    client = new HomeserverClient(web, options.getHomeserverUrl(), options.getMaxSyncBodyBytes());
    Future<HomeserverClient.Session> session =
        io.github.mxe2ee.plugin.bot.BotLogin.login(vertx, client, options);
    return session
        .compose(
            s -> {
              LOG.log(System.Logger.Level.INFO, "logged in as {0}", s);
              MatrixE2ee plugin = MatrixE2ee.create(vertx, client, options);
              e2ee = plugin;
              return plugin.start();
            })
        .map(
            v -> {
              serve();
              loop =
                  SyncLoop.create(vertx, client, e2ee, new SyncLoopOptions(), this::publish)
                      .start();
              LOG.log(
                  System.Logger.Level.INFO,
                  "serving {0}, device fingerprint {1}",
                  addresses,
                  e2ee.fingerprint());
              return null;
            });
  }

  @Override
  public Future<?> stop() {
    consumers.forEach(MessageConsumer::unregister);
    consumers.clear();
    Future<Void> stopped = loop == null ? Future.succeededFuture() : loop.stop();
    MatrixE2ee plugin = e2ee;
    return stopped
        .eventually(() -> plugin == null ? Future.succeededFuture() : plugin.close())
        .eventually(
            () -> {
              if (web != null) {
                web.close();
              }
              return Future.succeededFuture();
            });
  }

  private void serve() {
    EventBus bus = vertx.eventBus();
    consumers.add(bus.<Object>consumer(addresses.send(), this::onSend));
    consumers.add(bus.<Object>consumer(addresses.join(), this::onJoin));
    consumers.add(bus.<Object>consumer(addresses.device(), this::onDevice));
  }

  // ------------------------------------------------------------------ requests

  private void onSend(Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject body)) {
      msg.fail(BusFailure.BAD_REQUEST, "body must be a JSON object");
      return;
    }
    String roomId = string(body, "room_id");
    String type = string(body, "type");
    Object content = body.getValue("content");
    Object txnId = body.getValue("txn_id");
    if (roomId == null || type == null || !(content instanceof JsonObject c)) {
      msg.fail(
          BusFailure.BAD_REQUEST,
          "expected {room_id: string, type: string, content: object, txn_id?: string}");
      return;
    }
    if (txnId != null && !(txnId instanceof String t && !t.isEmpty() && t.length() <= 255)) {
      msg.fail(BusFailure.BAD_REQUEST, "txn_id must be a string of 1 to 255 characters");
      return;
    }
    MatrixE2ee plugin = e2ee;
    if (plugin == null) {
      msg.fail(BusFailure.NOT_READY, "not started");
      return;
    }
    Future<String> sent =
        txnId == null ? plugin.send(roomId, type, c) : plugin.send(roomId, type, c, (String) txnId);
    sent.onSuccess(id -> msg.reply(new JsonObject().put("event_id", id)))
        .onFailure(err -> fail(msg, "send to " + roomId, err));
  }

  private void onJoin(Message<Object> msg) {
    String roomId = msg.body() instanceof JsonObject b ? string(b, "room_id") : null;
    if (roomId == null) {
      msg.fail(BusFailure.BAD_REQUEST, "expected {room_id: string}");
      return;
    }
    if (e2ee == null) {
      msg.fail(BusFailure.NOT_READY, "not started");
      return;
    }
    client
        .request("POST", "/_matrix/client/v3/rooms/" + encode(roomId) + "/join", new JsonObject())
        .onSuccess(r -> msg.reply(new JsonObject().put("room_id", r.getString("room_id", roomId))))
        .onFailure(err -> fail(msg, "join " + roomId, err));
  }

  private void onDevice(Message<Object> msg) {
    MatrixE2ee plugin = e2ee;
    HomeserverClient.Session s = client == null ? null : client.session();
    String fingerprint = plugin == null ? null : plugin.fingerprint();
    if (s == null || fingerprint == null) {
      msg.fail(BusFailure.NOT_READY, "not started");
      return;
    }
    msg.reply(
        new JsonObject()
            .put("user_id", s.userId())
            .put("device_id", s.deviceId())
            .put("ed25519", fingerprint));
  }

  private static void fail(Message<?> msg, String what, Throwable err) {
    int code;
    String text;
    if (err instanceof UnencryptedRoomException) {
      code = BusFailure.REFUSED_UNENCRYPTED;
      text = err.getMessage();
    } else if (err instanceof HomeserverException h) {
      code = BusFailure.HOMESERVER_ERROR;
      text = h.getMessage();
    } else if (err instanceof IllegalStateException) {
      code = BusFailure.NOT_READY;
      text = err.getMessage();
    } else if (err instanceof IllegalArgumentException) {
      code = BusFailure.BAD_REQUEST;
      text = err.getMessage();
    } else {
      code = BusFailure.INTERNAL;
      text = err.getClass().getSimpleName();
    }
    LOG.log(System.Logger.Level.WARNING, "{0} failed: {1} {2}", what, code, text);
    msg.fail(code, text);
  }

  // ------------------------------------------------------------------ publishing

  /** The sync loop's handler: publishes each timeline event and invite of the batch. */
  private Future<Void> publish(SyncBatch batch) {
    EventBus bus = vertx.eventBus();
    JsonObject rooms =
        batch.body().getValue("rooms") instanceof JsonObject r ? r : new JsonObject();
    if (rooms.getValue("invite") instanceof JsonObject invites) {
      for (String roomId : invites.fieldNames()) {
        bus.publish(addresses.invites(), new JsonObject().put("room_id", roomId));
      }
    }
    if (rooms.getValue("join") instanceof JsonObject join) {
      for (String roomId : join.fieldNames()) {
        if (!(join.getValue(roomId) instanceof JsonObject room)
            || !(room.getValue("timeline") instanceof JsonObject timeline)
            || !(timeline.getValue("events") instanceof JsonArray events)) {
          continue;
        }
        for (Object e : events) {
          if (e instanceof JsonObject event) {
            bus.publish(
                addresses.events(),
                new JsonObject()
                    .put("room_id", roomId)
                    .put("event", event)
                    .put("initial", batch.initial())
                    .put("replayed", batch.replayed()));
          }
        }
      }
    }
    for (JsonObject late : batch.late()) {
      if (late.getValue("room_id") instanceof String roomId) {
        publishLateEvent(roomId, late);
      }
    }
    return Future.succeededFuture();
  }

  /**
   * Publishes an event decrypted after its key arrived late (docs/PLUGIN.md, "Late keys") on {@code
   * <prefix>.events.late}; the plugin has counted it ({@code mxe2ee.late.keys.recovered}). Safe
   * from any thread.
   */
  public void publishLateEvent(String roomId, JsonObject event) {
    vertx
        .eventBus()
        .publish(
            addresses.lateEvents(), new JsonObject().put("room_id", roomId).put("event", event));
  }

  private static String string(JsonObject body, String field) {
    return body.getValue(field) instanceof String s && !s.isEmpty() ? s : null;
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
