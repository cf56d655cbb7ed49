package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The echo bot's {@code !topic} command (README, "Encrypted room state"; issue 16): {@code !topic}
 * replies with the room's current topic as the bot reads it ({@link MatrixE2ee#roomState}: an
 * encrypted topic decrypted and its packed state key checked), as an {@code m.notice} whose body is
 * exactly the topic, or {@value #NO_TOPIC} if there is none; {@code !topic <text>} sets the topic
 * to {@code <text>} (surrounding whitespace removed) with {@link MatrixE2ee#sendStateEvent}:
 * encrypted when the room encrypts state (MSC4362), plain otherwise. Nothing is answered on success
 * (the new topic is the answer); a failure is answered with a notice.
 *
 * <p>Never the bot's own messages, never history; in an encrypted room only encrypted commands
 * count: a plain {@code !topic} there could be made up by the homeserver, and the bot would then
 * put the server's text into an encrypted topic that members trust (in a room that is not
 * encrypted, plain commands count: the server could set that topic itself). The reply's transaction
 * id is derived from the command's event id, so a batch replayed after a crash answers once.
 * Thread-safe (stateless).
 */
final class TopicCommand {
  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  /** The command. */
  static final String COMMAND = "!topic";

  /** The reply when the room has no (readable) topic. */
  static final String NO_TOPIC = "(no topic)";

  private static final Pattern SYNTAX =
      Pattern.compile("^" + Pattern.quote(COMMAND) + "(?:\\s+(.*))?$", Pattern.DOTALL);

  private final String ownUserId;
  private final MatrixE2ee e2ee;

  TopicCommand(String ownUserId, MatrixE2ee e2ee) {
    this.ownUserId = ownUserId;
    this.e2ee = e2ee;
  }

  /** True if {@code body} is a {@code !topic} command (then the echo leaves it to this class). */
  static boolean isCommand(String body) {
    return SYNTAX.matcher(body).matches();
  }

  /** The text to set, or "" to read the topic; null if {@code body} is not the command. */
  static String argument(String body) {
    Matcher m = SYNTAX.matcher(body);
    if (!m.matches()) {
      return null;
    }
    return m.group(1) == null ? "" : m.group(1).strip();
  }

  /** Runs the {@code !topic} commands of a batch's decrypted timelines, in order. */
  Future<Void> onBatch(JsonObject body) {
    JsonObject join = body.getJsonObject("rooms", new JsonObject()).getJsonObject("join");
    if (join == null) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    for (String roomId : join.fieldNames()) {
      if (!(join.getValue(roomId) instanceof JsonObject room)
          || !(room.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        if (o instanceof JsonObject ev) {
          chain = chain.compose(v -> onEvent(roomId, ev));
        }
      }
    }
    return chain;
  }

  private Future<Void> onEvent(String roomId, JsonObject ev) {
    JsonObject info = ev.getValue("mxe2ee") instanceof JsonObject i ? i : new JsonObject();
    if (!"m.room.message".equals(ev.getValue("type"))
        || ownUserId.equals(ev.getValue("sender"))
        || Boolean.TRUE.equals(info.getValue("history"))
        || !(ev.getValue("content") instanceof JsonObject content)
        || !(content.getValue("body") instanceof String text)
        || !(ev.getValue("event_id") instanceof String eventId)) {
      return Future.succeededFuture();
    }
    String argument = argument(text);
    if (argument == null) {
      return Future.succeededFuture();
    }
    if (Boolean.TRUE.equals(info.getValue("encrypted"))) {
      return run(roomId, eventId, argument);
    }
    // A plain command counts only in a room that is not encrypted (there the server could set
    // the topic itself anyway); in an encrypted room it could be the server's.
    return e2ee.isRoomEncrypted(roomId)
        .compose(
            encrypted ->
                encrypted ? Future.<Void>succeededFuture() : run(roomId, eventId, argument))
        .recover(err -> Future.succeededFuture());
  }

  private Future<Void> run(String roomId, String eventId, String argument) {
    String txnId = "topic-" + EchoBot.echoTxnId(eventId);
    Future<?> done;
    if (argument.isEmpty()) {
      done =
          e2ee.roomState(roomId)
              .compose(state -> reply(roomId, txnId, state.topic().orElse(NO_TOPIC)))
              .onSuccess(
                  id ->
                      LOG.log(
                          System.Logger.Level.INFO, "{0}: told the topic in {1}", COMMAND, roomId));
    } else {
      done =
          e2ee.sendStateEvent(roomId, "m.room.topic", "", new JsonObject().put("topic", argument))
              .onSuccess(
                  id ->
                      LOG.log(
                          System.Logger.Level.INFO,
                          "{0}: topic of {1} set as {2}",
                          COMMAND,
                          roomId,
                          id))
              .recover(
                  err -> reply(roomId, txnId, "could not set the topic (" + whyNot(err) + ")"));
    }
    return done.<Void>mapEmpty()
        .recover(
            err -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "{0} in {1} failed: {2}",
                  COMMAND,
                  roomId,
                  err.toString());
              return Future.succeededFuture();
            });
  }

  private Future<String> reply(String roomId, String txnId, String body) {
    return e2ee.send(
        roomId,
        "m.room.message",
        new JsonObject().put("msgtype", "m.notice").put("body", body),
        txnId);
  }

  /**
   * Why a topic change failed, for the reply: the homeserver's error code (with a hint for the
   * usual one, missing power) or the error's class; never the message, which may quote content.
   */
  static String whyNot(Throwable err) {
    if (err instanceof io.github.mxe2ee.plugin.HomeserverException h && h.errcode() != null) {
      return "M_FORBIDDEN".equals(h.errcode())
          ? "M_FORBIDDEN: the bot may not change the topic here; give it the power level for"
              + " m.room.topic (or m.room.encrypted state, when the room encrypts state)"
          : h.errcode();
    }
    return err.getClass().getSimpleName();
  }
}
