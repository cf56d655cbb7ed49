package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.history.InviteResult;
import io.github.mxe2ee.plugin.history.RoomMessages;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The syntax of the echo bot's {@code !invite @user:server} and {@code !history N} (README, "Room
 * history"): what is a command, what its arguments parse to, and the replies; bad arguments get a
 * usage reply, never an exception. The commands against a real server: {@link
 * HistorySharingEndToEndTest}.
 */
class HistoryCommandsTest {
  private static final String BOT = "@bot:x";

  private static JsonObject message(String sender, String body, boolean encrypted) {
    return new JsonObject()
        .put("type", "m.room.message")
        .put("sender", sender)
        .put("event_id", "$e")
        .put("content", new JsonObject().put("msgtype", "m.text").put("body", body))
        .put("mxe2ee", new JsonObject().put("encrypted", encrypted));
  }

  private static JsonObject batch(JsonObject... events) {
    return new JsonObject()
        .put(
            "rooms",
            new JsonObject()
                .put(
                    "join",
                    new JsonObject()
                        .put(
                            "!r:x",
                            new JsonObject()
                                .put(
                                    "timeline",
                                    new JsonObject()
                                        .put("events", new JsonArray(List.of(events)))))));
  }

  @Test
  void commandsAreTheWordAloneOrFollowedBySpaceAndOnlyEncryptedFromOthers() {
    List<CommandMessages.Command> found =
        CommandMessages.find(
            batch(
                message("@a:x", "!history 5", true),
                message("@a:x", "  !history  ", true),
                message("@a:x", "!historyx 5", true),
                message("@a:x", "!history 5", false),
                message(BOT, "!history 5", true),
                message("@a:x", "echo: !history 5", true)),
            BOT,
            HistoryCommand.COMMAND);
    assertEquals(2, found.size(), found.toString());
    assertEquals("5", found.get(0).args());
    assertEquals("", found.get(1).args());
    assertEquals("!r:x", found.get(0).roomId());
    JsonObject history = message("@a:x", "!history 5", true);
    history.getJsonObject("mxe2ee").put("history", true);
    assertEquals(List.of(), CommandMessages.find(batch(history), BOT, HistoryCommand.COMMAND));
    assertEquals(
        List.of(), CommandMessages.find(new JsonObject().put("rooms", 7), BOT, "!history"));
  }

  @Test
  void historyCountIsBoundedAndBadCountsAreRefused() {
    assertEquals(1, HistoryCommand.parseCount("1"));
    assertEquals(5, HistoryCommand.parseCount("5"));
    assertEquals(HistoryCommand.MAX_N, HistoryCommand.parseCount("50"));
    assertEquals(HistoryCommand.MAX_N + 1, HistoryCommand.parseCount("51"));
    assertEquals(HistoryCommand.MAX_N + 1, HistoryCommand.parseCount("99999999999999999999999"));
    for (String bad : List.of("", "0", "-3", "abc", "5 6", "5x", "1.5", "0x10", "٣")) {
      assertEquals(-1, HistoryCommand.parseCount(bad), bad);
    }
  }

  @Test
  void historyReplyListsSenderAndTextAndWhoVouchedAndCountsTheRest() {
    JsonObject vouched = message("@a:x", "one\nline", true);
    vouched.getJsonObject("mxe2ee").put("forwarder", "@a:x");
    RoomMessages m =
        new RoomMessages(
            List.of(vouched, message("@b:x", "two", true)),
            3,
            Map.of("m.history_not_shared", 3),
            0,
            10,
            true);
    String reply = HistoryCommand.format(m, 5, "");
    assertEquals(
        "history: the last 2 messages of this room I can decrypt (that is all of them)\n"
            + "@a:x: one line [key shared by @a:x]\n"
            + "@b:x: two\n"
            + "(3 encrypted messages I cannot decrypt: m.history_not_shared 3)",
        reply);
    String none =
        HistoryCommand.format(new RoomMessages(List.of(), 0, Map.of(), 2, 0, true), 5, "");
    assertEquals(
        "history: no text message of this room I can decrypt\n(2 earlier messages not shown:"
            + " this room's history is visible to members only from when they joined, and not"
            + " everyone here was in the room then)",
        none);
    String longLine =
        HistoryCommand.format(
            new RoomMessages(
                List.of(message("@a:x", "y".repeat(5000), true)), 0, Map.of(), 0, 1, true),
            1,
            "");
    for (String line : longLine.split("\n")) {
      assertTrue(line.length() <= HistoryCommand.MAX_LINE, line.length() + "");
    }
  }

  @Test
  void inviteTakesExactlyOneUserId() {
    assertEquals("@bob:example.org", InviteCommand.parseUser("@bob:example.org"));
    assertEquals("@bob:localhost:8448", InviteCommand.parseUser("@bob:localhost:8448"));
    for (String bad :
        List.of("", "bob", "@bob", "@bob:", "bob:x", "@bob:x @eve:x", "@b ob:x", "#room:x")) {
      assertNull(InviteCommand.parseUser(bad), bad);
    }
    assertNull(InviteCommand.parseUser("@" + "a".repeat(300) + ":x"));
  }

  @Test
  void inviteRefusesIdsOutsideTheSpecGrammar() {
    // Control characters, non-ASCII localparts, bidi overrides and markup in the server name
    // matched the old "no colon, no space" pattern and reached the engine's tracked users.
    for (String bad :
        List.of(
            "@bo\u0001b:x",
            "@bob\u0000:x",
            "@b\u00f6b:x",
            "@bob:local\u202ehost",
            "@bob:<x>",
            "@bob:x:port",
            "@bob:x:123456",
            "@" + "a".repeat(10_000) + ":x")) {
      assertNull(InviteCommand.parseUser(bad), bad.substring(0, Math.min(bad.length(), 20)));
    }
    assertEquals("@bob:[::1]:8448", InviteCommand.parseUser("@bob:[::1]:8448"));
    assertEquals("@a.b_c=d/e:example.org", InviteCommand.parseUser("@a.b_c=d/e:example.org"));
  }

  @Test
  void refusedInviteSaysWhyInOneLine() {
    assertEquals(
        "invite: could not invite @c:x: M_FORBIDDEN (already in the room, banned, or I may not"
            + " invite here)",
        InviteCommand.refused(
            "@c:x",
            new io.github.mxe2ee.plugin.HomeserverException("/invite", 403, "M_FORBIDDEN", "no")));
    assertEquals(
        "invite: could not invite @c:x: IllegalStateException",
        InviteCommand.refused("@c:x", new IllegalStateException("closed")));
  }

  @Test
  void inviteReplySaysWhatWasShared() {
    assertEquals(
        "invite: invited @c:x; shared the keys of 2 sessions with 1 device (1 withheld:"
            + " m.history_not_shared)",
        InviteCommand.format(
            new InviteResult("!r:x", "@c:x", true, 2, 1, List.of("D"), Map.of(), null)));
    assertEquals(
        "invite: invited @c:x; history not shared: no eligible device",
        InviteCommand.format(
            new InviteResult(
                "!r:x",
                "@c:x",
                false,
                2,
                0,
                List.of(),
                Map.of("D", "m.unverified"),
                "no eligible device")));
  }

  @Test
  void commandsAreAnsweredByTheirReplyNotEchoed() {
    for (String command :
        List.of("!invite @u:x", "!history 5", "  !history", "!topic", "!topic hello")) {
      assertTrue(EchoBot.isCommand(command), command);
    }
    for (String text : List.of("!historyx", "!invites", "hello !history 5", "echo: !topic")) {
      assertTrue(!EchoBot.isCommand(text), text);
    }
  }
}
