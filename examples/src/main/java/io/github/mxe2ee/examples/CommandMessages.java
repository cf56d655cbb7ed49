package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Finds the echo bot's {@code !command} messages in a batch's decrypted timelines: encrypted {@code
 * m.room.message} events from another user whose body is the command alone or the command, a space
 * and its arguments. Shared by {@link InviteCommand} and {@link HistoryCommand}.
 */
final class CommandMessages {
  /** One command message: where, which event, who sent it, and its argument text (trimmed). */
  record Command(String roomId, String eventId, String sender, String args) {}

  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  private CommandMessages() {}

  /**
   * The messages of {@code body} (rooms.join timelines) that invoke {@code command}, in order. Only
   * encrypted messages count: a plain one could be made up by the homeserver.
   */
  static List<Command> find(JsonObject body, String ownUserId, String command) {
    List<Command> out = new ArrayList<>();
    JsonObject join =
        body.getValue("rooms") instanceof JsonObject rooms
                && rooms.getValue("join") instanceof JsonObject j
            ? j
            : null;
    if (join == null) {
      return out;
    }
    for (String roomId : join.fieldNames()) {
      if (!(join.getValue(roomId) instanceof JsonObject room)
          || !(room.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        Command c = parse(roomId, o, ownUserId, command);
        if (c != null) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /**
   * The commands among events re-emitted because their key arrived late (they carry {@code
   * room_id}), in order.
   */
  static List<Command> findLate(List<JsonObject> late, String ownUserId, String command) {
    List<Command> out = new ArrayList<>();
    for (JsonObject ev : late) {
      if (ev.getValue("room_id") instanceof String roomId) {
        Command c = parse(roomId, ev, ownUserId, command);
        if (c != null) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /** The command in one event, or null. Fields are type-checked: any sender chooses its JSON. */
  static Command parse(String roomId, Object o, String ownUserId, String command) {
    if (o instanceof JsonObject ev
        && "m.room.message".equals(ev.getValue("type"))
        && ev.getValue("sender") instanceof String sender
        && !sender.equals(ownUserId)
        && ev.getValue("event_id") instanceof String eventId
        && ev.getValue("mxe2ee") instanceof JsonObject info
        && Boolean.TRUE.equals(info.getValue("encrypted"))
        && !Boolean.TRUE.equals(info.getValue("history"))
        && ev.getValue("content") instanceof JsonObject content
        && content.getValue("body") instanceof String text) {
      String args = arguments(text, command);
      if (args != null) {
        return new Command(roomId, eventId, sender, args);
      }
    }
    return null;
  }

  /**
   * The arguments of {@code command} in a message body (trimmed, "" for none), or null if the body
   * is not that command: the command alone or followed by whitespace and its arguments.
   */
  static String arguments(String text, String command) {
    String t = text.strip();
    if (t.equals(command)) {
      return "";
    }
    if (t.startsWith(command) && Character.isWhitespace(t.charAt(command.length()))) {
      return t.substring(command.length()).strip();
    }
    return null;
  }

  /**
   * Answers, one after the other in timeline order, every {@code command} of a batch (its
   * timelines, then its late re-emissions) with {@code answer}.
   */
  static Future<Void> answerAll(
      JsonObject body,
      List<JsonObject> late,
      String ownUserId,
      String command,
      Function<Command, Future<Void>> answer) {
    List<Command> commands = new ArrayList<>(find(body, ownUserId, command));
    commands.addAll(findLate(late, ownUserId, command));
    Future<Void> chain = Future.succeededFuture();
    for (Command c : commands) {
      chain = chain.compose(v -> answer.apply(c));
    }
    return chain;
  }

  /**
   * Sends {@code text} as the {@code m.notice} reply to command {@code c} (one reply per command:
   * {@link #replyTxnId}); a failure is logged and swallowed, so one failed reply does not stop the
   * batch.
   */
  static Future<Void> reply(MatrixE2ee e2ee, String command, Command c, Future<String> text) {
    return text.compose(
            t ->
                e2ee.send(
                    c.roomId(),
                    "m.room.message",
                    new JsonObject().put("msgtype", "m.notice").put("body", t),
                    replyTxnId(c.eventId())))
        .<Void>map(
            id -> {
              LOG.log(
                  System.Logger.Level.INFO,
                  "{0} {1} in {2} answered as {3}",
                  command,
                  c.eventId(),
                  c.roomId(),
                  id);
              return null;
            })
        .recover(
            err -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "answer to {0} in {1} failed: {2}",
                  c.eventId(),
                  c.roomId(),
                  err.toString());
              return Future.succeededFuture();
            });
  }

  /** The transaction id of the reply to command event {@code eventId}: one reply per command. */
  static String replyTxnId(String eventId) {
    return "cmd-" + EchoBot.echoTxnId(eventId);
  }

  /** {@code text} on one line, at most {@code max} characters (an ellipsis marks a cut). */
  static String oneLine(String text, int max) {
    String s = text.replaceAll("[\\r\\n\\t]+", " ").strip();
    if (s.length() <= max) {
      return s;
    }
    int end = max - 1;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "…";
  }

  /** Bytes of {@code s} in UTF-8. */
  static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
