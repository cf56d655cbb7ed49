package io.github.mxe2ee.plugin.config;

/**
 * A configuration that cannot be used: a file that cannot be read or parsed, an unknown field, a
 * field of the wrong type or out of range, or a missing required field. The message names the
 * source (file path, or {@code <json>} for an in-memory object) and the field's dotted path, and
 * says what was expected; it never quotes the value of a secret field (passwords, tokens, keys).
 */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final String field;

  /**
   * @param source where the configuration came from, e.g. {@code config/mxe2ee.yaml}
   * @param field the dotted path of the offending field, or null for the whole document
   * @param problem what is wrong, without secret values
   */
  public ConfigException(String source, String field, String problem) {
    super(source + ": " + (field == null ? "" : "field '" + field + "' ") + problem);
    this.source = source;
    this.field = field;
  }

  /** Where the configuration came from. */
  public String source() {
    return source;
  }

  /** The dotted path of the offending field, or null when the problem is the whole document. */
  public String field() {
    return field;
  }
}
