package io.github.mxe2ee.megolm;

/**
 * How two {@link InboundGroupSession} copies relate, from the point of view of the first one (see
 * {@link InboundGroupSession#compare(InboundGroupSession)}).
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Session export format"
 * and "Partial Forward Secrecy": a copy with an earlier ratchet decrypts more history.
 */
public enum SessionOrdering {
  /** Same session, same first known index. */
  EQUAL,
  /** Same session; this copy starts at an earlier index and can decrypt more. */
  BETTER,
  /** Same session; the other copy starts at an earlier index. */
  WORSE,
  /** Different sessions (different keys, or ratchets that do not connect). */
  UNCONNECTED
}
