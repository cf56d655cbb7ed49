package io.github.mxe2ee.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA-256 (RFC 2104) through the JDK. Thread-safe: each thread reuses its own {@link Mac}. */
public final class HmacSha256 {
  /** Length of an HMAC-SHA-256 output in bytes. */
  public static final int LENGTH = 32;

  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(HmacSha256::newMac);

  /**
   * A second per-thread instance, keyed once with the empty key: HKDF-Extract with no salt (Megolm
   * and Olm message keys) would otherwise set up that same key on every call. {@code doFinal}
   * leaves a JCA {@code Mac} keyed, so the instance is reused as it is.
   */
  private static final ThreadLocal<Mac> EMPTY_KEY_MAC =
      ThreadLocal.withInitial(
          () -> {
            Mac mac = newMac();
            try {
              mac.init(keySpec(new byte[0]));
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("HmacSHA256 refused its key", e);
            }
            return mac;
          });

  private HmacSha256() {}

  /** HMAC-SHA-256 of {@code data} under the empty key (equivalently, any all-zero key). */
  static byte[] macWithEmptyKey(byte[] data) {
    Mac mac = EMPTY_KEY_MAC.get();
    mac.update(data);
    return mac.doFinal();
  }

  /** Returns HMAC-SHA-256 of {@code data} under {@code key} (any length, empty allowed). */
  public static byte[] mac(byte[] key, byte[] data) {
    return mac(key, data, 0, data.length);
  }

  /** Returns HMAC-SHA-256 of {@code data[off, off+len)} under {@code key}. */
  public static byte[] mac(byte[] key, byte[] data, int off, int len) {
    Mac mac = keyed(key);
    mac.update(data, off, len);
    return mac.doFinal();
  }

  /**
   * This thread's {@link Mac}, initialised with {@code key}. It keeps the key across {@code
   * doFinal()}, so a caller computing several MACs under one key (HKDF-Expand) pays the key set-up
   * once; it must not call any other method of this class until it is done with the instance.
   */
  static Mac keyed(byte[] key) {
    Mac mac = MAC.get();
    try {
      mac.init(keySpec(key));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 refused its key", e);
    }
    return mac;
  }

  private static Mac newMac() {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }

  /**
   * The JCA refuses an empty key, but HMAC pads every key shorter than a block with zero bytes, so
   * an empty key and a key of one zero byte give the same MAC (HKDF uses an empty salt this way).
   */
  private static SecretKeySpec keySpec(byte[] key) {
    return new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256");
  }
}
