package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.MachineLimits;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote user (or its homeserver) lists more devices than any person has, or device ids of any
 * length (issue 11, item 3); and a failing {@code /keys/query} is retried with backoff, not on
 * every pump round.
 */
class DeviceQueryFloodTest {
  static final String MALLORY = "@mallory:evil.example";

  @TempDir Path dir;

  @Test
  void devicesOfOneUserStopAtTheLimit() {
    int limit = MachineLimits.DEFAULT.maxDevicesPerUser();
    try (FloodBot bot = new FloodBot(dir)) {
      for (int i = 0; i < limit; i++) {
        new FloodBot.Peer(MALLORY, "D" + i).on(bot);
      }
      bot.learn(MALLORY);
      assertEquals(limit, bot.machine.devices(MALLORY).size(), "at the limit");

      for (int i = limit; i < limit + 10; i++) {
        new FloodBot.Peer(MALLORY, "D" + i).on(bot);
      }
      bot.machine.receiveSyncChanges(
          new io.github.mxe2ee.machine.SyncChanges(
              List.of(), List.of(MALLORY), List.of(), null, null, null));
      bot.pump();
      assertEquals(limit, bot.machine.devices(MALLORY).size(), "over the limit");
      assertEquals(limit, bot.rows("devices", "user_id = '" + MALLORY + "'"));
      assertTrue(bot.machine.stats().devicesRefused() >= 10);
    }
  }

  @Test
  void overlongDeviceIdsAreRefused() {
    try (FloodBot bot = new FloodBot(dir)) {
      new FloodBot.Peer(MALLORY, "d".repeat(MachineLimits.MAX_ID_LENGTH)).on(bot);
      new FloodBot.Peer(MALLORY, "e".repeat(MachineLimits.MAX_ID_LENGTH + 1)).on(bot);
      bot.learn(MALLORY);
      assertEquals(1, bot.machine.devices(MALLORY).size());
    }
  }

  @Test
  void failingQueryIsRetriedWithBackoff() {
    try (FloodBot bot = new FloodBot(dir)) {
      bot.machine.updateTrackedUsers(List.of(MALLORY));
      OutgoingRequest q = query(bot.machine.outgoingRequests());
      bot.machine.markRequestAsFailed(q.requestId(), RequestType.KEYS_QUERY, 502, null);
      assertEquals(null, query(bot.machine.outgoingRequests()), "not on the next round");
      long wait = MachineLimits.DEFAULT.retryBackoffBase().toMillis();
      bot.clock.advance(wait);
      q = query(bot.machine.outgoingRequests());
      assertTrue(q != null, "after the first backoff");
      bot.machine.markRequestAsFailed(q.requestId(), RequestType.KEYS_QUERY, 502, null);
      bot.clock.advance(wait);
      assertEquals(null, query(bot.machine.outgoingRequests()), "the backoff doubled");
      bot.clock.advance(wait);
      q = query(bot.machine.outgoingRequests());
      assertTrue(q != null, "after the doubled backoff");
      ObjectNode answer = FloodBot.MAPPER.createObjectNode();
      answer.putObject("device_keys").putObject(MALLORY);
      bot.machine.markRequestAsSent(q.requestId(), RequestType.KEYS_QUERY, answer);
    }
  }

  private static OutgoingRequest query(List<OutgoingRequest> requests) {
    return requests.stream()
        .filter(r -> r.type() == RequestType.KEYS_QUERY)
        .findFirst()
        .orElse(null);
  }
}
