package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs to-device messages of one event type into {@code sendToDevice} requests of at most {@link
 * #MAX_MESSAGES_PER_REQUEST} messages each. Not thread-safe.
 */
final class ToDeviceBatcher {
  /**
   * Synapse accepts large bodies, but a few hundred messages keep each request well under common
   * proxy body limits and let a failed request be retried cheaply.
   */
  static final int MAX_MESSAGES_PER_REQUEST = 250;

  private final Context ctx;
  private final String eventType;
  private final List<OutgoingRequest> done = new ArrayList<>();
  private final List<String> doneIds = new ArrayList<>();
  private ObjectNode body;
  private int count;

  ToDeviceBatcher(Context ctx, String eventType) {
    this.ctx = ctx;
    this.eventType = eventType;
  }

  void add(String userId, String deviceId, ObjectNode content) {
    if (body == null) {
      body = Context.object();
      body.putObject("messages");
      count = 0;
    }
    ObjectNode messages = (ObjectNode) body.get("messages");
    ObjectNode user =
        messages.has(userId) ? (ObjectNode) messages.get(userId) : messages.putObject(userId);
    user.set(deviceId, content);
    if (++count >= MAX_MESSAGES_PER_REQUEST) {
      flush();
    }
  }

  /** The request id the next added message will belong to is not known before {@link #build}. */
  private void flush() {
    if (body != null && count > 0) {
      String id = ctx.newRequestId();
      done.add(new OutgoingRequest(id, RequestType.TO_DEVICE, body, eventType));
      doneIds.add(id);
    }
    body = null;
    count = 0;
  }

  /** All requests, the last one flushed. */
  List<OutgoingRequest> build() {
    flush();
    return List.copyOf(done);
  }
}
