package io.github.mxe2ee.plugin.bus;

/**
 * The failure codes {@link Mxe2eeVerticle} replies with ({@code message.fail(code, text)}; the
 * sender sees a {@link io.vertx.core.eventbus.ReplyException} with {@code failureCode()}). The
 * codes follow HTTP's classes so that any consumer can tell "my request is wrong" (4xx) from "try
 * again later" (5xx). Messages name the field or the cause, never a secret or message content.
 */
public final class BusFailure {
  /** The body is not a JSON object or a field is missing or of the wrong type. */
  public static final int BAD_REQUEST = 400;

  /** The room is not encrypted and {@code encryption.refuse_unencrypted} is set: nothing sent. */
  public static final int REFUSED_UNENCRYPTED = 403;

  /** The homeserver refused the request (its status and errcode are in the message). */
  public static final int HOMESERVER_ERROR = 502;

  /** The verticle is not started yet or is stopping. */
  public static final int NOT_READY = 503;

  /** Anything else (a store or engine failure); the verticle's log has the details. */
  public static final int INTERNAL = 500;

  private BusFailure() {}
}
