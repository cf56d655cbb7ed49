package io.github.mxe2ee.interop;

/**
 * Pickling for one kind of handle ({@code account}, {@code session}, {@code group_outbound}, {@code
 * group_inbound}); registered by the operations class that owns the kind, used by the generic
 * {@code pickle} and {@code unpickle} operations.
 */
interface Pickler {
  /** Pickles {@code value} in mxe2ee's own format with {@code key} (32 bytes). */
  String pickle(Object value, byte[] key);

  /** Restores an object from mxe2ee's own format. */
  Object fromMxe2ee(String pickle, byte[] key);

  /** Imports an object from libolm's pickle format ({@code key} of any length). */
  Object fromLibolm(String pickle, byte[] key);
}
