package io.github.mxe2ee.examples.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GhostNamesTest {

  private static final Pattern NAMESPACE = Pattern.compile("@bridge_.*:localhost");
  private final GhostNames names =
      new GhostNames(GhostNames.DEFAULT_PREFIX, "localhost", NAMESPACE);

  @Test
  void ghostIds_useTheSpecEscapingInsideTheNamespace() {
    assertEquals("@bridge_remote_alice:localhost", names.ghostUserId("alice"));
    assertEquals("@bridge_remote__alice:localhost", names.ghostUserId("Alice"));
    assertEquals("@bridge_remote_a__b:localhost", names.ghostUserId("a_b"));
    assertEquals("@bridge_remote_a=20b=3ac:localhost", names.ghostUserId("a b:c"));
    assertEquals("@bridge_remote_=c3=a9:localhost", names.ghostUserId("é"));
  }

  @Test
  void hostileNames_cannotLeaveTheNamespaceOrNameTheBot() {
    for (String hostile :
        List.of("bot", "x:evil.org", "../../admin", "@admin:localhost", "a\u202eb", "x y", "=3d")) {
      String id = names.ghostUserId(hostile);
      assertTrue(NAMESPACE.matcher(id).matches(), id);
      assertTrue(id.matches("@[a-z0-9._=-]+:localhost"), id);
      assertNotEquals("@bridge_bot:localhost", id);
    }
  }

  @Test
  void distinctNames_getDistinctGhosts() {
    Set<String> ids = new HashSet<>();
    List<String> similar = List.of("a", "A", "_a", "__a", "=61", "a_", "a__", "a=", "a=5f", "a.");
    for (String n : similar) {
      assertTrue(ids.add(names.ghostUserId(n)), n);
    }
  }

  @Test
  void badNames_areRefusedWithAMessage() {
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId(""));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("   "));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId(null));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("a\nb"));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("a\u0000"));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("\ud800x"));
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("x".repeat(65)));
    // 64 characters that escape to 9 bytes each (3-byte UTF-8): over the 255-byte user id bound.
    assertThrows(IllegalArgumentException.class, () -> names.ghostUserId("€".repeat(64)));
    assertEquals(
        "@bridge_remote_" + "x".repeat(64) + ":localhost", names.ghostUserId("x".repeat(64)));
  }

  @Test
  void aPrefixOutsideTheNamespace_isRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> new GhostNames("other_", "localhost", NAMESPACE));
  }

  @Test
  void bridgeUsers_areTheNamespace() {
    assertTrue(names.isBridgeUser("@bridge_bot:localhost"));
    assertTrue(names.isBridgeUser(names.ghostUserId("x")));
    assertFalse(names.isBridgeUser("@alice:localhost"));
    assertFalse(names.isBridgeUser("@bridge_x:evil.org"));
  }

  @Test
  void matrixIds_followTheGrammar() {
    assertTrue(MatrixIds.isUserId("@alice:localhost"));
    assertTrue(MatrixIds.isUserId("@a.b-c_d=e/f:example.org:8448"));
    assertTrue(MatrixIds.isUserId("@x:[::1]:8448"));
    assertTrue(MatrixIds.isUserId("@x:1.2.3.4"));
    for (String bad :
        List.of(
            "alice",
            "@alice",
            "@:localhost",
            "@a:",
            "@a b:localhost",
            "@a:local host",
            "@a:localhost:99999999",
            "@é:localhost",
            "#room:localhost",
            "@a:x/y",
            "@" + "a".repeat(250) + ":localhost")) {
      assertFalse(MatrixIds.isUserId(bad), bad);
    }
  }
}
