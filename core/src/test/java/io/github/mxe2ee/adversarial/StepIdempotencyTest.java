package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.DecryptionFailure;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineLimits;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.ReceivedToDevice;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.olm.Session;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One machine step must be idempotent over its own pending changes (issue 11, item 1): every "does
 * it exist yet?" check sees what the same step already decided, so duplicates in one batch (the
 * same session twice, the same key request twice, the same to-device message twice, the same
 * withheld notice twice) neither fail the save on SQLite's constraints nor act twice.
 */
class StepIdempotencyTest {
  @TempDir Path dir;

  static ObjectNode megolmEvent(String sessionId, String eventId) {
    ObjectNode e = FloodBot.MAPPER.createObjectNode();
    e.put("type", "m.room.encrypted");
    e.put("event_id", eventId);
    e.put("sender", "@alice:localhost");
    e.put("room_id", FloodBot.ROOM);
    ObjectNode c = e.putObject("content");
    c.put("algorithm", "m.megolm.v1.aes-sha2");
    c.put("session_id", sessionId);
    c.put("sender_key", "c2VuZGVya2V5c2VuZGVya2V5c2VuZGVya2V5c2VuZGVy");
    c.put("device_id", "ALICEDEVICE");
    c.put("ciphertext", "AwgAEhAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    return e;
  }

  @Test
  void sameUnknownSessionTwiceInOneDecryptBatchQueuesOneKeyRequest() {
    try (FloodBot bot = new FloodBot(dir)) {
      List<DecryptionResult> results =
          bot.machine.decryptRoomEvents(
              FloodBot.ROOM, List.of(megolmEvent("S1", "$1"), megolmEvent("S1", "$2")));
      assertEquals(2, results.size());
      for (DecryptionResult r : results) {
        assertEquals(
            DecryptionFailure.MISSING_SESSION, ((DecryptionResult.UnableToDecrypt) r).reason());
      }
      assertEquals(1, bot.rows("outgoing_key_requests", "session_id = 'S1'"));
      // And again in a single-event call: still one.
      bot.machine.decryptRoomEvent(FloodBot.ROOM, megolmEvent("S1", "$3"));
      assertEquals(1, bot.rows("outgoing_key_requests", "1=1"));
    }
  }

  @Test
  void openKeyRequestCapHoldsWithinOneBatch() {
    int limit = MachineLimits.MAX_OPEN_KEY_REQUESTS;
    try (FloodBot bot = new FloodBot(dir)) {
      List<ObjectNode> events = new ArrayList<>();
      for (int i = 0; i < limit + 500; i++) {
        events.add(megolmEvent("made-up-" + i, "$" + i));
      }
      bot.machine.decryptRoomEvents(FloodBot.ROOM, events.subList(0, limit));
      assertEquals(limit, bot.rows("outgoing_key_requests", "1=1"), "at the limit");
      bot.machine.decryptRoomEvents(FloodBot.ROOM, events.subList(limit, limit + 500));
      assertEquals(limit, bot.rows("outgoing_key_requests", "1=1"), "over the limit");

      try (FloodBot other = new FloodBot(dir.resolve("x"))) {
        other.machine.decryptRoomEvents(FloodBot.ROOM, events);
        assertEquals(limit, other.rows("outgoing_key_requests", "1=1"), "all in one batch");
      }
    }
  }

  @Test
  void everyKindOfDuplicateInOneSyncIsHandledOnce() {
    try (FloodBot bot = new FloodBot(dir)) {
      FloodBot.Peer peer = new FloodBot.Peer("@alice:localhost", "ALICEDEVICE").on(bot);
      bot.learn(peer.userId);
      ObjectNode request = peer.keyRequest("req1", FloodBot.ROOM, "S9");
      ObjectNode withheld = peer.withheld(FloodBot.ROOM, "S8");
      Session s = peer.account.createOutboundSession(bot.curve(), bot.oneTimeKey(0));
      ObjectNode dummy = peer.olmPayload(bot, s, "m.dummy", FloodBot.MAPPER.createObjectNode());

      List<ReceivedToDevice> out =
          bot.sync(List.of(request, request, withheld, withheld, dummy, dummy));
      assertEquals(6, out.size());
      assertEquals(ReceivedToDevice.Kind.DECRYPTED, out.get(4).kind(), out.get(4).failure());
      assertNotEquals(ReceivedToDevice.Kind.DECRYPTED, out.get(5).kind());
      assertTrue(out.get(5).failure().contains("duplicate"), out.get(5).failure());

      List<OutgoingRequest> queued = bot.pump();
      assertEquals(1, FloodBot.messages(queued, "m.room_key.withheld"), "one reply to req1");
      assertTrue(
          queued.stream().noneMatch(r -> r.type() == RequestType.KEYS_CLAIM),
          "a duplicate is not a wedged channel");
      assertEquals(1, bot.rows("withheld_sessions", "session_id = 'S8'"));
      assertEquals(1, bot.rows("olm_sessions", "1=1"));
      assertTrue(bot.machine.stats().duplicatesIgnored() >= 2);
    }
  }
}
