package io.github.mxe2ee.store;

import java.util.List;

/** Reads Olm sessions. See {@code shared/spec/matrix-spec/content/olm-megolm/olm.md}. */
public interface OlmSessionStore {
  /**
   * Returns every Olm session with the device whose Curve25519 identity key is {@code senderKey},
   * most recently used (by {@code lastDecryptedAtMillis}) first; empty if there is none.
   */
  List<OlmSessionRecord> olmSessions(String senderKey);
}
