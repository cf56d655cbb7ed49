package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.MachineLimits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote devices flood the bot with {@code m.room_key.withheld} notices for made-up sessions (issue
 * 11, item 3): the stored records are capped per sending device and overall, the oldest go first,
 * and over-long ids are not stored.
 */
class WithheldFloodTest {
  @TempDir Path dir;

  @Test
  void recordsOfOneSenderStopAtTheLimitAndTheOldestArePruned() {
    int limit = MachineLimits.DEFAULT.maxWithheldPerSender();
    try (FloodBot bot = new FloodBot(dir)) {
      FloodBot.Peer d = new FloodBot.Peer("@mallory:evil.example", "M").on(bot);
      bot.learn(d.userId);
      List<ObjectNode> first = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        first.add(d.withheld(FloodBot.ROOM, "s" + i));
      }
      bot.sync(first);
      bot.clock.advance(1_000);
      List<ObjectNode> notices = new ArrayList<>();
      for (int i = 100; i < limit; i++) {
        notices.add(d.withheld(FloodBot.ROOM, "s" + i));
      }
      bot.sync(notices);
      assertEquals(limit, bot.rows("withheld_sessions", "1=1"), "at the limit");

      bot.clock.advance(1_000);
      List<ObjectNode> more = new ArrayList<>();
      for (int i = limit; i < limit + 100; i++) {
        more.add(d.withheld(FloodBot.ROOM, "s" + i));
      }
      bot.sync(more);
      assertEquals(limit, bot.rows("withheld_sessions", "1=1"), "over the limit");
      assertEquals(0, bot.rows("withheld_sessions", "session_id IN ('s0', 's99')"), "oldest go");
      assertEquals(1, bot.rows("withheld_sessions", "session_id = 's" + (limit + 99) + "'"));
      assertTrue(bot.machine.stats().withheldPruned() >= 100);
    }
  }

  @Test
  void recordsOverallStopAtTheGlobalLimit() {
    try (FloodBot bot =
        new FloodBot(
            dir,
            c ->
                c.withLimits(
                    MachineLimits.DEFAULT
                        .withMaxWithheldPerSender(50)
                        .withMaxWithheldRecords(120)))) {
      List<ObjectNode> notices = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        FloodBot.Peer d = new FloodBot.Peer("@m:evil.example", "M" + k).on(bot);
        for (int i = 0; i < 50; i++) {
          notices.add(d.withheld(FloodBot.ROOM, "k" + k + "s" + i));
        }
      }
      bot.learn("@m:evil.example");
      bot.sync(notices.subList(0, 120));
      assertEquals(120, bot.rows("withheld_sessions", "1=1"), "at the limit");
      bot.sync(notices.subList(120, 200));
      assertEquals(120, bot.rows("withheld_sessions", "1=1"), "over the limit");
    }
  }

  @Test
  void overlongIdsAreNotStored() {
    try (FloodBot bot = new FloodBot(dir)) {
      FloodBot.Peer d = new FloodBot.Peer("@mallory:evil.example", "M").on(bot);
      bot.learn(d.userId);
      String max = "s".repeat(MachineLimits.MAX_ID_LENGTH);
      bot.sync(
          List.of(
              d.withheld(FloodBot.ROOM, max),
              d.withheld(FloodBot.ROOM, max + "s"),
              d.withheld("!" + "r".repeat(MachineLimits.MAX_ID_LENGTH), "s")));
      assertEquals(1, bot.rows("withheld_sessions", "1=1"));
    }
  }
}
