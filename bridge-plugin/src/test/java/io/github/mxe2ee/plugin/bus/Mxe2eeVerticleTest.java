package io.github.mxe2ee.plugin.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.config.ConfigException;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The verticle's configuration, addresses and failure codes against {@link ScriptedHomeserver} (the
 * full flow with a real client is {@code EventBusVerticleTest} in the examples).
 */
class Mxe2eeVerticleTest {
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    dir = Files.createTempDirectory("mxe2ee-bus");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private JsonObject config() {
    return new JsonObject()
        .put("homeserver", hs.baseUrl())
        .put("login", new JsonObject().put("user", "bot").put("password", "pw"))
        .put("store", "sqlite:" + dir.resolve("bot.db"))
        .put(
            "pickle_key",
            new JsonObject().put("base64", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"))
        .put("encryption", new JsonObject().put("refuse_unencrypted", true))
        .put("bus", new JsonObject().put("address_prefix", "test.bot"));
  }

  private static ReplyException failure(Future<?> f) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(f));
    return assertInstanceOf(ReplyException.class, e.getCause());
  }

  @Test
  void addressesAnswerAndFailWithDocumentedCodes() throws Exception {
    Mxe2eeVerticle verticle = new Mxe2eeVerticle();
    await(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config())));
    BusAddresses at = verticle.addresses();
    assertEquals("test.bot.send", at.send());
    var bus = vertx.eventBus();

    Message<JsonObject> device = await(bus.request(at.device(), new JsonObject()));
    assertNotNull(device.body().getString("user_id"));
    assertEquals(verticle.e2ee().fingerprint(), device.body().getString("ed25519"));

    assertEquals(BusFailure.BAD_REQUEST, failure(bus.request(at.send(), "text")).failureCode());
    assertEquals(
        BusFailure.BAD_REQUEST,
        failure(bus.request(at.send(), new JsonObject().put("room_id", "!r:hs"))).failureCode());
    assertEquals(
        BusFailure.BAD_REQUEST,
        failure(
                bus.request(
                    at.send(),
                    new JsonObject()
                        .put("room_id", "!r:hs")
                        .put("type", "m.room.message")
                        .put("content", new JsonObject())
                        .put("txn_id", 5)))
            .failureCode());
    // The scripted server says the room has no encryption state; refuse_unencrypted is set.
    ReplyException plain =
        failure(
            bus.request(
                at.send(),
                new JsonObject()
                    .put("room_id", "!plain:hs")
                    .put("type", "m.room.message")
                    .put("content", new JsonObject().put("body", "secret text"))));
    assertEquals(BusFailure.REFUSED_UNENCRYPTED, plain.failureCode());
    assertTrue(!plain.getMessage().contains("secret text"), "content never in a failure");
    assertEquals(0, hs.sends().size(), "nothing was sent");
    assertEquals(
        BusFailure.BAD_REQUEST, failure(bus.request(at.join(), new JsonObject())).failureCode());

    await(vertx.undeploy(verticle.deploymentID()));
    assertEquals(
        -1, // no handler any more: the sender learns nobody serves the address
        failure(bus.request(at.device(), new JsonObject())).failureCode());
  }

  @Test
  void badConfigFailsTheDeploymentNamingTheField() throws Exception {
    JsonObject noHomeserver = config();
    noHomeserver.remove("homeserver");
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                await(
                    vertx.deployVerticle(
                        new Mxe2eeVerticle(), new DeploymentOptions().setConfig(noHomeserver))));
    assertEquals("homeserver", assertInstanceOf(ConfigException.class, e.getCause()).field());

    JsonObject badPrefix = config().put("bus", new JsonObject().put("address_prefix", ".x"));
    e =
        assertThrows(
            ExecutionException.class,
            () ->
                await(
                    vertx.deployVerticle(
                        new Mxe2eeVerticle(), new DeploymentOptions().setConfig(badPrefix))));
    assertEquals(
        "bus.address_prefix", assertInstanceOf(ConfigException.class, e.getCause()).field());

    JsonObject unknown = config().put("bus", new JsonObject().put("adress_prefix", "x"));
    e =
        assertThrows(
            ExecutionException.class,
            () ->
                await(
                    vertx.deployVerticle(
                        new Mxe2eeVerticle(), new DeploymentOptions().setConfig(unknown))));
    assertTrue(e.getCause().getMessage().contains("adress_prefix"), e.getCause().getMessage());
  }

  @Test
  void shippedConfigFileHasTheDefaultPrefix() {
    assertEquals(
        E2eeOptions.DEFAULT_BUS_ADDRESS_PREFIX,
        E2eeOptions.fromFile(Path.of("../config/mxe2ee.yaml")).getBusAddressPrefix());
  }
}
