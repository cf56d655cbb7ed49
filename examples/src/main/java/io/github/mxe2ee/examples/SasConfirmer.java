package io.github.mxe2ee.examples;

import io.github.mxe2ee.plugin.verification.Verification;
import io.github.mxe2ee.sas.SasState;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The echo bot's headless SAS (README, "Verify the bot"): when a verification reaches the
 * comparison stage the bot logs exactly {@code SAS <flow id>: <three decimals> <seven emoji
 * names>}; it confirms only when a device of its own user sends, in an encrypted message in any
 * room the bot is in, {@code !confirm <the same three decimals>}. A {@code !confirm} with other
 * numbers cancels every waiting comparison with {@code m.mismatched_sas}; no answer within the
 * plugin's comparison timeout cancels with {@code m.timeout}.
 *
 * <p>Why only the own user, only encrypted: the confirmation stands for the operator's "they
 * match"; a plain message could be made up by the homeserver, an encrypted one comes from a device
 * logged in as the bot's user. Thread-safe (the plugin's handler and the sync loop may run on
 * different event loops).
 */
final class SasConfirmer {
  private static final System.Logger LOG = System.getLogger(EchoBot.class.getName());

  /** The command an own device sends to confirm. */
  static final String COMMAND = "!confirm";

  /** Most comparisons waiting at once (the plugin's engine allows 16 live flows). */
  static final int MAX_WAITING = 16;

  private final String ownUserId;
  private final Map<String, Verification> waiting = new LinkedHashMap<>();

  SasConfirmer(String ownUserId) {
    this.ownUserId = ownUserId;
  }

  /** The SAS line logged for a flow showing its strings. */
  static String sasLine(Verification v) {
    String decimals = v.decimals().stream().map(String::valueOf).collect(Collectors.joining(" "));
    String emoji =
        v.emoji().stream().map(Verification.Emoji::name).collect(Collectors.joining(" "));
    return "SAS " + v.flowId() + ": " + decimals + (emoji.isEmpty() ? "" : " " + emoji);
  }

  /** The plugin's verification handler. */
  synchronized void onVerification(Verification v) {
    if (v.state() == SasState.KEYS_EXCHANGED && !v.decimals().isEmpty()) {
      if (waiting.size() >= MAX_WAITING && !waiting.containsKey(v.flowId())) {
        v.cancel();
        return;
      }
      waiting.put(v.flowId(), v);
      LOG.log(System.Logger.Level.INFO, sasLine(v));
      LOG.log(
          System.Logger.Level.INFO,
          "to confirm, send from a device of {0}: {1} {2}",
          ownUserId,
          COMMAND,
          v.decimals().stream().map(String::valueOf).collect(Collectors.joining(" ")));
    } else if (v.state() != SasState.KEYS_EXCHANGED) {
      waiting.remove(v.flowId());
    }
  }

  /** Looks for {@code !confirm} messages of the own user in a batch's decrypted timelines. */
  Future<Void> onBatch(JsonObject body) {
    JsonObject join = body.getJsonObject("rooms", new JsonObject()).getJsonObject("join");
    if (join == null) {
      return Future.succeededFuture();
    }
    List<Future<Void>> acts = new ArrayList<>();
    for (String roomId : join.fieldNames()) {
      if (!(join.getValue(roomId) instanceof JsonObject room)
          || !(room.getValue("timeline") instanceof JsonObject timeline)
          || !(timeline.getValue("events") instanceof JsonArray events)) {
        continue;
      }
      for (Object o : events) {
        if (o instanceof JsonObject ev
            && "m.room.message".equals(ev.getValue("type"))
            && ownUserId.equals(ev.getValue("sender"))
            && ev.getValue("mxe2ee") instanceof JsonObject info
            && Boolean.TRUE.equals(info.getValue("encrypted"))
            && ev.getValue("content") instanceof JsonObject content
            && content.getValue("body") instanceof String text
            && (text.equals(COMMAND) || text.startsWith(COMMAND + " "))) {
          acts.add(onCommand(text.substring(COMMAND.length()).trim()));
        }
      }
    }
    return Future.join(acts).mapEmpty();
  }

  /** Confirms the waiting flow whose decimals are {@code typed}; else cancels every waiting one. */
  private synchronized Future<Void> onCommand(String typed) {
    String numbers = String.join(" ", typed.split("\\s+"));
    if (waiting.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "{0}: no verification is waiting", COMMAND);
      return Future.succeededFuture();
    }
    for (Verification v : waiting.values()) {
      String expected = v.decimals().stream().map(String::valueOf).collect(Collectors.joining(" "));
      if (expected.equals(numbers)) {
        waiting.remove(v.flowId());
        LOG.log(System.Logger.Level.INFO, "SAS {0}: confirmed by the operator", v.flowId());
        return v.confirm().recover(e -> logged(v, e));
      }
    }
    List<Future<Void>> cancels = new ArrayList<>();
    for (Verification v : List.copyOf(waiting.values())) {
      waiting.remove(v.flowId());
      LOG.log(
          System.Logger.Level.INFO,
          "SAS {0}: the numbers sent do not match, cancelled (m.mismatched_sas)",
          v.flowId());
      cancels.add(v.mismatch().recover(e -> logged(v, e)));
    }
    return Future.join(cancels).mapEmpty();
  }

  private static Future<Void> logged(Verification v, Throwable e) {
    LOG.log(System.Logger.Level.WARNING, "SAS {0}: {1}", v.flowId(), e.toString());
    return Future.succeededFuture();
  }
}
