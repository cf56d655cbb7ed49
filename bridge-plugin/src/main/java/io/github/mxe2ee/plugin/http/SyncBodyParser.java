package io.github.mxe2ee.plugin.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.github.mxe2ee.json.JsonLimits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;

/**
 * Parses a {@code /sync} response body (or any Matrix JSON body that carries {@code events} arrays)
 * into a Vert.x {@link JsonObject} with one streaming pass and no recursion, isolating events: an
 * element of an array named {@code events} (timeline, state, invite state, ephemeral, account data,
 * presence, to-device) that breaks a bound is skipped and counted, and the rest of the body is
 * kept. A value outside events that breaks a bound is skipped and counted the same way.
 *
 * <p>Bounds, each a named constant:
 *
 * <ul>
 *   <li>per event: nesting {@link JsonLimits#MAX_DEPTH}, serialized size {@link #MAX_EVENT_BYTES},
 *       strings and field names {@link JsonLimits#MAX_STRING_CHARS}, number literals {@link
 *       JsonLimits#MAX_NUMBER_CHARS} (longer numbers would also cost quadratic time to convert); an
 *       event must be a JSON object;
 *   <li>outside events: nesting {@link #MAX_STRUCTURE_DEPTH}, the same string and number bounds;
 *   <li>the document: its length (caller's bound, {@link #DEFAULT_MAX_DOCUMENT_BYTES} by default,
 *       also enforced while the HTTP body is read) and nesting {@link #MAX_DOCUMENT_DEPTH}, which
 *       bounds the parser's own per-level state. Only a body that breaks a document bound, or is
 *       not JSON, is refused as a whole ({@link SyncBodyException}).
 * </ul>
 *
 * <p>Jackson's own {@link StreamReadConstraints} are set explicitly to the document bounds, so that
 * a single long string or number inside one event is never what refuses the whole document; the
 * per-event checks above are ours. Long strings are measured on the raw bytes before Jackson
 * decodes them, so a skipped string is never materialized.
 *
 * <p>Stateless and thread-safe.
 */
public final class SyncBodyParser {

  /**
   * Largest serialized event kept: 512 KiB. The spec caps a room event at 65,536 bytes ("Size
   * limits"); to-device messages have no spec cap, and servers add {@code unsigned} data, so we
   * allow eight times that.
   */
  public static final int MAX_EVENT_BYTES = 512 * 1024;

  /**
   * Longest string, as written in the raw body, that is decoded at all: six bytes per char (a
   * {@code \\uXXXX} escape) times {@link JsonLimits#MAX_STRING_CHARS}. Longer ones are skipped
   * undecoded; shorter ones are decoded and then held to {@link JsonLimits#MAX_STRING_CHARS}.
   */
  static final int MAX_RAW_STRING_BYTES = 6 * JsonLimits.MAX_STRING_CHARS;

  /** Deepest nesting of the body's own structure outside events ({@code rooms.join.X...}: ~6). */
  public static final int MAX_STRUCTURE_DEPTH = 32;

  /**
   * Deepest nesting the streaming parser follows at all: 100,000 levels, about 6 MB of parser state
   * at worst. Deeper events are skipped like any other over-deep event; only nesting beyond this
   * refuses the whole body. A spec-sized event (65,536 bytes) cannot nest deeper than 32,768.
   */
  public static final int MAX_DOCUMENT_DEPTH = 100_000;

  /**
   * Default largest {@code /sync} body: 32 MiB. A filtered sync (see the bot's sync loop) is far
   * smaller; an unfiltered initial sync of a large account can come near it.
   */
  public static final long DEFAULT_MAX_DOCUMENT_BYTES = 32L * 1024 * 1024;

  private final long maxDocumentBytes;
  private final JsonFactory factory;

  /** A parser with {@link #DEFAULT_MAX_DOCUMENT_BYTES}. */
  public SyncBodyParser() {
    this(DEFAULT_MAX_DOCUMENT_BYTES);
  }

  /**
   * @param maxDocumentBytes largest body accepted, at least 1 KiB and at most 1 GiB
   */
  public SyncBodyParser(long maxDocumentBytes) {
    if (maxDocumentBytes < 1024 || maxDocumentBytes > (1L << 30)) {
      throw new IllegalArgumentException(
          "maxDocumentBytes must be in [1 KiB, 1 GiB], was " + maxDocumentBytes);
    }
    this.maxDocumentBytes = maxDocumentBytes;
    int len = (int) maxDocumentBytes;
    this.factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxDocumentLength(maxDocumentBytes)
                    .maxNestingDepth(MAX_DOCUMENT_DEPTH)
                    .maxStringLength(len)
                    .maxNameLength(len)
                    .maxNumberLength(len)
                    .build())
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();
  }

  /** The largest body this parser accepts. */
  public long maxDocumentBytes() {
    return maxDocumentBytes;
  }

  /**
   * The parsed body and what was skipped.
   *
   * @param body the body without the skipped parts
   * @param droppedEvents events skipped (over a bound, or not an object)
   * @param droppedValues values outside events skipped (over a bound)
   */
  public record Result(JsonObject body, int droppedEvents, int droppedValues) {}

  /** One open container. */
  private static final class Frame {
    final Object container;
    final String nameInParent;
    final boolean eventsArray;
    final boolean eventRoot;

    Frame(Object container, String nameInParent, boolean eventsArray, boolean eventRoot) {
      this.container = container;
      this.nameInParent = nameInParent;
      this.eventsArray = eventsArray;
      this.eventRoot = eventRoot;
    }
  }

  /**
   * Parses {@code body}.
   *
   * @throws SyncBodyException if the body is longer than the bound, not JSON, not an object, or
   *     nested beyond {@link #MAX_DOCUMENT_DEPTH}
   */
  public Result parse(byte[] body) {
    if (body.length > maxDocumentBytes) {
      throw new SyncBodyException(
          "body of " + body.length + " bytes is over the limit of " + maxDocumentBytes);
    }
    try (JsonParser p = factory.createParser(body)) {
      return new Walk(p, body).run();
    } catch (IOException e) {
      throw new SyncBodyException("body is not acceptable JSON: " + e.getClass().getSimpleName());
    }
  }

  /** The state of one parse. */
  private static final class Walk {
    private final JsonParser p;
    private final byte[] raw;
    private final ArrayDeque<Frame> stack = new ArrayDeque<>();
    private String pendingName;
    private int eventLevel = -1; // stack size of the current event's root frame, or -1
    private long eventStart;
    private int skipOpen; // > 0 while skipping a dropped container: its open levels
    private int droppedEvents;
    private int droppedValues;

    Walk(JsonParser p, byte[] raw) {
      this.p = p;
      this.raw = raw;
    }

    Result run() throws IOException {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new SyncBodyException("body is not a JSON object");
      }
      JsonObject root = new JsonObject(new LinkedHashMap<>());
      stack.push(new Frame(root, null, false, false));
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (skipOpen > 0) {
          if (t.isStructStart()) {
            skipOpen++;
          } else if (t.isStructEnd()) {
            skipOpen--;
          }
          continue;
        }
        if (stack.isEmpty()) {
          throw new SyncBodyException("trailing content after the body");
        }
        Frame top = stack.peek();
        if (eventLevel > 0 && offset() - eventStart > MAX_EVENT_BYTES) {
          drop(t);
          continue;
        }
        switch (t) {
          case FIELD_NAME -> {
            String name = p.currentName();
            if (name.length() > JsonLimits.MAX_STRING_CHARS) {
              // The value that follows is dropped with its name.
              drop(p.nextToken());
              continue;
            }
            pendingName = name;
          }
          case START_OBJECT, START_ARRAY -> openContainer(top, t == JsonToken.START_OBJECT);
          case END_OBJECT, END_ARRAY -> closeContainer();
          case VALUE_STRING -> {
            if (top.eventsArray && eventLevel < 0) {
              droppedEvents++; // an event that is not an object
            } else if (rawStringLongerThan(MAX_RAW_STRING_BYTES)) {
              drop(t); // never decoded
            } else {
              String text = p.getText();
              if (text.length() > JsonLimits.MAX_STRING_CHARS) {
                drop(t);
              } else {
                attach(top, text);
              }
            }
          }
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
            if (top.eventsArray && eventLevel < 0) {
              droppedEvents++;
            } else if (p.getTextLength() > JsonLimits.MAX_NUMBER_CHARS) {
              drop(t);
            } else {
              attach(top, p.getNumberValue());
            }
          }
          case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> {
            if (top.eventsArray && eventLevel < 0) {
              droppedEvents++;
            } else {
              attach(top, t == JsonToken.VALUE_NULL ? null : t == JsonToken.VALUE_TRUE);
            }
          }
          default -> throw new SyncBodyException("unexpected token " + t);
        }
      }
      if (!stack.isEmpty() || skipOpen > 0) {
        throw new SyncBodyException("body ends early");
      }
      return new Result(root, droppedEvents, droppedValues);
    }

    private long offset() {
      return p.currentTokenLocation().getByteOffset();
    }

    private void openContainer(Frame top, boolean object) {
      boolean startsEvent = eventLevel < 0 && top.eventsArray;
      if (startsEvent && !object) {
        droppedEvents++; // an event that is an array: skip it
        skipOpen = 1;
        return;
      }
      int level = stack.size() + 1;
      if (startsEvent) {
        eventLevel = level;
        eventStart = offset();
      }
      boolean tooDeep =
          eventLevel > 0
              ? level - eventLevel + 1 > JsonLimits.MAX_DEPTH
              : level > MAX_STRUCTURE_DEPTH;
      if (tooDeep) {
        drop(JsonToken.START_OBJECT);
        return;
      }
      String name = top.container instanceof JsonObject ? pendingName : null;
      Object container = object ? new JsonObject(new LinkedHashMap<>()) : new JsonArray();
      boolean eventsArray = !object && eventLevel < 0 && "events".equals(name);
      stack.push(new Frame(container, name, eventsArray, startsEvent));
    }

    private void closeContainer() {
      Frame done = stack.pop();
      if (done.eventRoot) {
        eventLevel = -1;
      }
      if (!stack.isEmpty()) {
        Frame parent = stack.peek();
        pendingName = done.nameInParent;
        attach(parent, done.container);
      }
    }

    private void attach(Frame parent, Object value) {
      if (parent.container instanceof JsonObject o) {
        o.put(pendingName, value);
      } else {
        ((JsonArray) parent.container).add(value);
      }
    }

    /**
     * Drops the smallest unit that holds the current token: the event it belongs to, or outside
     * events the current value. {@code t} is the current token: if it opens a container, that
     * container is skipped too; if it closes one, that one is already closed in the parser.
     */
    private void drop(JsonToken t) {
      int adjust = t.isStructStart() ? 1 : t.isStructEnd() ? -1 : 0;
      if (eventLevel > 0) {
        droppedEvents++;
        int open = stack.size() + adjust;
        while (stack.size() >= eventLevel) {
          stack.pop();
        }
        skipOpen = open - (eventLevel - 1);
        eventLevel = -1;
      } else {
        droppedValues++;
        skipOpen = adjust > 0 ? 1 : 0;
      }
    }

    /**
     * Whether the string token at the current position is longer than {@code max} bytes, measured
     * on the raw input (from the opening quote to the closing one, escapes counted as written)
     * without decoding it.
     */
    private boolean rawStringLongerThan(int max) {
      int start = (int) offset();
      if (start < 0 || start >= raw.length || raw[start] != '"') {
        return false; // cannot measure: Jackson's own length bound still applies
      }
      int i = start + 1;
      int limit = (int) Math.min(raw.length, (long) start + 1 + max + 1);
      while (i < limit) {
        byte b = raw[i];
        if (b == '"') {
          return false;
        }
        i += b == '\\' ? 2 : 1;
      }
      return i - start - 1 > max;
    }
  }
}
