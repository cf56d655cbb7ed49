package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.history.RoomMessages;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The echo bot's {@code !history N} (README, "Room history"): the bot answers in the room with one
 * {@code m.notice} listing the last {@code N} text messages of the room it can decrypt, oldest
 * first, one line each, {@code <sender>: <text>}, including messages sent before the bot joined
 * when their keys came in the inviter's room key bundle (MSC4268); such a line ends with {@code
 * [key shared by <user>]}, the user who vouched for the key. Undecryptable messages are not listed;
 * a last line counts them by reason (e.g. {@code m.history_not_shared}).
 *
 * <p>Syntax: {@code !history N} with {@code N} a whole number from 1 to {@link #MAX_N}. Above
 * {@link #MAX_N} the bot shows the last {@link #MAX_N} and says so; a missing, non-numeric, zero or
 * negative {@code N}, or extra words, get a usage reply. Each line is cut at {@link #MAX_LINE}
 * characters. The bot reads at most {@code RoomHistory.MAX_SCANNED} events back. Only encrypted
 * commands count, each answered once (transaction id from the command's event id).
 */
final class HistoryCommand {
  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  /** The command. */
  static final String COMMAND = "!history";

  /** Most messages one reply lists (one event stays far below the 64 KiB event limit). */
  static final int MAX_N = 50;

  /** Longest line of a reply, in characters. */
  static final int MAX_LINE = 300;

  /** Prefix of every reply. */
  static final String PREFIX = "history: ";

  static final String USAGE =
      PREFIX + "usage: " + COMMAND + " N, with N a whole number from 1 to " + MAX_N;

  private final MatrixE2ee e2ee;
  private final String ownUserId;

  HistoryCommand(MatrixE2ee e2ee, String ownUserId) {
    this.e2ee = e2ee;
    this.ownUserId = ownUserId;
  }

  /** Answers every {@code !history} in the batch's timelines and late re-emissions. */
  Future<Void> onBatch(JsonObject body, List<JsonObject> late) {
    return CommandMessages.answerAll(body, late, ownUserId, COMMAND, this::answer);
  }

  /** The requested count, clamped to {@link #MAX_N}; -1 when the arguments are not a count. */
  static int parseCount(String args) {
    if (!args.matches("\\+?[0-9]{1,1000}")) {
      return -1;
    }
    BigInteger n = new BigInteger(args.startsWith("+") ? args.substring(1) : args);
    if (n.signum() <= 0) {
      return -1;
    }
    return n.compareTo(BigInteger.valueOf(MAX_N)) > 0 ? MAX_N + 1 : n.intValue();
  }

  private Future<Void> answer(CommandMessages.Command c) {
    int requested = parseCount(c.args());
    Future<String> reply;
    if (requested < 0) {
      reply = Future.succeededFuture(USAGE);
    } else {
      int n = Math.min(requested, MAX_N);
      String note =
          requested > MAX_N
              ? " (at most " + MAX_N + " per request: showing the last " + MAX_N + ")"
              : "";
      reply =
          e2ee.history()
              .lastMessages(c.roomId(), n, c.eventId())
              .map(m -> format(m, n, note))
              .recover(
                  err -> {
                    LOG.log(
                        System.Logger.Level.WARNING,
                        "{0} in {1} failed: {2}",
                        COMMAND,
                        c.roomId(),
                        err.toString());
                    return Future.succeededFuture(
                        PREFIX
                            + "could not read the room's history ("
                            + err.getClass().getSimpleName()
                            + ")");
                  });
    }
    return CommandMessages.reply(e2ee, COMMAND, c, reply);
  }

  /** The reply: a header, one line per message, and the count of undecryptable ones. */
  static String format(RoomMessages m, int n, String note) {
    StringBuilder sb = new StringBuilder(PREFIX);
    if (m.messages().isEmpty()) {
      sb.append("no text message of this room I can decrypt").append(note);
    } else {
      sb.append("the last ")
          .append(m.messages().size())
          .append(m.messages().size() == 1 ? " message" : " messages")
          .append(" of this room I can decrypt")
          .append(m.messages().size() < n ? " (that is all of them)" : "")
          .append(note);
      for (JsonObject e : m.messages()) {
        String sender = String.valueOf(e.getValue("sender"));
        String text = (String) e.getJsonObject("content").getValue("body");
        String forwarder =
            e.getValue("mxe2ee") instanceof JsonObject info
                    && info.getValue("forwarder") instanceof String f
                ? " [key shared by " + f + "]"
                : "";
        sb.append('\n').append(CommandMessages.oneLine(sender + ": " + text, MAX_LINE));
        sb.append(forwarder);
      }
    }
    if (m.hidden() > 0) {
      sb.append('\n')
          .append("(")
          .append(m.hidden())
          .append(m.hidden() == 1 ? " earlier message" : " earlier messages")
          .append(" not shown: this room's history is visible to members only from when they")
          .append(" joined, and not everyone here was in the room then)");
    }
    if (m.undecryptable() > 0) {
      sb.append('\n').append("(").append(m.undecryptable()).append(" encrypted ");
      sb.append(m.undecryptable() == 1 ? "message" : "messages").append(" I cannot decrypt: ");
      List<String> parts = new ArrayList<>();
      for (Map.Entry<String, Integer> f : m.failures().entrySet()) {
        parts.add(f.getKey() + " " + f.getValue());
      }
      sb.append(String.join(", ", parts)).append(")");
    }
    return sb.toString();
  }
}
