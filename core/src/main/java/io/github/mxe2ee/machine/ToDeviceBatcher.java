package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.UserDevice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
  private final Map<String, List<UserDevice>> recipients = new LinkedHashMap<>();
  private List<UserDevice> current = new ArrayList<>();
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
    current.add(new UserDevice(userId, deviceId));
    if (++count >= MAX_MESSAGES_PER_REQUEST) {
      flush();
    }
  }

  /** The request id the next added message will belong to is not known before {@link #build}. */
  private void flush() {
    if (body != null && count > 0) {
      String id = ctx.newRequestId();
      done.add(OutgoingRequest.owning(id, RequestType.TO_DEVICE, body, eventType));
      doneIds.add(id);
      recipients.put(id, List.copyOf(current));
    }
    current = new ArrayList<>();
    body = null;
    count = 0;
  }

  /** The devices each built request addresses, by request id (valid after {@link #build}). */
  Map<String, List<UserDevice>> recipients() {
    return recipients;
  }

  /** All requests, the last one flushed. */
  List<OutgoingRequest> build() {
    flush();
    return List.copyOf(done);
  }
}
