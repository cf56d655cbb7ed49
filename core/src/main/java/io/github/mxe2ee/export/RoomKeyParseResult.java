package io.github.mxe2ee.export;

import io.github.mxe2ee.export.ExportedRoomKeyException.Problem;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of parsing a key export's JSON array: the entries that parsed, in file order, and the
 * ones that did not, each with its position and reason. One bad entry never costs the others: a
 * file of 10,000 entries with 3 bad ones yields 9,997 keys and 3 rejections.
 *
 * <p>Duplicates (the same session more than once, possibly at different first indices) are all
 * kept; merging them is the importer's job ({@code InboundGroupSession.merge} keeps the earliest).
 *
 * <p>Contract: immutable and thread-safe; the lists are unmodifiable and never null.
 *
 * @param keys the entries that parsed, in file order
 * @param rejected the entries that did not, in file order
 */
public record RoomKeyParseResult(List<ExportedRoomKey> keys, List<Rejected> rejected) {
  /** Copies both lists. */
  public RoomKeyParseResult {
    keys = List.copyOf(keys);
    rejected = List.copyOf(rejected);
  }

  /** Number of entries in the file: {@code keys().size() + rejected().size()}. */
  public int total() {
    return keys.size() + rejected.size();
  }

  /**
   * One entry that was not imported. Holds only identifiers and a reason, never key material, so it
   * can be logged or shown as it is.
   *
   * @param index position of the entry in the JSON array, from 0
   * @param roomId the entry's {@code room_id} if it was a string, else null
   * @param sessionId the entry's {@code session_id} if it was a string, else null
   * @param problem why it was not imported, not null
   * @param message the field and expected versus actual, not null
   */
  public record Rejected(
      int index, String roomId, String sessionId, Problem problem, String message) {
    /** Checks the non-null fields. */
    public Rejected {
      Objects.requireNonNull(problem, "problem");
      Objects.requireNonNull(message, "message");
    }

    /** True if the entry was skipped for using another algorithm rather than being malformed. */
    public boolean unsupportedAlgorithm() {
      return problem == Problem.UNSUPPORTED_ALGORITHM;
    }
  }
}
