package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyncChangesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void fromSync_readsEveryE2eeSection() throws Exception {
    JsonNode sync =
        MAPPER.readTree(
            """
            {"next_batch":"s72595_4483_1934",
             "to_device":{"events":[{"type":"m.room.encrypted","sender":"@a:x","content":{}}, 5]},
             "device_lists":{"changed":["@a:x"],"left":["@b:x", 3]},
             "device_one_time_keys_count":{"signed_curve25519":20,"bad":"x"},
             "device_unused_fallback_key_types":[]}
            """);
    SyncChanges c = SyncChanges.fromSync(sync);
    assertEquals(1, c.toDeviceEvents().size());
    assertEquals(List.of("@a:x"), c.changedUsers());
    assertEquals(List.of("@b:x"), c.leftUsers());
    assertEquals(Map.of("signed_curve25519", 20), c.oneTimeKeyCounts());
    assertEquals(List.of(), c.unusedFallbackKeyTypes());
    assertEquals("s72595_4483_1934", c.nextBatch());
  }

  @Test
  void fromSync_distinguishesMissingFallbackTypesFromEmpty() throws Exception {
    SyncChanges c = SyncChanges.fromSync(MAPPER.readTree("{}"));
    assertNull(c.unusedFallbackKeyTypes());
    assertNull(c.oneTimeKeyCounts());
    assertEquals(List.of(), c.toDeviceEvents());
  }

  @Test
  void fromTransaction_picksThisDevicesEventsAndAcceptsUnstableNames() throws Exception {
    JsonNode txn =
        MAPPER.readTree(
            """
            {"de.sorunome.msc2409.to_device":[
               {"type":"m.room.encrypted","sender":"@a:x","to_user_id":"@bridge_1:x",
                "to_device_id":"DEV1","content":{}},
               {"type":"m.room.encrypted","sender":"@a:x","to_user_id":"@bridge_2:x",
                "to_device_id":"DEV2","content":{}}],
             "org.matrix.msc3202.device_lists":{"changed":["@a:x"],"left":[]},
             "org.matrix.msc3202.device_one_time_keys_count":
               {"@bridge_1:x":{"DEV1":{"signed_curve25519":3}}},
             "org.matrix.msc3202.device_unused_fallback_key_types":
               {"@bridge_1:x":{"DEV1":["signed_curve25519"]}}}
            """);
    SyncChanges one = SyncChanges.fromTransaction(txn, "@bridge_1:x", "DEV1");
    assertEquals(1, one.toDeviceEvents().size());
    assertFalse(one.toDeviceEvents().get(0).has("to_user_id"));
    assertEquals(Map.of("signed_curve25519", 3), one.oneTimeKeyCounts());
    assertEquals(List.of("signed_curve25519"), one.unusedFallbackKeyTypes());
    assertEquals(List.of("@a:x"), one.changedUsers());

    SyncChanges two = SyncChanges.fromTransaction(txn, "@bridge_2:x", "DEV2");
    assertEquals(1, two.toDeviceEvents().size());
    assertNull(two.oneTimeKeyCounts());
  }

  @Test
  void fromTransaction_prefersStableNames() throws Exception {
    JsonNode txn =
        MAPPER.readTree(
            """
            {"device_lists":{"changed":["@stable:x"]},
             "org.matrix.msc3202.device_lists":{"changed":["@unstable:x"]}}
            """);
    assertEquals(
        List.of("@stable:x"), SyncChanges.fromTransaction(txn, "@b:x", "D").changedUsers());
  }

  @Test
  void outgoingRequest_buildsToDevicePathWithEncodedSegments() {
    OutgoingRequest r =
        new OutgoingRequest(
            "txn/1 é", RequestType.TO_DEVICE, MAPPER.createObjectNode(), "m.room.encrypted");
    assertEquals("PUT", r.method());
    assertEquals("/_matrix/client/v3/sendToDevice/m.room.encrypted/txn%2F1%20%C3%A9", r.path());
    OutgoingRequest q =
        new OutgoingRequest("q1", RequestType.KEYS_QUERY, MAPPER.createObjectNode(), null);
    assertEquals("/_matrix/client/v3/keys/query", q.path());
  }
}
