package io.github.mxe2ee.store;

import java.util.List;
import java.util.Optional;

/** Reads outgoing room key requests in flight. */
public interface KeyRequestStore {
  /** Returns the request with this id, if any. */
  Optional<OutgoingKeyRequest> outgoingKeyRequest(String requestId);

  /** Returns the request for this (room, session), if any. */
  Optional<OutgoingKeyRequest> outgoingKeyRequestFor(String roomId, String sessionId);

  /** Returns every request in the given state, ordered by request id. */
  List<OutgoingKeyRequest> outgoingKeyRequests(KeyRequestState state);
}
