package io.github.mxe2ee.plugin.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.LoginOptions;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BotLogin}: a bot without a configured device id logs in to the device its store belongs
 * to, against a scripted homeserver (only its login answer matters here).
 */
class BotLoginTest {
  @TempDir Path dir;

  private Path storeWith(String... devices) {
    Path file = dir.resolve("bot.db");
    for (String d : devices) {
      SqliteCryptoStore.open(file, AccountId.of("@bot:localhost", d)).close();
    }
    return file;
  }

  @Test
  void theStoresDeviceIsFoundByFullIdOrLocalpart() {
    Path file = storeWith("DEVX");
    assertEquals("DEVX", BotLogin.storedDeviceId(file, "@bot:localhost"));
    assertEquals("DEVX", BotLogin.storedDeviceId(file, "bot"));
    assertNull(BotLogin.storedDeviceId(file, "bo"));
    assertNull(BotLogin.storedDeviceId(file, "@other:localhost"));
    assertNull(BotLogin.storedDeviceId(dir.resolve("missing.db"), "bot"));
  }

  @Test
  void severalDevicesOfTheUserAreNamedNotGuessed() {
    Path file = storeWith("DEV1", "DEV2");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> BotLogin.storedDeviceId(file, "bot"));
    assertTrue(e.getMessage().contains("DEV1, DEV2"), e.getMessage());
    assertTrue(e.getMessage().contains("login.device_id"), e.getMessage());
  }

  @Test
  void theLoginAsksForTheStoresDevice() throws Exception {
    Path file = storeWith("DEVX");
    Vertx vertx = Vertx.vertx();
    try {
      ScriptedHomeserver hs =
          new ScriptedHomeserver()
              .start(vertx)
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      HomeserverClient client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
      E2eeOptions options =
          new E2eeOptions()
              .setStorePath(file.toString())
              .setLogin(new LoginOptions().setUser("bot").setPassword("pw"));
      BotLogin.login(vertx, client, options)
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      ScriptedHomeserver.Seen login =
          hs.seen().stream().filter(s -> s.path().endsWith("/login")).findFirst().orElseThrow();
      assertEquals("DEVX", new JsonObject(login.body()).getString("device_id"));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
