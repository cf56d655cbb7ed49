package io.github.mxe2ee.examples.bridge;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The example bridge (issue 15, docs/BRIDGES.md "The example bridge"): an appservice whose portal
 * rooms are end-to-end encrypted and whose ghosts send with devices of their own, bridged to a
 * "remote network" served over HTTP on 127.0.0.1 ({@link RemoteApi}).
 *
 * <p>Run it with {@code bash scripts/bridge.sh}. Arguments (each also from the environment):
 *
 * <ul>
 *   <li>{@code --homeserver URL} ({@code MXE2EE_HOMESERVER}): required;
 *   <li>{@code --registration FILE}: the appservice registration the homeserver loaded (default
 *       {@code .run/synapse/appservice-registration.yaml}); its tokens, its {@code url} (the bridge
 *       listens for transactions there) and its exclusive user namespace (ghosts are
 *       {@code @bridge_remote_...});
 *   <li>{@code --remote-port N} ({@code MXE2EE_BRIDGE_PORT}, default {@link #DEFAULT_REMOTE_PORT}):
 *       the remote endpoint's port on 127.0.0.1 (0 = any free port);
 *   <li>{@code --devices ghost|bot} ({@code MXE2EE_BRIDGE_DEVICES}, default {@code ghost}): {@link
 *       DeviceModel#GHOST_DEVICES} or {@link DeviceModel#BOT_DEVICE};
 *   <li>{@code --data DIR} (default {@link #DEFAULT_DATA_DIR}): the crypto store (SQLite, one file
 *       for every account), its pickle key (0600) and the portal store.
 * </ul>
 *
 * <p>It logs {@value #READY} with the remote endpoint's URL once both listeners are up. Ctrl-C
 * (SIGINT) closes the listeners, the plugin and the stores through a shutdown hook. A SIGKILL at
 * any moment loses nothing (see {@link BridgeService}). Exit codes: 0 stopped, 1 start failed, 2
 * bad arguments.
 */
public final class ExampleBridge {

  /** Default port of the remote endpoint. */
  public static final int DEFAULT_REMOTE_PORT = 29335;

  /** Default directory of the bridge's stores, relative to the working directory. */
  public static final String DEFAULT_DATA_DIR = ".run/bridge";

  /** The log line that says the bridge serves both sides. */
  public static final String READY = "bridge ready";

  /** How long the shutdown hook waits for each close. */
  static final long CLOSE_TIMEOUT_MS = 10_000;

  private static final System.Logger LOG = System.getLogger(ExampleBridge.class.getName());

  /** Resolved settings. */
  record Settings(
      String homeserver, Path registration, int remotePort, DeviceModel devices, Path dataDir) {

    static Settings resolve(String[] args, Map<String, String> env) {
      String homeserver = env.get("MXE2EE_HOMESERVER");
      String registration = ".run/synapse/appservice-registration.yaml";
      String port = env.getOrDefault("MXE2EE_BRIDGE_PORT", Integer.toString(DEFAULT_REMOTE_PORT));
      String devices = env.getOrDefault("MXE2EE_BRIDGE_DEVICES", "ghost");
      String data = DEFAULT_DATA_DIR;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        String v = args[++i];
        switch (a) {
          case "--homeserver" -> homeserver = v;
          case "--registration" -> registration = v;
          case "--remote-port" -> port = v;
          case "--devices" -> devices = v;
          case "--data" -> data = v;
          default -> throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      if (homeserver == null || !homeserver.matches("https?://\\S+")) {
        throw new IllegalArgumentException("--homeserver URL is required (http or https)");
      }
      int p;
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p < 0 || p > 65535) {
        throw new IllegalArgumentException("the remote port must be 0..65535, got '" + port + "'");
      }
      DeviceModel model =
          switch (devices) {
            case "ghost" -> DeviceModel.GHOST_DEVICES;
            case "bot" -> DeviceModel.BOT_DEVICE;
            default ->
                throw new IllegalArgumentException(
                    "--devices must be ghost or bot, got '" + devices + "'");
          };
      return new Settings(homeserver, Path.of(registration), p, model, Path.of(data));
    }
  }

  private final Vertx vertx;
  private final Settings settings;
  private volatile AppserviceE2ee appservice;
  private volatile PortalStore store;
  private volatile HttpServer remote;
  private volatile BridgeService service;

  ExampleBridge(Vertx vertx, Settings settings) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * Starts the plugin (bot device), the transaction listener on the registration's {@code url} and
   * the remote endpoint.
   *
   * @return the remote endpoint's port
   */
  Future<Integer> start() {
    BridgeRegistration reg = BridgeRegistration.read(settings.registration());
    Path data = settings.dataDir();
    AppserviceOptions options =
        new AppserviceOptions()
            .readRegistration(settings.registration())
            .setHomeserverUrl(settings.homeserver())
            .setDeviceModel(settings.devices())
            .setEngine(
                new E2eeOptions()
                    .setStorePath(data.resolve("mxe2ee.db").toString())
                    .setPickleKeyFile(data.resolve("pickle.key").toString()));
    AsClient http =
        new AsClient(WebClient.create(vertx), settings.homeserver(), options.getAsToken());
    return vertx
        .executeBlocking(
            () -> {
              Files.createDirectories(data);
              return PortalStore.open(data.resolve("portals.db"));
            })
        .compose(
            s -> {
              store = s;
              appservice = AppserviceE2ee.create(vertx, options);
              return appservice.start();
            })
        .compose(
            v -> {
              String bot = appservice.botUserId();
              String serverName = bot.substring(bot.indexOf(':') + 1);
              service =
                  new BridgeService(
                      vertx,
                      appservice,
                      http,
                      store,
                      new GhostNames(GhostNames.DEFAULT_PREFIX, serverName, reg.userNamespace()),
                      settings.devices() == DeviceModel.GHOST_DEVICES);
              appservice.transactionHandler(service::onTransaction);
              appservice.lateDecryptionHandler(service::onLateDecryption);
              appservice.userQueryHandler(
                  userId ->
                      Future.succeededFuture(
                          userId.startsWith("@" + GhostNames.DEFAULT_PREFIX)
                              || userId.startsWith("@" + BridgeService.KEEPER_PREFIX)));
              return appservice.listen(reg.listenHost(), reg.listenPort());
            })
        .compose(
            as -> {
              LOG.log(
                  System.Logger.Level.INFO,
                  "transactions on http://{0}:{1,number,#} as {2} ({3})",
                  reg.listenHost(),
                  as.actualPort(),
                  appservice.botUserId(),
                  settings.devices());
              return new RemoteApi(service).listen(vertx, "127.0.0.1", settings.remotePort());
            })
        .map(
            server -> {
              remote = server;
              LOG.log(
                  System.Logger.Level.INFO,
                  READY + ": remote endpoint http://127.0.0.1:{0,number,#}",
                  server.actualPort());
              return server.actualPort();
            });
  }

  /** The bridge's logic, after {@link #start()}. */
  BridgeService service() {
    return service;
  }

  /** Closes the remote endpoint, the plugin (and its listener) and the portal store. */
  Future<Void> close() {
    HttpServer r = remote;
    AppserviceE2ee a = appservice;
    PortalStore s = store;
    return (r == null ? Future.<Void>succeededFuture() : r.close())
        .eventually(() -> a == null ? Future.succeededFuture() : a.close())
        .eventually(
            () ->
                s == null
                    ? Future.succeededFuture()
                    : vertx.executeBlocking(
                        () -> {
                          s.close();
                          return null;
                        }))
        .mapEmpty();
  }

  /** Entry point; see the class comment. */
  public static void main(String[] args) throws Exception {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
    }
    Settings settings;
    try {
      settings = Settings.resolve(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("example-bridge: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = Vertx.vertx();
    ExampleBridge bridge = new ExampleBridge(vertx, settings);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.log(System.Logger.Level.INFO, "stopping");
                  try {
                    bridge
                        .close()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                  } catch (Exception e) {
                    System.err.println("example-bridge: did not close cleanly: " + e);
                  }
                  try {
                    vertx
                        .close()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                  } catch (Exception e) {
                    System.err.println("example-bridge: Vert.x did not close cleanly: " + e);
                  }
                },
                "example-bridge-shutdown"));
    try {
      bridge.start().toCompletionStage().toCompletableFuture().get();
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.log(System.Logger.Level.ERROR, "start failed: {0}", e.getCause().toString());
      System.exit(1);
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.ERROR, "start failed: {0}", e.getMessage());
      System.exit(1);
    }
  }
}
