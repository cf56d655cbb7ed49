package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: the {@code shared_history} flag of to-device contents is read under every name in the
 * wild and written under the spec's name and matrix-rust-sdk's ({@code m.shared_history}), never
 * under the MSC3061 name as well (matrix-rust-sdk takes it for an alias of {@code
 * m.shared_history}; serde refuses an object holding both).
 */
class SharedHistoryFlagTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static ObjectNode content(String name, Object value) {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("room_id", "!r:x");
    c.set(name, MAPPER.valueToTree(value));
    return c;
  }

  @Test
  void readsEveryNameInTheWild() {
    for (String name :
        List.of("shared_history", "m.shared_history", "org.matrix.msc3061.shared_history")) {
      assertTrue(ExportedRoomKey.readSharedHistory(content(name, true)), name);
      assertFalse(ExportedRoomKey.readSharedHistory(content(name, false)), name);
    }
  }

  @Test
  void absentOrNonBooleanReadsAsFalse() {
    assertFalse(ExportedRoomKey.readSharedHistory(MAPPER.createObjectNode()));
    assertFalse(ExportedRoomKey.readSharedHistory(content("shared_history", "true")));
    assertFalse(ExportedRoomKey.readSharedHistory(content("m.shared_history", 1)));
    assertFalse(ExportedRoomKey.readSharedHistory(null));
    assertFalse(ExportedRoomKey.readSharedHistory(MAPPER.createArrayNode()));
  }

  @Test
  void firstBooleanNameWins_aJunkValueDoesNotHideALaterName() {
    ObjectNode c = content("shared_history", "yes");
    c.put("m.shared_history", true);
    assertTrue(ExportedRoomKey.readSharedHistory(c));
    c.put("shared_history", false);
    assertFalse(ExportedRoomKey.readSharedHistory(c));
  }

  @Test
  void writesTheSpecNameAndTheRustName_notTheRustAlias() {
    ObjectNode out = MAPPER.createObjectNode();
    ExportedRoomKey.writeSharedHistory(out, true);
    assertEquals(true, out.get("shared_history").booleanValue());
    assertEquals(true, out.get("m.shared_history").booleanValue());
    assertFalse(out.has("org.matrix.msc3061.shared_history"));
  }
}
