package io.github.mxe2ee.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.math.BigInteger;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The 64-bit-counter key stream (attachments, key export files) against a reference built block by
 * block from AES-ECB, with counter block {@code iv[0..8] || (low + i mod 2^64)} exactly as the spec
 * words it: equal to the JCE's 128-bit counter when the low half starts at zero, and wrapping
 * within the low half otherwise.
 */
class Aes256Ctr64Test {
  private static final byte[] KEY = pseudoRandom(32, 42);

  @Test
  void zeroCounterHalf_matchesSpecReference_andJce128BitCounter() throws Exception {
    byte[] iv = Arrays.copyOf(pseudoRandom(8, 43), 16);
    byte[] data = pseudoRandom(16 * 40 + 5, 44);
    byte[] ours = apply(iv, data, 7);
    assertArrayEquals(reference(iv, data), ours);
    assertArrayEquals(Aes256Ctr.apply(KEY, iv, data), ours);
  }

  @Test
  void lowHalfNearTop_wrapsWithinLowHalf_keepingHighHalf() throws Exception {
    for (long low : new long[] {-1L, -2L, -3L, Long.MAX_VALUE}) {
      byte[] iv = Arrays.copyOf(pseudoRandom(8, low), 16);
      for (int i = 0; i < 8; i++) {
        iv[15 - i] = (byte) (low >>> (8 * i));
      }
      byte[] data = pseudoRandom(16 * 6 + 9, low);
      for (int chunk : new int[] {1, 5, 16, 17, 1000}) {
        assertArrayEquals(reference(iv, data), apply(iv, data, chunk), "low " + low + " " + chunk);
      }
    }
  }

  private static byte[] apply(byte[] iv, byte[] data, int chunk) {
    byte[] out = data.clone();
    Aes256Ctr64 ctr = new Aes256Ctr64(KEY, iv);
    for (int off = 0; off < out.length; off += chunk) {
      ctr.apply(out, off, Math.min(chunk, out.length - off));
    }
    return out;
  }

  /** Independent spec reading: AES-ECB of each counter block, low half modulo 2^64. */
  private static byte[] reference(byte[] iv, byte[] data) throws Exception {
    Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
    ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"));
    BigInteger low = new BigInteger(1, Arrays.copyOfRange(iv, 8, 16));
    BigInteger mod = BigInteger.ONE.shiftLeft(64);
    byte[] out = new byte[data.length];
    for (int block = 0; block * 16 < data.length; block++) {
      byte[] counter = Arrays.copyOf(iv, 16);
      byte[] lowBytes = low.add(BigInteger.valueOf(block)).mod(mod).toByteArray();
      Arrays.fill(counter, 8, 16, (byte) 0);
      int n = Math.min(8, lowBytes.length);
      System.arraycopy(lowBytes, lowBytes.length - n, counter, 16 - n, n);
      byte[] stream = ecb.doFinal(counter);
      for (int i = 0; i < 16 && block * 16 + i < data.length; i++) {
        out[block * 16 + i] = (byte) (data[block * 16 + i] ^ stream[i]);
      }
    }
    return out;
  }

  @Test
  void oneShotEqualsTheStream_andIsItsOwnInverse() throws Exception {
    byte[] iv = new byte[16];
    java.util.Arrays.fill(iv, 8, 16, (byte) 0xff); // wraps after the first block
    byte[] data = pseudoRandom(3 * 16 + 5, 8);
    byte[] out = Aes256Ctr64.apply(KEY, iv, data);
    assertArrayEquals(reference(iv, data), out);
    assertArrayEquals(data, Aes256Ctr64.apply(KEY, iv, out));
  }

  private static byte[] pseudoRandom(int length, long seed) {
    byte[] b = new byte[length];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }
}
