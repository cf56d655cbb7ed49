package io.github.mxe2ee.megolm;

import static io.github.mxe2ee.megolm.MegolmVectors.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RatchetTest {
  private static final JsonNode VECTORS = MegolmVectors.load("megolm_ratchet_advance.json");
  private static final byte[] INITIAL = hex(VECTORS.get("initial_ratchet_hex").asText());

  private static Ratchet initial(int counter) {
    return Ratchet.fromBytes(INITIAL, counter);
  }

  private static void assertState(String id, JsonNode step, Ratchet ratchet) {
    assertEquals(step.get("counter").asLong(), ratchet.indexAsLong(), id + ": counter");
    assertEquals(step.get("ratchet_hex").asText(), hex(ratchet.toBytes()), id + ": ratchet bytes");
  }

  @Test
  void upstreamSteps_singleAdvanceThenJumps() {
    JsonNode steps = VECTORS.get("steps");
    assertEquals(3, steps.size(), "vector file changed shape");
    Ratchet ratchet = initial(VECTORS.get("initial_counter").asInt());
    ratchet.advance();
    assertState("steps[0] advance()", steps.get(0), ratchet);
    ratchet.advanceTo(0x1000000);
    assertState("steps[1] advance_to(0x1000000)", steps.get(1), ratchet);
    ratchet.advanceTo(0x1041506);
    assertState("steps[2] advance_to(0x1041506)", steps.get(2), ratchet);
  }

  @Test
  void upstreamSteps_advanceToOneEqualsAdvance() {
    Ratchet ratchet = initial(0);
    ratchet.advanceTo(1);
    assertState("steps[0] advance_to(1)", VECTORS.get("steps").get(0), ratchet);
  }

  @Test
  void upstreamSteps_directJumpFromZeroMatchesChainedJumps() {
    Ratchet ratchet = initial(0);
    ratchet.advanceTo(0x1041506);
    assertState("steps[2] direct advance_to(0x1041506)", VECTORS.get("steps").get(2), ratchet);
  }

  @Test
  void wraparound_fromMaxCounterToNextEpochEqualsPlainJump() {
    assertEquals(3, VECTORS.get("wraparound_equalities_UPSTREAM").size(), "vector file changed");
    Ratchet wrapped = initial(0xffffffff);
    wrapped.advanceTo(0x1000000);
    Ratchet plain = initial(0);
    plain.advanceTo(0x2000000);
    assertEquals(hex(plain.toBytes()), hex(wrapped.toBytes()), "wraparound_equalities[0]: data");
    assertEquals(0x1000000, wrapped.index(), "wraparound_equalities[0]: counter");
  }

  @Test
  void wraparound_maxCounterToZeroEqualsOneStep() {
    Ratchet jumped = initial(0xffffffff);
    jumped.advanceTo(0);
    Ratchet stepped = initial(0xffffffff);
    stepped.advance();
    assertTrue(jumped.sameStateAs(stepped), "wraparound_equalities[1]");
    assertEquals(0, jumped.index(), "wraparound_equalities[1]: counter");
  }

  @Test
  void wraparound_viaHalfwayEqualsDirect() {
    Ratchet via = initial(1);
    via.advanceTo(0x80000000);
    via.advanceTo(0);
    Ratchet direct = initial(1);
    direct.advanceTo(0);
    assertTrue(via.sameStateAs(direct), "wraparound_equalities[2]");
    assertEquals(0, direct.index(), "wraparound_equalities[2]: counter");
  }

  @Test
  void advanceTo_matchesStepByStepAcrossEveryReseedBoundary() {
    int[] starts = {0, 0xf0, 0xfff0, 0xfffff0, 0xfffffff0, 0x00ffff00, 0x7ffffff8};
    Random random = new Random(42);
    for (int start : starts) {
      Ratchet stepped = initial(start);
      Ratchet jumped = initial(start);
      for (int i = 0; i < 600; i++) {
        int delta = 1 + random.nextInt(7);
        for (int k = 0; k < delta; k++) {
          stepped.advance();
        }
        jumped.advanceTo(stepped.index());
        assertTrue(
            jumped.sameStateAs(stepped),
            "start " + Integer.toHexString(start) + " at " + Integer.toHexString(stepped.index()));
      }
    }
  }

  @Test
  void advanceTo_currentIndexIsNoOp() {
    Ratchet ratchet = initial(0x1234);
    ratchet.advanceTo(0x1234);
    assertEquals(hex(INITIAL), hex(ratchet.toBytes()));
  }

  @Test
  void copy_isIndependent() {
    Ratchet original = initial(0);
    Ratchet copy = original.copy();
    copy.advance();
    assertEquals(0, original.index());
    assertEquals(hex(INITIAL), hex(original.toBytes()));
    assertFalse(original.sameStateAs(copy));
  }

  @Test
  void fromBytes_rejectsWrongLength() {
    assertThrows(IllegalArgumentException.class, () -> Ratchet.fromBytes(new byte[127], 0));
    assertThrows(IllegalArgumentException.class, () -> Ratchet.fromBytes(new byte[129], 0));
  }

  @Test
  void toString_hidesRatchetBytes() {
    String text = initial(7).toString();
    assertEquals("Ratchet[index=7]", text);
  }
}
