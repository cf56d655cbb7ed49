package io.github.mxe2ee.interop;

import java.util.HashMap;
import java.util.Map;

/**
 * The driver's table of live objects, addressed by opaque string handles such as {@code
 * "session-7"}. Each entry is tagged with its protocol kind ({@code account}, {@code session},
 * {@code group_outbound}, {@code group_inbound}) so an operation given the wrong kind of handle
 * fails with {@code unknown_handle} instead of a {@link ClassCastException}.
 *
 * <p>Not thread-safe: the driver serves one request at a time. Never null: lookups of a missing
 * handle throw {@link PeerException}.
 */
final class Handles {
  static final String ACCOUNT = "account";
  static final String SESSION = "session";
  static final String GROUP_OUTBOUND = "group_outbound";
  static final String GROUP_INBOUND = "group_inbound";

  private record Entry(String kind, Object value) {}

  private final Map<String, Entry> entries = new HashMap<>();
  private long counter;

  /** Stores {@code value} under a new handle and returns the handle. */
  String add(String kind, Object value) {
    String handle = kind + "-" + (++counter);
    entries.put(handle, new Entry(kind, value));
    return handle;
  }

  /** The object under {@code handle}, which must be of {@code kind}. */
  <T> T get(String handle, String kind, Class<T> type) {
    Entry entry = entry(handle);
    if (!entry.kind().equals(kind) || !type.isInstance(entry.value())) {
      throw new PeerException(
          ErrorKinds.UNKNOWN_HANDLE,
          "handle '" + handle + "' is of kind " + entry.kind() + ", expected " + kind);
    }
    return type.cast(entry.value());
  }

  /** The kind tag of {@code handle}. */
  String kind(String handle) {
    return entry(handle).kind();
  }

  /** The object under {@code handle}, whatever its kind. */
  Object get(String handle) {
    return entry(handle).value();
  }

  /** Forgets {@code handle}. */
  void free(String handle) {
    if (entries.remove(handle) == null) {
      throw unknown(handle);
    }
  }

  private Entry entry(String handle) {
    Entry entry = entries.get(handle);
    if (entry == null) {
      throw unknown(handle);
    }
    return entry;
  }

  private static PeerException unknown(String handle) {
    return new PeerException(ErrorKinds.UNKNOWN_HANDLE, "no object with handle '" + handle + "'");
  }
}
