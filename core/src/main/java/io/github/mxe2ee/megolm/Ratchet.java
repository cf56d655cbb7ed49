package io.github.mxe2ee.megolm;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Megolm ratchet: four 32-byte parts R(i,0)..R(i,3) and the 32-bit counter {@code i}.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "The Megolm ratchet
 * algorithm" and "Advancing the ratchet". Part {@code j} is re-seeded as {@code H_k(R_j) =
 * HMAC-SHA-256(key = R_j, message = byte k)}; every 2^8 steps R3 is re-seeded from R2, every 2^16
 * steps R2 and R3 from R1, every 2^24 steps R1..R3 from R0.
 *
 * <p>Layout of {@link #toBytes()} (the 128 ratchet bytes of the session-sharing and export
 * formats):
 *
 * <pre>
 * +--------+--------+--------+--------+
 * | R(i,0) | R(i,1) | R(i,2) | R(i,3) |
 * +--------+--------+--------+--------+
 * 0        32       64       96      128   bytes
 * </pre>
 *
 * <p>The counter is an unsigned 32-bit value held in an {@code int}; it wraps from {@code
 * 0xffffffff} to {@code 0} exactly as libolm's {@code uint32_t} counter does.
 *
 * <p>Contract: mutable and not thread-safe; callers that share a ratchet advance a {@link #copy()}
 * and publish it only once it is no longer mutated. The ratchet bytes are secret: {@link
 * #toString()} prints only the index, and equality is a constant-time byte comparison exposed as
 * {@link #sameStateAs(Ratchet)} (no {@code equals}/{@code hashCode}).
 */
final class Ratchet {
  /** Length of one part: the output length of HMAC-SHA-256. */
  static final int PART_LENGTH = 32;

  /** Number of parts R0..R3. */
  static final int PARTS = 4;

  /** Length of the whole ratchet value R(i). */
  static final int LENGTH = PART_LENGTH * PARTS;

  /**
   * Bits of the counter "owned" by each part: part j is re-seeded when the low 8*(3-j) bits wrap.
   */
  private static final int BITS_PER_PART = 8;

  private static final String HMAC_ALGORITHM = "HmacSHA256";

  /**
   * One HMAC instance per thread: {@link Mac#getInstance} is a provider lookup, too slow per step.
   */
  private static final ThreadLocal<Mac> HMAC =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Mac.getInstance(HMAC_ALGORITHM);
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("JDK lacks HmacSHA256", e);
            }
          });

  private final byte[] data;
  private int counter;

  private Ratchet(byte[] data, int counter) {
    this.data = data;
    this.counter = counter;
  }

  /**
   * Creates a ratchet from its 128 bytes and counter.
   *
   * @param bytes exactly {@link #LENGTH} bytes R0||R1||R2||R3 (copied)
   * @param counter the unsigned 32-bit index {@code i}
   * @throws IllegalArgumentException if {@code bytes} has the wrong length (callers parse and
   *     validate wire input before reaching here)
   */
  static Ratchet fromBytes(byte[] bytes, int counter) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException(
          "Megolm ratchet must be " + LENGTH + " bytes, got " + bytes.length);
    }
    return new Ratchet(bytes.clone(), counter);
  }

  /** The unsigned 32-bit counter {@code i} as held in an {@code int}. */
  int index() {
    return counter;
  }

  /** The counter as a non-negative {@code long}. */
  long indexAsLong() {
    return Integer.toUnsignedLong(counter);
  }

  /** A copy of R0||R1||R2||R3. */
  byte[] toBytes() {
    return data.clone();
  }

  /** An independent copy with the same state. */
  Ratchet copy() {
    return new Ratchet(data.clone(), counter);
  }

  /** Constant-time comparison of index and all 128 bytes. */
  boolean sameStateAs(Ratchet other) {
    return counter == other.counter && MessageDigest.isEqual(data, other.data);
  }

  /** Advances by exactly one step (spec: R(i) to R(i+1)), wrapping the counter at 2^32. */
  void advance() {
    counter++;
    // The highest part whose low bits all wrapped to zero re-seeds itself and every later part.
    int from = PARTS - 1;
    for (int part = 0; part < PARTS - 1; part++) {
      int lowBits = BITS_PER_PART * (PARTS - 1 - part);
      if ((counter & ((1 << lowBits) - 1)) == 0) {
        from = part;
        break;
      }
    }
    reseedFrom(from);
  }

  /**
   * Advances to {@code target} in O(log) work: at most 256 HMAC steps per part (about a thousand in
   * all, as the spec states), never replaying every intermediate index. The counter is unsigned and
   * wraps: a target "below" the current counter means going forward through 2^32, exactly as
   * libolm's {@code megolm_advance_to}.
   *
   * @param target the unsigned 32-bit index to reach; equal to the current counter is a no-op
   */
  void advanceTo(int target) {
    for (int part = 0; part < PARTS; part++) {
      int shift = BITS_PER_PART * (PARTS - 1 - part);
      int steps = ((target >>> shift) - (counter >>> shift)) & 0xff;
      if (steps == 0) {
        // Same byte for this part. Only for R0 can the target still be behind the counter: then
        // the counter must run all the way round, 256 re-seeds of R0.
        if (Integer.compareUnsigned(target, counter) >= 0) {
          continue;
        }
        steps = 0x100;
      }
      // Intermediate steps only matter for this part; later parts are re-derived on the last one.
      for (; steps > 1; steps--) {
        rehash(part, part);
      }
      reseedFrom(part);
      counter = target & (-1 << shift);
    }
  }

  /** Re-seeds parts 3 down to {@code from} from part {@code from} (itself last). */
  private void reseedFrom(int from) {
    for (int to = PARTS - 1; to >= from; to--) {
      rehash(from, to);
    }
  }

  /** R(to) = HMAC-SHA-256(key = R(from), message = single byte {@code to}). */
  private void rehash(int from, int to) {
    Mac mac = HMAC.get();
    try {
      mac.init(new SecretKeySpec(data, from * PART_LENGTH, PART_LENGTH, HMAC_ALGORITHM));
      mac.update((byte) to);
      mac.doFinal(data, to * PART_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA-256 failed on a 32-byte key", e);
    }
  }

  /** Overwrites the ratchet bytes with zeros; the object must not be used afterwards. */
  void wipe() {
    Arrays.fill(data, (byte) 0);
  }

  @Override
  public String toString() {
    return "Ratchet[index=" + Integer.toUnsignedString(counter) + "]";
  }
}
