package io.github.mxe2ee.plugin.appservice.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The bridge's own state survives a reopen; the remembered transactions are bounded. */
class AppserviceStateTest {

  @Test
  void completedTransactionsAreRememberedAcrossReopenUpToTheBound() throws Exception {
    Path dir = Files.createTempDirectory("as-state");
    E2eeOptions engine = new E2eeOptions().setStorePath(dir.resolve("s.db").toString());
    try (AppserviceState s = AppserviceState.open(engine, "@bot:hs", 16)) {
      for (int i = 0; i < 20; i++) {
        s.completeTxn("t" + i);
      }
      s.completeTxn("t19"); // again: no change
      s.putGhostDevice("@g:hs", "DEV");
      s.putBotDevice("BOT");
    }
    try (AppserviceState s = AppserviceState.open(engine, "@bot:hs", 16)) {
      for (int i = 0; i < 4; i++) {
        assertFalse(s.txnCompleted("t" + i), "t" + i + " is past the bound");
      }
      for (int i = 4; i < 20; i++) {
        assertTrue(s.txnCompleted("t" + i), "t" + i);
      }
      assertEquals(Optional.of("DEV"), s.ghostDevice("@g:hs"));
      assertEquals(Optional.empty(), s.ghostMasterKey("@g:hs"), "not ready until marked");
      s.markGhostReady("@g:hs", "MASTER");
      assertEquals(Optional.of("MASTER"), s.ghostMasterKey("@g:hs"));
      assertEquals(Optional.of("BOT"), s.botDevice());
      s.completeTxn("t20");
      assertFalse(s.txnCompleted("t4"));
    }
    // Another bot's state in the same file is separate.
    try (AppserviceState other = AppserviceState.open(engine, "@other:hs", 16)) {
      assertFalse(other.txnCompleted("t19"));
    }
  }
}
