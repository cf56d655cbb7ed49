package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
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
 * Olm floods (issue 11, item 3): pre-key messages whose payload fails the checks create and store
 * nothing and consume no one-time key; new inbound sessions are capped per sender per hour; garbage
 * Olm messages cannot make the bot replace more than a bounded number of channels per hour, and the
 * bookkeeping of that rate limit does not grow the store.
 */
class PreKeyFloodTest {
  static final String MALLORY = "@mallory:evil.example";

  @TempDir Path dir;

  private static ObjectNode badPayload(
      FloodBot bot, FloodBot.Peer peer, Curve25519PublicKey key, String recipient) {
    Session s = peer.account.createOutboundSession(bot.curve(), key);
    ObjectNode payload = FloodBot.MAPPER.createObjectNode();
    payload.put("type", "m.dummy");
    payload.putObject("content");
    payload.put("sender", peer.userId);
    payload.put("recipient", recipient);
    payload
        .putObject("recipient_keys")
        .put("ed25519", bot.machine.identityKeys().ed25519().toBase64());
    payload.putObject("keys").put("ed25519", peer.account.ed25519Key().toBase64());
    return peer.olm(bot.curve(), s.encrypt(payload.toString()));
  }

  @Test
  void preKeyMessageWithBadPayloadStoresNoSessionAndKeepsTheOneTimeKey() {
    try (FloodBot bot = new FloodBot(dir)) {
      FloodBot.Peer peer = new FloodBot.Peer(MALLORY, "M");
      Curve25519PublicKey otk = bot.oneTimeKey(0);
      List<ReceivedToDevice> out =
          bot.sync(List.of(badPayload(bot, peer, otk, "@someone-else:localhost")));
      assertEquals(ReceivedToDevice.Kind.INVALID, out.get(0).kind());
      assertEquals(0, bot.rows("olm_sessions", "1=1"), "no session stored");

      // The one-time key is still there: a good message on it creates a session.
      Session good = peer.account.createOutboundSession(bot.curve(), otk);
      out =
          bot.sync(
              List.of(peer.olmPayload(bot, good, "m.dummy", FloodBot.MAPPER.createObjectNode())));
      assertEquals(ReceivedToDevice.Kind.DECRYPTED, out.get(0).kind(), out.get(0).failure());
      assertEquals(1, bot.rows("olm_sessions", "1=1"));
      assertTrue(bot.machine.stats().olmPayloadsRejected() >= 1);
    }
  }

  @Test
  void preKeyFloodOnTheFallbackKeyStoresNoSession() {
    try (FloodBot bot = new FloodBot(dir)) {
      List<ObjectNode> flood = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        FloodBot.Peer peer = new FloodBot.Peer(MALLORY, "M" + i);
        flood.add(badPayload(bot, peer, bot.fallbackKey(), "@someone-else:localhost"));
      }
      List<ReceivedToDevice> out = bot.sync(flood);
      assertTrue(out.stream().allMatch(e -> e.kind() == ReceivedToDevice.Kind.INVALID));
      assertEquals(0, bot.rows("olm_sessions", "1=1"), "no session stored");
    }
  }

  @Test
  void newSessionsPerSenderAreCappedPerHour() {
    int limit = MachineLimits.DEFAULT.maxNewOlmSessionsPerSenderPerHour();
    try (FloodBot bot = new FloodBot(dir)) {
      List<ObjectNode> flood = new ArrayList<>();
      for (int i = 0; i < limit + 20; i++) {
        FloodBot.Peer peer = new FloodBot.Peer(MALLORY, "M" + i);
        Session s = peer.account.createOutboundSession(bot.curve(), bot.fallbackKey());
        flood.add(peer.olmPayload(bot, s, "m.dummy", FloodBot.MAPPER.createObjectNode()));
      }
      List<ReceivedToDevice> out = bot.sync(flood.subList(0, limit));
      assertTrue(out.stream().allMatch(e -> e.kind() == ReceivedToDevice.Kind.DECRYPTED));
      assertEquals(limit, bot.rows("olm_sessions", "1=1"), "at the limit");
      out = bot.sync(flood.subList(limit, limit + 20));
      assertTrue(out.stream().noneMatch(e -> e.kind() == ReceivedToDevice.Kind.DECRYPTED));
      assertEquals(limit, bot.rows("olm_sessions", "1=1"), "over the limit");
      assertEquals(20, bot.machine.stats().olmSessionsRefused());

      // Another sender is not affected.
      FloodBot.Peer alice = new FloodBot.Peer("@alice:localhost", "A");
      Session s = alice.account.createOutboundSession(bot.curve(), bot.fallbackKey());
      out =
          bot.sync(
              List.of(alice.olmPayload(bot, s, "m.dummy", FloodBot.MAPPER.createObjectNode())));
      assertEquals(ReceivedToDevice.Kind.DECRYPTED, out.get(0).kind());
    }
  }

  @Test
  void unwedgingIsBoundedOverallAndItsRecordsDoNotGrowTheStore() {
    int limit = MachineLimits.DEFAULT.maxUnwedgesPerHour();
    try (FloodBot bot = new FloodBot(dir)) {
      List<FloodBot.Peer> peers = new ArrayList<>();
      for (int i = 0; i < limit + 30; i++) {
        peers.add(new FloodBot.Peer(MALLORY, "M" + i).on(bot));
      }
      bot.learn(MALLORY);
      List<ObjectNode> garbage = new ArrayList<>();
      for (FloodBot.Peer p : peers) {
        // A normal (type 1) message that no session can decrypt: the channel looks wedged.
        Session s = p.account.createOutboundSession(bot.curve(), bot.fallbackKey());
        s.encrypt("{}");
        garbage.add(p.olm(bot.curve(), s.encrypt("warm-up")));
      }
      // Make the messages normal messages: a session that has received replies sends type 1;
      // without one, replace the body type with 1 and let decryption fail.
      for (ObjectNode g : garbage) {
        ObjectNode c =
            (ObjectNode) g.path("content").path("ciphertext").path(bot.curve().toBase64());
        c.put("type", 1);
      }
      bot.sync(garbage);
      List<OutgoingRequest> queued = bot.pump();
      int claimed = 0;
      for (OutgoingRequest r : queued) {
        if (r.type() == RequestType.KEYS_CLAIM) {
          claimed += r.body().path("one_time_keys").path(MALLORY).size();
        }
      }
      assertEquals(limit, claimed, "devices claimed for unwedging");
      assertTrue(bot.rows("key_values", "key LIKE 'olm.unwedged%'") <= 1, "one bounded record");
      assertEquals(30, bot.machine.stats().unwedgesRefused());
    }
  }
}
