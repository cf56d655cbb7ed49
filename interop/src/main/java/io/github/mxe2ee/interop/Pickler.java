package io.github.mxe2ee.interop;

import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Pickling for one kind of handle ({@code account}, {@code session}, {@code group_outbound}, {@code
 * group_inbound}): registered by the operations class that owns the kind, used by the generic
 * {@code pickle} and {@code unpickle} operations. Immutable.
 */
final class Pickler {
  private final Class<?> type;
  private final BiFunction<Object, byte[], String> pickle;
  private final BiFunction<String, byte[], ?> fromMxe2ee;
  private final BiFunction<String, byte[], ?> fromLibolm;

  private Pickler(
      Class<?> type,
      BiFunction<Object, byte[], String> pickle,
      BiFunction<String, byte[], ?> fromMxe2ee,
      BiFunction<String, byte[], ?> fromLibolm) {
    this.type = type;
    this.pickle = pickle;
    this.fromMxe2ee = fromMxe2ee;
    this.fromLibolm = fromLibolm;
  }

  /**
   * A pickler for objects of {@code type}.
   *
   * @param pickle pickles in mxe2ee's own format with a 32-byte key
   * @param fromMxe2ee restores from mxe2ee's own format
   * @param fromLibolm imports libolm's pickle format (key of any length)
   */
  static <T> Pickler of(
      Class<T> type,
      BiFunction<T, byte[], String> pickle,
      BiFunction<String, byte[], T> fromMxe2ee,
      BiFunction<String, byte[], T> fromLibolm) {
    Objects.requireNonNull(pickle, "pickle");
    return new Pickler(
        type,
        (value, key) -> pickle.apply(type.cast(value), key),
        Objects.requireNonNull(fromMxe2ee, "fromMxe2ee"),
        Objects.requireNonNull(fromLibolm, "fromLibolm"));
  }

  String pickle(Object value, byte[] key) {
    return pickle.apply(type.cast(value), key);
  }

  Object fromMxe2ee(String pickle, byte[] key) {
    return fromMxe2ee.apply(pickle, key);
  }

  Object fromLibolm(String pickle, byte[] key) {
    return fromLibolm.apply(pickle, key);
  }
}
