package io.github.mxe2ee.plugin.impl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.json.JsonLimits;
import io.github.mxe2ee.plugin.http.SyncBodyException;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Converts between Vert.x {@link JsonObject} and the core's Jackson nodes without recursion whose
 * depth the input controls: Vert.x trees are written with an explicit stack, and read back by a
 * parser with explicit {@link StreamReadConstraints} (depth {@link JsonLimits#MAX_DEPTH}, strings
 * {@link JsonLimits#MAX_STRING_CHARS}, documents {@link #MAX_RESPONSE_BYTES}).
 */
final class Json {
  /**
   * Largest JSON converted at once (a {@code /keys/query} answer for a big room is the largest
   * thing that goes through here): 64 MiB.
   */
  static final long MAX_RESPONSE_BYTES = 64L * 1024 * 1024;

  private static final ObjectMapper MAPPER =
      new ObjectMapper(
          JsonFactory.builder()
              .streamReadConstraints(
                  StreamReadConstraints.builder()
                      .maxNestingDepth(JsonLimits.MAX_DEPTH)
                      .maxStringLength(JsonLimits.MAX_STRING_CHARS)
                      .maxNameLength(JsonLimits.MAX_STRING_CHARS)
                      .maxNumberLength(JsonLimits.MAX_NUMBER_CHARS)
                      .maxDocumentLength(MAX_RESPONSE_BYTES)
                      .build())
              .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
              .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
              .build());

  /**
   * Writes trees as deep as the sync parser follows ({@link SyncBodyParser#MAX_DOCUMENT_DEPTH}).
   */
  private static final JsonFactory WRITER =
      JsonFactory.builder()
          .streamWriteConstraints(
              StreamWriteConstraints.builder()
                  .maxNestingDepth(SyncBodyParser.MAX_DOCUMENT_DEPTH)
                  .build())
          .build();

  private Json() {}

  /**
   * The core's node of a Vert.x object.
   *
   * @throws IllegalArgumentException if it breaks a bound (the message names the bound only)
   */
  static ObjectNode toNode(JsonObject json) {
    try {
      JsonNode node = MAPPER.readTree(write(json));
      return (ObjectNode) node;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "JSON exceeds the limits (depth "
              + JsonLimits.MAX_DEPTH
              + ", strings "
              + JsonLimits.MAX_STRING_CHARS
              + " chars): "
              + e.getClass().getSimpleName());
    }
  }

  /** The Vert.x object of a core node (the core's nodes are already within bounds). */
  static JsonObject toVertx(JsonNode node) {
    return new JsonObject(node.toString());
  }

  /**
   * Serializes a Vert.x value (JsonObject, JsonArray, Map, List, scalars) to UTF-8 JSON with an
   * explicit stack, no recursion.
   *
   * @throws SyncBodyException if it nests deeper than {@link SyncBodyParser#MAX_DOCUMENT_DEPTH}
   */
  static byte[] write(Object value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = WRITER.createGenerator(out)) {
      ArrayDeque<Iterator<?>> stack = new ArrayDeque<>();
      ArrayDeque<Boolean> isObject = new ArrayDeque<>();
      Object next = value;
      boolean haveNext = true;
      while (true) {
        if (haveNext) {
          haveNext = false;
          Map<?, ?> map = asMap(next);
          List<?> list = map == null ? asList(next) : null;
          if (map != null) {
            g.writeStartObject();
            stack.push(map.entrySet().iterator());
            isObject.push(true);
          } else if (list != null) {
            g.writeStartArray();
            stack.push(list.iterator());
            isObject.push(false);
          } else {
            scalar(g, next);
          }
        }
        if (stack.isEmpty()) {
          break;
        }
        Iterator<?> it = stack.peek();
        if (!it.hasNext()) {
          stack.pop();
          if (isObject.pop()) {
            g.writeEndObject();
          } else {
            g.writeEndArray();
          }
          continue;
        }
        Object item = it.next();
        if (isObject.peek()) {
          Map.Entry<?, ?> e = (Map.Entry<?, ?>) item;
          g.writeFieldName(String.valueOf(e.getKey()));
          next = e.getValue();
        } else {
          next = item;
        }
        haveNext = true;
      }
    } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
      throw new SyncBodyException(
          "JSON nested deeper than " + SyncBodyParser.MAX_DOCUMENT_DEPTH + " levels");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static Map<?, ?> asMap(Object v) {
    if (v instanceof JsonObject o) {
      return o.getMap();
    }
    return v instanceof Map<?, ?> m ? m : null;
  }

  private static List<?> asList(Object v) {
    if (v instanceof JsonArray a) {
      return a.getList();
    }
    return v instanceof List<?> l ? l : null;
  }

  private static void scalar(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof CharSequence s) {
      g.writeString(s.toString());
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte) {
      g.writeNumber(((Number) v).longValue());
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof BigDecimal b) {
      g.writeNumber(b);
    } else if (v instanceof Double || v instanceof Float) {
      g.writeNumber(((Number) v).doubleValue());
    } else if (v instanceof Number n) {
      g.writeNumber(n.toString());
    } else if (v instanceof byte[] bytes) {
      g.writeString(Base64.getEncoder().encodeToString(bytes));
    } else if (v instanceof Enum<?> e) {
      g.writeString(e.name());
    } else {
      g.writeString(String.valueOf(v));
    }
  }
}
