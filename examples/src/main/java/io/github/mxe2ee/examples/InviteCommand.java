package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.history.InviteResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The echo bot's {@code !invite @user:server} (README, "Room history"): the bot invites that user
 * to the room the command was sent in, sharing the room's history with the user's cross-signed
 * devices ({@link MatrixE2ee#invite}, MSC4268), and answers with one {@code m.notice} saying what
 * it did: {@code invite: invited <user>; shared the keys of S sessions with D devices (W withheld)}
 * or {@code invite: invited <user>; history not shared: <why>}, or {@code invite: could not invite
 * <user>: <errcode>} when the server refused.
 *
 * <p>Syntax: exactly one argument, a user id by the spec's grammar ({@code @localpart:server}, at
 * most 255 bytes); anything else gets a usage reply. The bot itself gets {@link #SELF}; an invite
 * the server refuses gets {@code could not invite <user>: <errcode>}, and no history is shared for
 * an invite that is bound to be refused (plugin, {@code InviteCheck}). Any member of the room may
 * ask (members can invite anyway in most rooms; the server checks the bot's power level). Only
 * encrypted commands count, each answered once (transaction id from the command's event id).
 */
final class InviteCommand {
  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  /** The command. */
  static final String COMMAND = "!invite";

  /** Prefix of every reply. */
  static final String PREFIX = "invite: ";

  static final String USAGE = PREFIX + "usage: " + COMMAND + " @user:server";

  private final MatrixE2ee e2ee;
  private final String ownUserId;

  InviteCommand(MatrixE2ee e2ee, String ownUserId) {
    this.e2ee = e2ee;
    this.ownUserId = ownUserId;
  }

  /** Answers every {@code !invite} in the batch's timelines and late re-emissions. */
  Future<Void> onBatch(JsonObject body, List<JsonObject> late) {
    return CommandMessages.answerAll(body, late, ownUserId, COMMAND, this::answer);
  }

  /**
   * The user id of the arguments, or null when they are not exactly one user id by the spec's
   * grammar (appendices, "User Identifiers": {@code @localpart:server_name}, at most 255 bytes, the
   * localpart printable ASCII but {@code :}, the server name a DNS name or IP literal with an
   * optional port): a malformed id never reaches the engine's tracked users or the server.
   */
  static String parseUser(String args) {
    return io.github.mxe2ee.examples.bridge.MatrixIds.isUserId(args) ? args : null;
  }

  /** The reply to {@code !invite} naming the bot itself. */
  static final String SELF = PREFIX + "I am already in this room";

  private Future<Void> answer(CommandMessages.Command c) {
    String user = parseUser(c.args());
    Future<String> reply;
    if (user == null) {
      reply = Future.succeededFuture(USAGE);
    } else if (user.equals(ownUserId)) {
      reply = Future.succeededFuture(SELF);
    } else {
      LOG.log(
          System.Logger.Level.INFO,
          "{0}: inviting {1} to {2} (asked by {3})",
          COMMAND,
          user,
          c.roomId(),
          c.sender());
      reply =
          e2ee.invite(c.roomId(), user)
              .map(InviteCommand::format)
              .recover(
                  err -> {
                    LOG.log(
                        System.Logger.Level.WARNING,
                        "{0} {1} in {2} failed: {3}",
                        COMMAND,
                        user,
                        c.roomId(),
                        err.toString());
                    return Future.succeededFuture(refused(user, err));
                  });
    }
    return CommandMessages.reply(e2ee, COMMAND, c, reply);
  }

  /**
   * The reply for an invite the server refused (or that failed): the error code, and for {@code
   * M_FORBIDDEN} the usual reasons, so the asker can tell what to change.
   */
  static String refused(String user, Throwable err) {
    String why =
        err instanceof HomeserverException h && h.errcode() != null
            ? h.errcode()
            : err.getClass().getSimpleName();
    if ("M_FORBIDDEN".equals(why)) {
      why += " (already in the room, banned, or I may not invite here)";
    }
    return PREFIX + "could not invite " + user + ": " + why;
  }

  /** The reply for a sent invite. */
  static String format(InviteResult r) {
    String head = PREFIX + "invited " + r.userId();
    if (!r.historyShared()) {
      return head + "; history not shared: " + r.note();
    }
    return head
        + "; shared the keys of "
        + r.sharedSessions()
        + (r.sharedSessions() == 1 ? " session" : " sessions")
        + " with "
        + r.devices().size()
        + (r.devices().size() == 1 ? " device" : " devices")
        + (r.withheldSessions() > 0
            ? " (" + r.withheldSessions() + " withheld: m.history_not_shared)"
            : "");
  }
}
