package io.github.mxe2ee.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Canonical JSON as the Matrix spec's appendix defines it ({@code
 * shared/spec/matrix-spec/content/appendices.md}, "Canonical JSON"): the shortest UTF-8 encoding,
 * object keys sorted by Unicode code point, no insignificant whitespace, non-ASCII characters
 * written as themselves, and numbers only as integers in [-(2^53)+1, (2^53)-1]. Stateless and
 * thread-safe.
 */
public final class CanonicalJson {
  /** Largest magnitude the spec allows for a number: 2^53 - 1. */
  public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  private CanonicalJson() {}

  /**
   * Encodes {@code node} canonically.
   *
   * @throws DecodeException if it holds a fractional number, or one outside the safe range
   */
  public static String encode(JsonNode node) {
    StringBuilder out = new StringBuilder(128);
    write(node, out);
    return out.toString();
  }

  /** The UTF-8 bytes of {@link #encode}. */
  public static byte[] encodeBytes(JsonNode node) {
    return encode(node).getBytes(StandardCharsets.UTF_8);
  }

  private static void write(JsonNode node, StringBuilder out) {
    switch (node.getNodeType()) {
      case OBJECT -> writeObject(node, out);
      case ARRAY -> {
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(node.get(i), out);
        }
        out.append(']');
      }
      case STRING -> writeString(node.textValue(), out);
      case NUMBER -> out.append(integer(node));
      case BOOLEAN -> out.append(node.booleanValue());
      case NULL -> out.append("null");
      default -> throw new DecodeException("canonical JSON: cannot encode a " + node.getNodeType());
    }
  }

  private static void writeObject(JsonNode node, StringBuilder out) {
    List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(node.size());
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      fields.add(it.next());
    }
    fields.sort((a, b) -> compareCodePoints(a.getKey(), b.getKey()));
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, JsonNode> field : fields) {
      if (!first) {
        out.append(',');
      }
      first = false;
      writeString(field.getKey(), out);
      out.append(':');
      write(field.getValue(), out);
    }
    out.append('}');
  }

  private static String integer(JsonNode node) {
    BigDecimal value = node.decimalValue();
    BigDecimal integral;
    try {
      integral = new BigDecimal(value.toBigIntegerExact());
    } catch (ArithmeticException e) {
      throw new DecodeException("canonical JSON: expected an integer but found a fraction");
    }
    if (integral.abs().compareTo(BigDecimal.valueOf(MAX_SAFE_INTEGER)) > 0) {
      throw new DecodeException("canonical JSON: integer outside +-(2^53 - 1)");
    }
    return integral.toBigInteger().toString();
  }

  private static void writeString(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** Orders by Unicode code point, which differs from UTF-16 order above the surrogates. */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
