package io.github.mxe2ee.plugin.appservice.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** How a transaction is split by device, in both spellings, and which shapes are refused. */
class TransactionSplitTest {

  private static JsonObject toDevice(String user, String device, String type) {
    return new JsonObject()
        .put("type", type)
        .put("sender", "@alice:hs")
        .put("to_user_id", user)
        .put("to_device_id", device)
        .put("content", new JsonObject().put("x", 1));
  }

  @Test
  void unstableToDeviceIsRoutedToTheAddressedDeviceWithoutTheRoutingFields() {
    JsonObject txn =
        new JsonObject()
            .put(
                "de.sorunome.msc2409.to_device",
                new JsonArray()
                    .add(toDevice("@g1:hs", "D1", "m.room.encrypted"))
                    .add(toDevice("@g2:hs", "D2", "m.room.encrypted"))
                    .add(toDevice("@g1:hs", "D1", "m.dummy"))
                    .add(new JsonObject().put("type", "m.unaddressed")))
            .put(
                "org.matrix.msc3202.device_lists",
                new JsonObject().put("changed", new JsonArray().add("@alice:hs")))
            .put(
                "org.matrix.msc3202.device_one_time_keys_count",
                new JsonObject()
                    .put(
                        "@g1:hs",
                        new JsonObject().put("D1", new JsonObject().put("signed_curve25519", 3))))
            .put(
                "org.matrix.msc3202.device_unused_fallback_key_types",
                new JsonObject().put("@g3:hs", new JsonObject().put("D3", new JsonArray())));
    TransactionSplit split = TransactionSplit.of(txn);
    TransactionSplit.DevicePart g1 = split.devices.get(AccountId.of("@g1:hs", "D1"));
    assertEquals(2, g1.toDevice.size());
    assertEquals("m.room.encrypted", g1.toDevice.getJsonObject(0).getString("type"));
    assertFalse(g1.toDevice.getJsonObject(0).containsKey("to_user_id"));
    assertFalse(g1.toDevice.getJsonObject(0).containsKey("to_device_id"));
    assertEquals(3, g1.counts.getInteger("signed_curve25519"));
    assertEquals(1, split.devices.get(AccountId.of("@g2:hs", "D2")).toDevice.size());
    assertEquals(3, split.devices.size());
    assertEquals(java.util.List.of("@alice:hs"), split.changed);
    // A used fallback key and few one-time keys wake a closed ghost; an empty part does not.
    assertTrue(TransactionSplit.urgent(split.devices.get(AccountId.of("@g3:hs", "D3"))));
    assertTrue(TransactionSplit.urgent(g1));
    TransactionSplit.DevicePart plenty = new TransactionSplit.DevicePart();
    plenty.counts = new JsonObject().put("signed_curve25519", 50);
    plenty.fallback = new JsonArray().add("signed_curve25519");
    assertFalse(TransactionSplit.urgent(plenty));
  }

  @Test
  void stableNamesWinAndTheSyncBodyCarriesTheTransactionToken() {
    JsonObject txn =
        new JsonObject()
            .put("to_device", new JsonArray().add(toDevice("@bot:hs", "B", "m.room.encrypted")))
            .put("de.sorunome.msc2409.to_device", new JsonArray().add("not even an object"))
            .put(
                "device_one_time_keys_count",
                new JsonObject()
                    .put(
                        "@bot:hs",
                        new JsonObject().put("B", new JsonObject().put("signed_curve25519", 40))))
            .put(
                "device_unused_fallback_key_types",
                new JsonObject()
                    .put("@bot:hs", new JsonObject().put("B", new JsonArray().add("x"))));
    TransactionSplit split = TransactionSplit.of(txn);
    TransactionSplit.DevicePart bot = split.devices.get(AccountId.of("@bot:hs", "B"));
    JsonObject body = split.syncBody("42", bot, true, null);
    assertEquals(TransactionSplit.TOKEN_PREFIX + "42", body.getString("next_batch"));
    assertEquals(1, body.getJsonObject("to_device").getJsonArray("events").size());
    assertEquals(
        40, body.getJsonObject("device_one_time_keys_count").getInteger("signed_curve25519"));
    assertEquals(new JsonArray().add("x"), body.getJsonArray("device_unused_fallback_key_types"));
    // A device that already processed the transaction gets no E2EE part and no token.
    JsonObject again = split.syncBody("42", bot, false, new JsonObject());
    assertNull(again.getValue("next_batch"));
    assertNull(again.getValue("to_device"));
    assertNull(again.getValue("device_lists"));
  }

  @Test
  void roomEventsAreGroupedByRoomWithTheirPositions() {
    JsonArray events =
        new JsonArray()
            .add(new JsonObject().put("room_id", "!a:hs").put("type", "m.room.encrypted"))
            .add(new JsonObject().put("type", "m.presence"))
            .add(new JsonObject().put("room_id", "!b:hs").put("type", "m.room.message"))
            .add(
                new JsonObject()
                    .put("room_id", "!a:hs")
                    .put("type", "m.room.message")
                    .put("unsigned", new JsonObject().put("age", 5)));
    TransactionSplit split = TransactionSplit.of(new JsonObject().put("events", events));
    JsonObject rooms = split.rooms(e -> true);
    JsonArray a = rooms.getJsonObject("!a:hs").getJsonObject("timeline").getJsonArray("events");
    assertEquals(2, a.size());
    assertEquals(
        0, a.getJsonObject(0).getJsonObject("unsigned").getInteger(TransactionSplit.INDEX));
    assertEquals(
        3, a.getJsonObject(1).getJsonObject("unsigned").getInteger(TransactionSplit.INDEX));
    assertEquals(5, a.getJsonObject(1).getJsonObject("unsigned").getInteger("age"));
    assertFalse(events.getJsonObject(0).containsKey("unsigned"), "the original is not changed");
    assertEquals(2, rooms.size());
  }

  @Test
  void malformedSectionsRefuseTheWholeTransaction() {
    for (JsonObject bad :
        new JsonObject[] {
          new JsonObject().put("events", 5),
          new JsonObject().put("events", new JsonArray().add("x")),
          new JsonObject().put("ephemeral", "x"),
          new JsonObject().put("to_device", new JsonObject()),
          new JsonObject().put("de.sorunome.msc2409.to_device", new JsonArray().add(1)),
          new JsonObject().put("device_lists", new JsonArray()),
          new JsonObject().put("org.matrix.msc3202.device_lists", new JsonObject().put("left", 3)),
          new JsonObject().put("device_one_time_keys_count", "x")
        }) {
      assertThrows(IllegalArgumentException.class, () -> TransactionSplit.of(bad), bad.encode());
    }
    assertTrue(TransactionSplit.of(new JsonObject()).devices.isEmpty());
  }
}
