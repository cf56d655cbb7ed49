package io.github.mxe2ee.plugin.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A strict reader over one mapping of a configuration document: every field it is asked for is
 * checked for type, and {@link #finish()} refuses any field nobody asked for, naming it and the
 * known ones. Fields are read by their dotted path from the document root so that errors point at
 * them. Not API.
 */
final class Section {
  private final String source;
  private final String path;
  private final ObjectNode node;
  private final Set<String> known = new LinkedHashSet<>();

  private Section(String source, String path, ObjectNode node) {
    this.source = source;
    this.path = path;
    this.node = node;
  }

  /** The document root; {@code root} must be a mapping. */
  static Section root(String source, JsonNode root) {
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ConfigException(source, null, "is empty; expected a mapping of sections");
    }
    if (!root.isObject()) {
      throw new ConfigException(source, null, "must be a mapping of sections, found " + kind(root));
    }
    return new Section(source, "", (ObjectNode) root);
  }

  String source() {
    return source;
  }

  private String name(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  private JsonNode take(String field) {
    known.add(field);
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v;
  }

  /** True if the field is present with a non-null value. */
  boolean has(String field) {
    JsonNode v = node.get(field);
    return v != null && !v.isNull();
  }

  /** A nested mapping, or null when absent. */
  Section section(String field) {
    JsonNode v = take(field);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      throw new ConfigException(source, name(field), "must be a mapping, found " + kind(v));
    }
    return new Section(source, name(field), (ObjectNode) v);
  }

  /**
   * A string field, or {@code fallback} when absent. Numbers and booleans are refused rather than
   * converted: YAML reads {@code device_id: 007} as 7 and {@code on} as true.
   *
   * @param secret when true, the value is never quoted in an error
   */
  String string(String field, String fallback, boolean secret) {
    JsonNode v = take(field);
    if (v == null) {
      return fallback;
    }
    if (!v.isTextual()) {
      throw new ConfigException(
          source,
          name(field),
          "must be a string, found "
              + kind(v)
              + (secret ? "" : " (" + v + ")")
              + "; quote it in YAML");
    }
    String s = v.textValue();
    if (s.isBlank()) {
      throw new ConfigException(source, name(field), "must not be empty");
    }
    return s;
  }

  /** A list of non-empty strings, or {@code fallback} when absent. */
  java.util.List<String> stringList(String field, java.util.List<String> fallback) {
    JsonNode v = take(field);
    if (v == null) {
      return fallback;
    }
    if (!v.isArray()) {
      throw new ConfigException(source, name(field), "must be a list, found " + kind(v));
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual() || e.textValue().isBlank()) {
        throw new ConfigException(
            source, name(field), "must hold non-empty strings, found " + kind(e) + " (" + e + ")");
      }
      out.add(e.textValue());
    }
    return out;
  }

  /** A required non-secret string field. */
  String requiredString(String field) {
    String s = string(field, null, false);
    if (s == null) {
      throw new ConfigException(source, name(field), "is required");
    }
    return s;
  }

  /** A boolean field, or {@code fallback} when absent. */
  boolean bool(String field, boolean fallback) {
    JsonNode v = take(field);
    if (v == null) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw new ConfigException(
          source, name(field), "must be true or false, found " + kind(v) + " (" + v + ")");
    }
    return v.booleanValue();
  }

  /** An integer field within [min, max], or {@code fallback} when absent. */
  long integer(String field, long fallback, long min, long max) {
    JsonNode v = take(field);
    if (v == null) {
      return fallback;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new ConfigException(
          source, name(field), "must be a whole number, found " + kind(v) + " (" + v + ")");
    }
    long n = v.longValue();
    if (n < min || n > max) {
      throw new ConfigException(
          source, name(field), "must be between " + min + " and " + max + ", was " + n);
    }
    return n;
  }

  /**
   * An enum field written in lower case with underscores ({@code all_devices}), or {@code fallback}
   * when absent.
   */
  <E extends Enum<E>> E choice(String field, Class<E> type, E fallback) {
    String s = string(field, null, false);
    if (s == null) {
      return fallback;
    }
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(s)) {
        return e;
      }
    }
    StringBuilder names = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      names.append(names.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
    }
    throw new ConfigException(source, name(field), "must be one of " + names + ", was '" + s + "'");
  }

  /** Fails for the first field of this mapping that no reader asked for. */
  void finish() {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        throw new ConfigException(
            source,
            name(f),
            "is unknown"
                + (known.isEmpty() ? "" : "; known fields here: " + String.join(", ", known)));
      }
    }
  }

  /** An error about {@code field} of this mapping. */
  ConfigException error(String field, String problem) {
    return new ConfigException(source, name(field), problem);
  }

  private static String kind(JsonNode v) {
    if (v.isObject()) {
      return "a mapping";
    }
    if (v.isArray()) {
      return "a list";
    }
    if (v.isBoolean()) {
      return "a boolean";
    }
    if (v.isNumber()) {
      return "a number";
    }
    return "a string";
  }
}
