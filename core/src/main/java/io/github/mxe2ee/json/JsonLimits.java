package io.github.mxe2ee.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;

/**
 * Bounds on JSON that comes from a remote party (events, to-device messages, decrypted Olm and
 * Megolm plaintexts, homeserver responses), and the checks that enforce them without recursion.
 *
 * <p>Why: Jackson's tree serialization, {@code deepCopy}, {@link CanonicalJson} and Vert.x's copy
 * and encode all recurse once per nesting level, so a value nested a few thousand levels deep ends
 * in {@link StackOverflowError}; and a multi-megabyte string makes every copy costly. Every entry
 * of remote JSON into the library therefore either parses with {@link #MAPPER} (explicit {@link
 * StreamReadConstraints}) or checks a tree with {@link #check} (an iterative walk) before anything
 * recursive touches it. Past these checks, recursion depth is bounded by {@link #MAX_DEPTH}, a
 * constant of ours, never by the sender.
 *
 * <p>Stateless and thread-safe.
 */
public final class JsonLimits {
  /**
   * Deepest nesting accepted in one event, plaintext or response object (the object itself is level
   * 1). Real Matrix content nests under 20 levels; 128 keeps every recursive walk downstream
   * (Jackson serialization, canonical JSON, Vert.x copies) to a few hundred stack frames, far from
   * a stack overflow even on small worker stacks.
   */
  public static final int MAX_DEPTH = 128;

  /**
   * Longest string (value or field name), in chars, accepted in an event or plaintext: 256 Ki. The
   * spec caps a whole room event at 65,536 bytes ("Size limits" of the Client-Server API);
   * to-device payloads are not capped by the spec, so we allow four times that.
   */
  public static final int MAX_STRING_CHARS = 256 * 1024;

  /**
   * Largest JSON document parsed by {@link #MAPPER} (a decrypted plaintext, a stored value), in
   * bytes or chars: 1 MiB, four times {@link #MAX_STRING_CHARS}.
   */
  public static final long MAX_DOCUMENT_LENGTH = 1024 * 1024;

  /** Longest number literal, in chars: {@code 2^53} has 16 digits; floats need a few more. */
  public static final int MAX_NUMBER_CHARS = 100;

  /** The parse constraints of {@link #MAPPER}. */
  public static final StreamReadConstraints CONSTRAINTS =
      StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH)
          .maxStringLength(MAX_STRING_CHARS)
          .maxNameLength(MAX_STRING_CHARS)
          .maxNumberLength(MAX_NUMBER_CHARS)
          .maxDocumentLength(MAX_DOCUMENT_LENGTH)
          .build();

  /**
   * An {@link ObjectMapper} whose parser enforces {@link #CONSTRAINTS}; a document over a bound
   * fails with Jackson's {@code StreamConstraintsException} (an {@code IOException}). Field names
   * are not interned, so many distinct names cannot grow a shared symbol table.
   */
  public static final ObjectMapper MAPPER =
      new ObjectMapper(
          JsonFactory.builder()
              .streamReadConstraints(CONSTRAINTS)
              .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
              .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
              .build());

  private JsonLimits() {}

  /**
   * Checks {@code node} against {@link #MAX_DEPTH} and {@link #MAX_STRING_CHARS} with an iterative
   * walk (no recursion, whatever the depth).
   *
   * @return null if within bounds, otherwise a short reason without content ("depth over 128")
   */
  public static String check(JsonNode node) {
    return check(node, MAX_DEPTH, MAX_STRING_CHARS);
  }

  /**
   * {@link #check(JsonNode)} with explicit bounds.
   *
   * @param maxDepth deepest nesting allowed, the node itself being level 1
   * @param maxStringChars longest string value or field name allowed
   */
  public static String check(JsonNode node, int maxDepth, int maxStringChars) {
    if (node == null) {
      return null;
    }
    ArrayDeque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {node, 1});
    while (!stack.isEmpty()) {
      Object[] top = stack.pop();
      JsonNode n = (JsonNode) top[0];
      int depth = (Integer) top[1];
      if (n.isTextual()) {
        if (n.textValue().length() > maxStringChars) {
          return "string over " + maxStringChars + " chars";
        }
        continue;
      }
      if (!n.isContainerNode()) {
        continue;
      }
      if (depth > maxDepth) {
        return "depth over " + maxDepth;
      }
      if (n instanceof ObjectNode o) {
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getKey().length() > maxStringChars) {
            return "field name over " + maxStringChars + " chars";
          }
          stack.push(new Object[] {e.getValue(), depth + 1});
        }
      } else if (n instanceof ArrayNode a) {
        for (JsonNode child : a) {
          stack.push(new Object[] {child, depth + 1});
        }
      }
    }
    return null;
  }

  /** True if {@link #check(JsonNode)} finds {@code node} within bounds. */
  public static boolean within(JsonNode node) {
    return check(node) == null;
  }

  /**
   * Requires {@code node} to be within bounds.
   *
   * @param what names the value in the exception message, e.g. "keys/query response"
   * @throws IllegalArgumentException naming {@code what} and the bound it broke (never content)
   */
  public static void require(JsonNode node, String what) {
    String why = check(node);
    if (why != null) {
      throw new IllegalArgumentException(what + " exceeds JSON limits: " + why);
    }
  }
}
