package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.MachineLimits;
import io.github.mxe2ee.machine.OutgoingRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote user floods the bot with {@code m.room_key_request}s (issue 11, item 3): the replies
 * queued are bounded per requesting device, per user and overall, and a request naming an over-long
 * id is dropped instead of echoed back.
 */
class KeyRequestFloodTest {
  static final String MALLORY = "@mallory:evil.example";

  @TempDir Path dir;

  private static List<FloodBot.Peer> peers(FloodBot bot, String user, int n) {
    List<FloodBot.Peer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new FloodBot.Peer(user, "D" + i).on(bot));
    }
    bot.learn(user);
    return out;
  }

  @Test
  void repliesToOneUserStopAtThePerUserLimit() {
    int limit = MachineLimits.DEFAULT.maxKeyRequestRepliesPerUserPerMinute();
    try (FloodBot bot = new FloodBot(dir)) {
      List<FloodBot.Peer> devices = peers(bot, MALLORY, limit + 50);
      List<ObjectNode> atLimit = new ArrayList<>();
      for (int i = 0; i < limit; i++) {
        atLimit.add(devices.get(i).keyRequest("r" + i, FloodBot.ROOM, "s" + i));
      }
      bot.sync(atLimit);
      assertEquals(limit, FloodBot.messages(bot.pump(), "m.room_key.withheld"), "at the limit");

      // Every device now asks many times: nothing more for this user within the minute.
      List<ObjectNode> flood = new ArrayList<>();
      for (FloodBot.Peer d : devices) {
        for (int i = 0; i < 20; i++) {
          flood.add(d.keyRequest("f" + i, FloodBot.ROOM, "s" + i));
        }
      }
      bot.sync(flood);
      assertEquals(limit, FloodBot.messages(bot.pump(), "m.room_key.withheld"), "over the limit");
      assertTrue(bot.machine.stats().keyRequestRepliesDropped() >= flood.size());

      bot.clock.advance(61_000);
      bot.sync(List.of(devices.get(limit + 10).keyRequest("later", FloodBot.ROOM, "x")));
      assertEquals(limit + 1, FloodBot.messages(bot.pump(), "m.room_key.withheld"), "later");
    }
  }

  @Test
  void repliesOverallStopAtTheGlobalLimit() {
    int perUser = 10;
    int overall = 30;
    try (FloodBot bot =
        new FloodBot(
            dir,
            c ->
                c.withLimits(
                    MachineLimits.DEFAULT
                        .withMaxKeyRequestRepliesPerUserPerMinute(perUser)
                        .withMaxKeyRequestRepliesPerMinute(overall)))) {
      List<ObjectNode> flood = new ArrayList<>();
      for (int u = 0; u < 5; u++) {
        String user = "@m" + u + ":evil.example";
        for (FloodBot.Peer d : peers(bot, user, perUser)) {
          flood.add(d.keyRequest("r", FloodBot.ROOM, "s"));
        }
      }
      bot.sync(flood.subList(0, overall));
      List<OutgoingRequest> queued = bot.pump();
      assertEquals(overall, FloodBot.messages(queued, "m.room_key.withheld"), "at the limit");
      bot.sync(flood.subList(overall, flood.size()));
      queued = bot.pump();
      assertEquals(overall, FloodBot.messages(queued, "m.room_key.withheld"), "over the limit");
    }
  }

  @Test
  void requestWithAnOverlongIdIsDroppedNotEchoed() {
    try (FloodBot bot = new FloodBot(dir)) {
      FloodBot.Peer d = peers(bot, MALLORY, 1).get(0);
      String max = "s".repeat(MachineLimits.MAX_ID_LENGTH);
      bot.sync(List.of(d.keyRequest("r1", FloodBot.ROOM, max)));
      assertEquals(1, FloodBot.messages(bot.pump(), "m.room_key.withheld"), "255 bytes: answered");

      String huge = "s".repeat(1 << 20);
      bot.sync(
          List.of(
              d.keyRequest("r2", FloodBot.ROOM, huge),
              d.keyRequest("r3", "!" + "r".repeat(MachineLimits.MAX_ID_LENGTH), "s"),
              d.keyRequest("x".repeat(MachineLimits.MAX_ID_LENGTH + 1), FloodBot.ROOM, "s")));
      List<OutgoingRequest> queued = bot.pump();
      assertEquals(1, FloodBot.messages(queued, "m.room_key.withheld"), "over 255: dropped");
      for (OutgoingRequest r : queued) {
        assertTrue(r.bodyJson().length() < 10_000, "no reply carries the long id");
      }
    }
  }
}
