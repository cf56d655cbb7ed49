package io.github.mxe2ee.plugin.bot;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.LoginOptions;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Logs a bot in as {@link E2eeOptions#getLogin()} says, keeping one device for the life of its
 * store (Client-Server API, "Login"; the device id names the bot's crypto identity). With an access
 * token, the token's device is used ({@code GET /account/whoami}). With a password, the device id
 * is the configured one; if none is configured and the SQLite store already holds an account of
 * this user, that account's device id (so a bot that let the server choose its device on its first
 * start logs in to the same device on every later one); otherwise the server creates a device, and
 * the store opened for it by {@link io.github.mxe2ee.plugin.MatrixE2ee#start()} remembers it from
 * then on.
 *
 * <p>Errors: a store that holds several devices of the user and no configured device id fails with
 * an {@link IllegalStateException} that lists them; login errors are the homeserver's ({@link
 * io.github.mxe2ee.plugin.HomeserverException}).
 */
public final class BotLogin {
  private BotLogin() {}

  /**
   * Logs {@code client} in.
   *
   * @return the session; failed with {@link IllegalArgumentException} when the options have no
   *     login
   */
  public static Future<HomeserverClient.Session> login(
      Vertx vertx, HomeserverClient client, E2eeOptions options) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(client, "client");
    LoginOptions login = options.getLogin();
    if (login == null) {
      return Future.failedFuture(new IllegalArgumentException("the options have no login"));
    }
    if (login.getAccessToken() != null) {
      return client.loginWithAccessToken(login.getAccessToken());
    }
    if (login.getDeviceId() != null || options.getPostgresUrl() != null) {
      return client.login(login.getUser(), login.getPassword(), login.getDeviceId());
    }
    return vertx
        .executeBlocking(() -> storedDeviceId(Path.of(options.getStorePath()), login.getUser()))
        .compose(deviceId -> client.login(login.getUser(), login.getPassword(), deviceId));
  }

  /**
   * The device id of {@code user}'s account in the store file, or null if it holds none.
   *
   * @param user a full user id, or a localpart (matched against the localpart of stored ids)
   * @throws IllegalStateException if it holds several
   */
  static String storedDeviceId(Path storeFile, String user) {
    List<AccountId> mine =
        SqliteCryptoStore.accountsIn(storeFile).stream()
            .filter(a -> sameUser(a.userId(), user))
            .toList();
    if (mine.size() > 1) {
      throw new IllegalStateException(
          "crypto store "
              + storeFile
              + " holds several devices of "
              + user
              + " ("
              + String.join(", ", mine.stream().map(AccountId::deviceId).toList())
              + "): set login.device_id to the one to use");
    }
    return mine.isEmpty() ? null : mine.get(0).deviceId();
  }

  private static boolean sameUser(String stored, String configured) {
    if (configured.startsWith("@")) {
      return stored.equals(configured);
    }
    int colon = stored.indexOf(':');
    return colon > 1 && stored.substring(1, colon).equals(configured);
  }
}
