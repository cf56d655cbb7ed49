package io.github.mxe2ee.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-CTR with a 64-bit counter, as encrypted attachments and key export files define it (and
 * WebCrypto's {@code counter length 64}, which Element uses): counter block {@code i} is {@code
 * iv[0..8] || (iv[8..16] + i mod 2^64)}, big-endian. An instance is a key stream applied in pieces
 * (streaming a large file); {@link #apply(byte[], byte[], byte[])} does a whole buffer. Instances
 * are not thread-safe: one per file.
 *
 * <p>Java's {@code AES/CTR/NoPadding} increments the whole 128-bit block instead. The two agree
 * until the low half wraps, which is after {@code 2^64 - low} blocks; for a conforming IV ({@code
 * low = 0}) that is 2^64 blocks (2^68 bytes), beyond any file, so the JCE cipher is used as is. For
 * a non-conforming IV whose low half is near the top, the JCE cipher is re-initialised at the exact
 * byte where the low half wraps to zero, keeping the high half, so the result is the 64-bit counter
 * the spec (and WebCrypto's {@code counter length 64}) defines.
 */
public final class Aes256Ctr64 {
  private static final int BLOCK = 16;

  /**
   * {@code data} XORed with the key stream of {@code key} from counter block {@code iv} (encryption
   * and decryption are the same); {@code data} is not modified.
   */
  public static byte[] apply(byte[] key, byte[] iv, byte[] data) {
    byte[] out = data.clone();
    new Aes256Ctr64(key, iv).apply(out, 0, out.length);
    return out;
  }

  private final SecretKeySpec key;
  private final byte[] highHalfIv;
  private final Cipher cipher;

  /** Bytes left before the low half wraps; only meaningful while {@link #wrapAhead}. */
  private long bytesUntilWrap;

  private boolean wrapAhead;

  /** A key stream for a 32-byte {@code key} starting at the 16-byte counter block {@code iv}. */
  public Aes256Ctr64(byte[] key, byte[] iv) {
    this.key = new SecretKeySpec(key, "AES");
    this.highHalfIv = Arrays.copyOf(iv, BLOCK);
    Arrays.fill(highHalfIv, 8, BLOCK, (byte) 0);
    long low = 0;
    for (int i = 8; i < BLOCK; i++) {
      low = (low << 8) | (iv[i] & 0xff);
    }
    // Blocks before the wrap: 2^64 - low as an unsigned value (0 stands for 2^64).
    long blocksUntilWrap = -low;
    wrapAhead = low != 0 && Long.compareUnsigned(blocksUntilWrap, Long.MAX_VALUE / BLOCK) <= 0;
    bytesUntilWrap = wrapAhead ? blocksUntilWrap * BLOCK : 0;
    try {
      cipher = Cipher.getInstance("AES/CTR/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, this.key, new IvParameterSpec(iv));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-CTR is unavailable", e);
    }
  }

  /** XORs {@code buf[off..off+len)} in place with the next {@code len} key-stream bytes. */
  public void apply(byte[] buf, int off, int len) {
    try {
      while (len > 0) {
        if (wrapAhead && bytesUntilWrap == 0) {
          cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(highHalfIv));
          wrapAhead = false;
        }
        int n = wrapAhead ? (int) Math.min(len, bytesUntilWrap) : len;
        int done = cipher.update(buf, off, n, buf, off);
        if (done != n) {
          throw new IllegalStateException("AES-CTR returned " + done + " of " + n + " bytes");
        }
        if (wrapAhead) {
          bytesUntilWrap -= n;
        }
        off += n;
        len -= n;
      }
    } catch (ShortBufferException e) {
      throw new IllegalStateException("AES-CTR output buffer", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-CTR is unavailable", e);
    }
  }
}
