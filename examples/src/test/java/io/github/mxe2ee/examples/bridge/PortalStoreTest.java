package io.github.mxe2ee.examples.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortalStoreTest {

  @TempDir Path dir;

  @Test
  void portalsAndMessages_surviveAReopen_inOrder_onceEach() throws Exception {
    Path file = dir.resolve("bridge.db");
    try (PortalStore s = PortalStore.open(file)) {
      s.addPortal(new PortalStore.Portal("lobby", "!r:localhost"));
      assertTrue(s.addMessage("!r:localhost", "$1", "@a:localhost", "one"));
      assertTrue(s.addMessage("!r:localhost", "$2", "@b:localhost", "two"));
      assertFalse(s.addMessage("!r:localhost", "$1", "@a:localhost", "one"), "a replay");
      assertTrue(s.addMessage("!other:localhost", "$3", "@a:localhost", "elsewhere"));
    }
    try (PortalStore s = PortalStore.open(file)) {
      assertEquals(Optional.of(new PortalStore.Portal("lobby", "!r:localhost")), s.portal("lobby"));
      assertEquals(
          Optional.of(new PortalStore.Portal("lobby", "!r:localhost")),
          s.portalByRoom("!r:localhost"));
      assertEquals(Optional.empty(), s.portal("nope"));
      assertEquals(
          List.of(
              new PortalStore.Message("@a:localhost", "one"),
              new PortalStore.Message("@b:localhost", "two")),
          s.messages("!r:localhost"));
    }
  }

  @Test
  void messagesPerPortal_areBounded_oldestDropped() throws Exception {
    int max = 20;
    try (PortalStore s = PortalStore.open(dir.resolve("b.db"), max)) {
      int n = max + 5;
      for (int i = 0; i < n; i++) {
        s.addMessage("!r:x", "$" + i, "@a:x", "m" + i);
      }
      List<PortalStore.Message> kept = s.messages("!r:x");
      assertEquals(max, kept.size());
      assertEquals("m5", kept.get(0).text());
      assertEquals("m" + (n - 1), kept.get(kept.size() - 1).text());
      s.addMessage("!other:x", "$o", "@a:x", "other portal");
      assertEquals(max, s.messages("!r:x").size(), "the bound is per portal");
      assertEquals(1, s.messages("!other:x").size());
    }
  }
}
