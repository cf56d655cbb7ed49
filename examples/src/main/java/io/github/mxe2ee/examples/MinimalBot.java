package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.bot.BotLogin;
import io.github.mxe2ee.plugin.bot.SyncBatch;
import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;

/**
 * The README's "Add encryption to your bot" as a program, so that the snippet there is compiled
 * with every build: reads a configuration file ({@code config/mxe2ee.yaml} format), logs in, starts
 * the plugin and its sync loop, and logs the id and type of every room event it receives. It
 * answers nothing; {@link EchoBot} is the complete example.
 *
 * <p>Usage: {@code MinimalBot CONFIG_FILE}. Exits 2 on a bad configuration, 1 when the start fails.
 */
public final class MinimalBot {
  private static final System.Logger LOG = System.getLogger(MinimalBot.class.getName());

  private MinimalBot() {}

  /** Logs in and runs the loop until the process ends. */
  public static Future<SyncLoop> start(Vertx vertx, E2eeOptions options) {
    HomeserverClient hs = new HomeserverClient(WebClient.create(vertx), options.getHomeserverUrl());
    return BotLogin.login(vertx, hs, options)
        .compose(
            session -> {
              MatrixE2ee e2ee = MatrixE2ee.create(vertx, hs, options);
              return e2ee.start()
                  .map(
                      v ->
                          SyncLoop.create(
                                  vertx,
                                  hs,
                                  e2ee,
                                  new SyncLoopOptions(),
                                  batch -> {
                                    for (SyncBatch.RoomEvent e : batch.events()) {
                                      LOG.log(
                                          System.Logger.Level.INFO,
                                          "room {0} event {1} type {2}",
                                          e.roomId(),
                                          e.event().getString("event_id"),
                                          e.event().getString("type"));
                                    }
                                    return Future.succeededFuture();
                                  })
                              .start());
            });
  }

  /** Entry point: {@code MinimalBot CONFIG_FILE}. */
  public static void main(String[] args) {
    E2eeOptions options;
    try {
      options = E2eeOptions.fromFile(Path.of(args.length > 0 ? args[0] : "config/mxe2ee.yaml"));
    } catch (IllegalArgumentException e) {
      System.err.println("minimal-bot: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (options.getHomeserverUrl() == null || options.getLogin() == null) {
      System.err.println("minimal-bot: the configuration needs 'homeserver' and 'login'");
      System.exit(2);
      return;
    }
    Vertx vertx = Vertx.vertx();
    start(vertx, options)
        .onFailure(
            err -> {
              System.err.println("minimal-bot: " + err.getMessage());
              System.exit(1);
            });
  }
}
