package io.github.mxe2ee.plugin.history;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * The power rules {@link InviteCheck} applies before sharing history with an invitee (the
 * end-to-end check against Synapse: the examples' {@code HistoryCommandsHostileTest}).
 */
class InviteCheckTest {
  private static final String BOT = "@bot:x";

  @Test
  void inviteLevelAgainstTheBotsLevelWithTheSpecsDefaults() {
    assertTrue(InviteCheck.mayInvite(null, BOT), "no power levels event: anyone may invite");
    assertTrue(InviteCheck.mayInvite(new JsonObject(), BOT), "invite 0, users_default 0");
    assertFalse(InviteCheck.mayInvite(new JsonObject().put("invite", 50), BOT));
    assertTrue(
        InviteCheck.mayInvite(
            new JsonObject().put("invite", 50).put("users", new JsonObject().put(BOT, 50)), BOT));
    assertTrue(
        InviteCheck.mayInvite(new JsonObject().put("invite", 50).put("users_default", 60), BOT));
    assertFalse(
        InviteCheck.mayInvite(
            new JsonObject()
                .put("invite", 50)
                .put("users_default", 60)
                .put("users", new JsonObject().put(BOT, 10)),
            BOT),
        "the user's own level wins over the default");
    assertFalse(InviteCheck.mayInvite(new JsonObject().put("invite", "50"), BOT), "string level");
    assertTrue(
        InviteCheck.mayInvite(new JsonObject().put("invite", "not a number"), BOT),
        "an unreadable level counts as its default");
  }

  @Test
  void onlyVersion12CreatorsOutrankThePowerLevels() {
    JsonObject v12 =
        new JsonObject()
            .put("sender", BOT)
            .put("content", new JsonObject().put("room_version", "12"));
    assertTrue(InviteCheck.isPrivilegedCreator(v12, BOT));
    assertFalse(InviteCheck.isPrivilegedCreator(v12, "@other:x"));
    JsonObject additional =
        new JsonObject()
            .put("sender", "@other:x")
            .put(
                "content",
                new JsonObject()
                    .put("room_version", "12")
                    .put("additional_creators", new JsonArray().add(BOT)));
    assertTrue(InviteCheck.isPrivilegedCreator(additional, BOT));
    JsonObject v10 =
        new JsonObject()
            .put("sender", BOT)
            .put("content", new JsonObject().put("room_version", "10"));
    assertFalse(InviteCheck.isPrivilegedCreator(v10, BOT), "v10: the power levels decide");
    assertFalse(InviteCheck.isPrivilegedCreator(null, BOT));
  }
}
