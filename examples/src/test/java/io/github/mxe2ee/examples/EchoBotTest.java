package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.DevHomeserver;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The echo bot logs in and completes a sync against the dev Synapse; its settings resolve. */
@ExtendWith(VertxExtension.class)
class EchoBotTest {

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void logsInAndSyncs(Vertx vertx, VertxTestContext ctx) {
    DevHomeserver hs = DevHomeserver.shared();
    WebClient web = WebClient.create(vertx);
    String user = "echo_" + UUID.randomUUID().toString().substring(0, 8);
    EchoBotConfig config = new EchoBotConfig(hs.baseUrl(), user, "echo-pass", "ECHOTEST");
    EchoBot bot = new EchoBot(vertx, web, config);
    hs.register(web, user, "echo-pass", false)
        .compose(r -> bot.start())
        .compose(v -> bot.firstSync())
        .onComplete(
            ctx.succeeding(
                v ->
                    ctx.verify(
                        () -> {
                          assertTrue(bot.syncCount() >= 1);
                          bot.stop();
                          ctx.completeNow();
                        })));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  void deviceIdFromFirstLogin_isSavedOwnerOnly_andReusedOnRestart(Vertx vertx, VertxTestContext ctx)
      throws Exception {
    DevHomeserver hs = DevHomeserver.shared();
    WebClient web = WebClient.create(vertx);
    String fresh = "echo_new_" + UUID.randomUUID().toString().substring(0, 8);
    String restarted = "echo_old_" + UUID.randomUUID().toString().substring(0, 8);
    // A bot that ran before left its device id; it must log in as that device again.
    Path saved = EchoBot.deviceIdFile(restarted);
    Files.createDirectories(saved.getParent());
    Files.writeString(saved, "SAVEDDEV\n");
    EchoBot first = new EchoBot(vertx, web, new EchoBotConfig(hs.baseUrl(), fresh, "pw", null));
    EchoBot second =
        new EchoBot(vertx, web, new EchoBotConfig(hs.baseUrl(), restarted, "pw", null));
    hs.register(web, fresh, "pw", false)
        .compose(r -> hs.register(web, restarted, "pw", false))
        .compose(r -> first.start())
        .compose(v -> second.start())
        .onComplete(
            ctx.succeeding(
                v ->
                    ctx.verify(
                        () -> {
                          first.stop();
                          second.stop();
                          Path made = EchoBot.deviceIdFile(fresh);
                          String id = Files.readString(made).strip();
                          assertFalse(id.isEmpty());
                          assertEquals(
                              "rw-------",
                              java.nio.file.attribute.PosixFilePermissions.toString(
                                  Files.getPosixFilePermissions(made)));
                          assertTrue(
                              Files.isDirectory(
                                  Path.of(
                                      EchoBot.DEFAULT_STORE_DIR, "@" + fresh + ":localhost_" + id)),
                              "the store lives under the saved device id");
                          assertTrue(
                              Files.isDirectory(
                                  Path.of(
                                      EchoBot.DEFAULT_STORE_DIR,
                                      "@" + restarted + ":localhost_SAVEDDEV")),
                              "the restarted bot reused its saved device id");
                          assertEquals("SAVEDDEV", Files.readString(saved).strip());
                          ctx.completeNow();
                        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  void badPasswordFailsStart(Vertx vertx, VertxTestContext ctx) {
    DevHomeserver hs = DevHomeserver.shared();
    EchoBot bot =
        new EchoBot(
            vertx, WebClient.create(vertx), new EchoBotConfig(hs.baseUrl(), "nobody", "x", null));
    bot.start().onComplete(ctx.failing(err -> ctx.verify(ctx::completeNow)));
  }

  @Test
  void argumentsBeatEnvironmentBeatFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bot.json");
    Files.writeString(
        file,
        "{\"homeserver\":\"http://file\",\"user\":\"fileuser\",\"password\":\"filepw\","
            + "\"deviceId\":\"FILEDEV\"}");
    Map<String, String> env =
        Map.of("MXE2EE_BOT_CONFIG", file.toString(), "MXE2EE_BOT_USER", "envuser");
    EchoBotConfig c = EchoBotConfig.resolve(new String[] {"--homeserver", "http://arg"}, env);
    assertEquals("http://arg", c.homeserver());
    assertEquals("envuser", c.user());
    assertEquals("filepw", c.password());
    assertEquals("FILEDEV", c.deviceId());
    assertFalse(c.toString().contains("filepw"), c.toString());
  }

  @Test
  void missingPasswordIsRejected(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.json"), "{}");
    Map<String, String> env = Map.of("MXE2EE_BOT_CONFIG", empty.toString());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EchoBotConfig.resolve(new String[] {"--user", "u"}, env));
    assertTrue(e.getMessage().contains("required"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> EchoBotConfig.resolve(new String[0], Map.of("MXE2EE_BOT_CONFIG", "/nonexistent")));
  }

  @Test
  void badArgumentsAndFilesAreRejected(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.json"), "{}");
    Map<String, String> none = Map.of("MXE2EE_BOT_CONFIG", empty.toString());
    assertThrows(
        IllegalArgumentException.class,
        () -> EchoBotConfig.resolve(new String[] {"--bogus", "x"}, Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> EchoBotConfig.resolve(new String[] {"--user"}, Map.of()));
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "[not an object");
    assertThrows(
        IllegalArgumentException.class,
        () -> EchoBotConfig.resolve(new String[0], Map.of("MXE2EE_BOT_CONFIG", bad.toString())));
    EchoBotConfig ok =
        EchoBotConfig.resolve(
            new String[] {"--homeserver", "h", "--user", "u", "--password", "p"}, none);
    assertNull(ok.deviceId());
  }
}
