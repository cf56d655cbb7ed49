package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.GhostDevice;
import io.github.mxe2ee.plugin.appservice.TransactionHandler;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.function.Function;

/** The implementation of {@link AppserviceE2ee}; not API. */
public final class AppserviceE2eeImpl implements AppserviceE2ee {
  private final Vertx vertx;
  private final AppserviceOptions options;

  /** Use {@link AppserviceE2ee#create}. */
  public AppserviceE2eeImpl(Vertx vertx, AppserviceOptions options) {
    options.validate();
    this.vertx = vertx;
    this.options = options;
  }

  @Override
  public Future<Void> start() {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Future<HttpServer> listen(String host, int port) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Router mount(Router router) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Future<JsonObject> onTransaction(String txnId, JsonObject transaction) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public AppserviceE2ee transactionHandler(TransactionHandler handler) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public AppserviceE2ee userQueryHandler(Function<String, Future<Boolean>> handler) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public AppserviceE2ee roomQueryHandler(Function<String, Future<Boolean>> handler) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Future<GhostDevice> ensureGhost(String userId) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Future<String> send(String roomId, String type, JsonObject content, String asUser) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public Future<String> send(
      String roomId, String type, JsonObject content, String asUser, String txnId) {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public MatrixE2ee bot() {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public String botUserId() {
    return null;
  }

  @Override
  public int openGhosts() {
    return 0;
  }

  @Override
  public Future<Void> close() {
    throw new UnsupportedOperationException("not yet");
  }
}
