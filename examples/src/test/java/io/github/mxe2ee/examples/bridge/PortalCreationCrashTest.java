package io.github.mxe2ee.examples.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Portal creation is idempotent across a crash (against the dev Synapse): a bridge that created a
 * portal's room and died before recording it gets the same room on the retry (the portal's
 * deterministic alias, in the appservice's namespace, names it), never a second one; an alias held
 * by a room the bridge bot did not create is never adopted as a portal.
 */
class PortalCreationCrashTest {
  private static final long WAIT_S = 90;

  @TempDir Path dir;
  private Vertx vertx;
  private WebClient web;
  private DevHomeserver hs;
  private AsClient http;
  private GhostNames names;
  private AppserviceE2ee appservice;
  private HttpServer listener;

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    web = WebClient.create(vertx);
    hs = DevHomeserver.shared();
    String asToken = hs.appserviceSetting("as_token");
    http = new AsClient(web, hs.baseUrl(), asToken);
    names =
        new GhostNames(GhostNames.DEFAULT_PREFIX, hs.serverName(), Pattern.compile("@bridge_.*"));
    // Not started: opening a portal (without a keeper) needs only the as_token client.
    appservice =
        AppserviceE2ee.create(
            vertx,
            new AppserviceOptions()
                .setHomeserverUrl(hs.baseUrl())
                .setAsToken(asToken)
                .setHsToken(hs.appserviceSetting("hs_token"))
                .setBotLocalpart(hs.appserviceSetting("sender_localpart")));
    // Synapse pushes the portal rooms' events to the registration's url: answer them, so it does
    // not hold the appservice for down for the next test class.
    listener =
        await(
            vertx
                .createHttpServer()
                .requestHandler(req -> req.body().onComplete(b -> req.response().end("{}")))
                .listen(URI.create(hs.appserviceSetting("url")).getPort(), "127.0.0.1"));
  }

  @AfterEach
  void tearDown() throws Exception {
    await(listener.close());
    await(vertx.close());
  }

  /**
   * The running dev Synapse loaded a registration that reserves the portal aliases (a server
   * started before the namespace was added must be restarted: scripts/dev-homeserver.sh stop).
   */
  private void requireAliasNamespace() throws Exception {
    String registration =
        java.nio.file.Files.readString(
            io.github.mxe2ee.examples.testing.ProjectPaths.root()
                .resolve(".run/synapse/appservice-registration.yaml"));
    assertTrue(
        registration.contains("#bridge_.*"),
        "the dev Synapse runs with a registration without the alias namespace: restart it"
            + " (scripts/dev-homeserver.sh stop)");
  }

  private BridgeService service(PortalStore store) {
    return new BridgeService(vertx, appservice, http, store, names, false);
  }

  /** How many rooms the bridge bot is joined to whose name is {@code name}. */
  private int botRoomsNamed(String name) throws Exception {
    JsonArray rooms =
        await(http.request(HttpMethod.GET, "/joined_rooms", null, null))
            .getJsonArray("joined_rooms");
    int n = 0;
    for (Object r : rooms) {
      try {
        JsonObject content =
            await(
                http.request(
                    HttpMethod.GET,
                    "/rooms/" + AsClient.seg((String) r) + "/state/m.room.name/",
                    null,
                    null));
        if (name.equals(content.getString("name"))) {
          n++;
        }
      } catch (ExecutionException e) {
        // a room without a name
      }
    }
    return n;
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aCrashBetweenCreatingThePortalRoomAndStoringIt_reusesTheRoom() throws Exception {
    requireAliasNamespace();
    String portal = "crash portal " + UUID.randomUUID().toString().substring(0, 8);
    Path db = dir.resolve("portals.db");
    String created;
    try (PortalStore first = PortalStore.open(db)) {
      // The first life creates the room, then dies before the portal is stored.
      created = await(service(first).createRoom(portal));
    }
    try (PortalStore second = PortalStore.open(db)) {
      Portals.Opened opened = await(service(second).open(portal, List.of()));
      assertEquals(created, opened.roomId(), "the retry found the room of the first life");
      assertEquals(Optional.of(new PortalStore.Portal(portal, created)), second.portal(portal));
      // And once stored, a later open is the stored portal.
      assertEquals(created, await(service(second).open(portal, List.of())).roomId());
    }
    assertEquals(1, botRoomsNamed(portal), "one room for the portal");
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aPortalAliasHeldByAnotherUsersRoom_isNeverAdopted() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String portal = "squatted " + s;
    String localpart = "portal_squatter_" + s;
    await(hs.register(web, localpart, "pw-" + localpart, false));
    HomeserverClient squatter = new HomeserverClient(web, hs.baseUrl());
    await(squatter.login(localpart, "pw-" + localpart, null));
    String aliasLocalpart = BridgeService.portalAliasLocalpart(portal);
    boolean squatted;
    try {
      await(
          squatter.request(
              "POST",
              "/_matrix/client/v3/createRoom",
              new JsonObject().put("room_alias_name", aliasLocalpart)));
      squatted = true;
    } catch (ExecutionException e) {
      // The registration's exclusive alias namespace keeps the portal aliases for the bridge.
      assertTrue(e.getCause() instanceof HomeserverException, e.toString());
      assertEquals("M_EXCLUSIVE", ((HomeserverException) e.getCause()).errcode());
      squatted = false;
    }
    try (PortalStore store = PortalStore.open(dir.resolve("squat.db"))) {
      if (squatted) {
        ExecutionException refused =
            org.junit.jupiter.api.Assertions.assertThrows(
                ExecutionException.class, () -> await(service(store).open(portal, List.of())));
        assertTrue(refused.getCause() instanceof IllegalStateException, refused.toString());
        assertEquals(Optional.empty(), store.portal(portal), "nothing recorded");
      } else {
        // Not squattable: the bridge creates it as usual.
        Portals.Opened opened = await(service(store).open(portal, List.of()));
        assertTrue(opened.created());
      }
      // Another user of the namespace (a ghost) can take a portal's alias: its room is not the
      // bridge bot's, so it is never adopted as the portal.
      String ghostLocal = "bridge_squatter_" + s;
      await(
          http.request(
              HttpMethod.POST,
              "/register",
              null,
              new JsonObject()
                  .put("type", "m.login.application_service")
                  .put("username", ghostLocal)
                  .put("inhibit_login", true)));
      String portal2 = "ghost squatted " + s;
      String ghostRoom =
          await(
                  http.request(
                      HttpMethod.POST,
                      "/createRoom",
                      "@" + ghostLocal + ":" + hs.serverName(),
                      new JsonObject()
                          .put("room_alias_name", BridgeService.portalAliasLocalpart(portal2))))
              .getString("room_id");
      // Even with the bot joined to it (invited by the ghost), the creator is not the bot.
      String bot =
          await(http.request(HttpMethod.GET, "/account/whoami", null, null)).getString("user_id");
      await(
          http.request(
              HttpMethod.POST,
              "/rooms/" + AsClient.seg(ghostRoom) + "/invite",
              "@" + ghostLocal + ":" + hs.serverName(),
              new JsonObject().put("user_id", bot)));
      await(
          http.request(
              HttpMethod.POST, "/join/" + AsClient.seg(ghostRoom), null, new JsonObject()));
      ExecutionException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class, () -> await(service(store).open(portal2, List.of())));
      assertTrue(
          refused.getCause().getMessage().contains("did not create"),
          refused.getCause().toString());
      assertTrue(refused.getCause() instanceof IllegalStateException, refused.toString());
      assertEquals(Optional.empty(), store.portal(portal2), "nothing recorded");
      assertTrue(ghostRoom.startsWith("!"));
    }
  }
}
