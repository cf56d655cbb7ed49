package io.github.mxe2ee.plugin.appservice.impl;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.client.WebClient;
import java.util.function.BooleanSupplier;

/**
 * What the parts of one bridge ({@link AppserviceE2eeImpl}, {@link GhostPool}, {@link InboxReader},
 * {@link GhostFallback}) share: the options and HTTP clients, and what {@code start()} makes (the
 * state worker and store, the bot's ids, engine and client), set once before the bridge is started
 * and read by the parts afterwards. Not API.
 */
final class AsContext {
  final Vertx vertx;
  final AppserviceOptions options;
  final WebClient web;
  final AsHttp http;
  private final BooleanSupplier closed;

  /** The one worker that runs every {@link #registry} call. */
  volatile WorkerExecutor stateWorker;

  /** The bridge's own state in the store; used on {@link #stateWorker} only. */
  volatile AppserviceState registry;

  volatile String botUserId;
  volatile String botDeviceId;
  volatile MatrixE2eeImpl botEngine;
  volatile HomeserverClient botHttp;

  AsContext(
      Vertx vertx, AppserviceOptions options, WebClient web, AsHttp http, BooleanSupplier closed) {
    this.vertx = vertx;
    this.options = options;
    this.web = web;
    this.http = http;
    this.closed = closed;
  }

  /** Whether the bridge is closed (or closing). */
  boolean closed() {
    return closed.getAsBoolean();
  }
}
