package io.github.mxe2ee.store;

/** Where an outgoing room key request is in its life. Storage codes never change. */
public enum KeyRequestState {
  /** Created, not yet sent as {@code m.room_key_request}. */
  UNSENT(0),
  /** Sent; waiting for a forwarded key. */
  SENT(1),
  /** The key arrived; a cancellation still has to be sent. */
  CANCELLATION_PENDING(2);

  private final int code;

  KeyRequestState(int code) {
    this.code = code;
  }

  /** Returns the stable storage code. */
  public int code() {
    return code;
  }

  /**
   * Returns the state for a storage code.
   *
   * @throws StoreException with reason CORRUPT for an unknown code
   */
  public static KeyRequestState fromCode(int code) {
    for (KeyRequestState s : values()) {
      if (s.code == code) {
        return s;
      }
    }
    throw new StoreException(
        StoreException.Reason.CORRUPT, "unknown key request state " + code + ", expected 0..2");
  }
}
