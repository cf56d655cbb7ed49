package io.github.mxe2ee.crypto;

import java.util.Base64;

/**
 * Unpadded base64 as Matrix uses it on the wire (client-server API appendix, "Unpadded Base64"):
 * the standard alphabet (or the URL-safe one) without trailing {@code =}. Decoding also accepts
 * padded input, as the spec asks of receivers. Stateless and thread-safe.
 */
public final class UnpaddedBase64 {
  private static final Base64.Encoder STANDARD = Base64.getEncoder().withoutPadding();
  private static final Base64.Encoder URL_SAFE = Base64.getUrlEncoder().withoutPadding();

  private UnpaddedBase64() {}

  /** Encodes with the standard alphabet and no padding. */
  public static String encode(byte[] bytes) {
    return STANDARD.encodeToString(bytes);
  }

  /** Encodes with the URL-safe alphabet and no padding. */
  public static String encodeUrlSafe(byte[] bytes) {
    return URL_SAFE.encodeToString(bytes);
  }

  /**
   * Decodes standard-alphabet base64, padded or not.
   *
   * @throws DecodeException if the text is null or not valid base64
   */
  public static byte[] decode(String text) {
    return decode(text, Base64.getDecoder());
  }

  /**
   * Decodes URL-safe base64, padded or not.
   *
   * @throws DecodeException if the text is null or not valid URL-safe base64
   */
  public static byte[] decodeUrlSafe(String text) {
    return decode(text, Base64.getUrlDecoder());
  }

  private static byte[] decode(String text, Base64.Decoder decoder) {
    if (text == null) {
      throw new DecodeException("base64: expected a string but found null");
    }
    if (text.length() % 4 == 1) {
      throw new DecodeException("base64: a length of " + text.length() + " characters is invalid");
    }
    try {
      return decoder.decode(text);
    } catch (IllegalArgumentException e) {
      throw new DecodeException("base64: invalid input of " + text.length() + " characters", e);
    }
  }
}
