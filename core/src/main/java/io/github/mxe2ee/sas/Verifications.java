package io.github.mxe2ee.sas;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The to-device verifications of one device, by (other user, flow id): routes incoming {@code
 * m.key.verification.*} contents to their flow, creates flows for incoming requests (and for the
 * deprecated start without a request), answers what belongs to no flow as the spec says ("Error and
 * exception handling"), times flows out, and collects what they want sent and what they verified.
 *
 * <p>Incoming requests are not accepted here: they wait in {@link SasState#REQUEST_RECEIVED} for
 * the caller's policy to {@link SasVerification#accept()} or {@link SasVerification#cancel} them.
 *
 * <p><b>Bounds.</b> At most {@link #MAX_LIVE_FLOWS} flows run at once (a new request beyond that is
 * ignored, unanswered, so a flood costs no replies); ended flows are kept {@link
 * #ENDED_RETENTION_MILLIS} so that late messages for them are dropped silently, and at most {@link
 * #MAX_ENDED_FLOWS} of them. A device that opens a second flow while one is live gets both
 * cancelled (spec: "When the same device attempts to initiate multiple verification attempts, the
 * recipient should cancel all attempts with that device").
 *
 * <p>Sans-I/O and not thread-safe, like {@link SasVerification}; not persisted.
 */
public final class Verifications {
  /**
   * Verifications are interactive: a person compares strings on each. A handful at once is already
   * more than any operator does; more are a flood.
   */
  public static final int MAX_LIVE_FLOWS = 16;

  /** Ended flows remembered to drop late messages quietly (bounded, oldest forgotten first). */
  public static final int MAX_ENDED_FLOWS = 64;

  /** As long as a flow may live: later messages of an ended flow are no longer expected. */
  public static final long ENDED_RETENTION_MILLIS = SasVerification.FLOW_TIMEOUT_MILLIS;

  /** The prefix of every verification event type. */
  public static final String EVENT_PREFIX = "m.key.verification.";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final SasContext ctx;
  private final Map<String, Entry> flows = new LinkedHashMap<>();
  private final List<VerificationMessage> replies = new ArrayList<>();

  private static final class Entry {
    final SasVerification flow;
    boolean reported;
    long endedAt = -1;

    Entry(SasVerification flow) {
      this.flow = flow;
    }
  }

  /** A registry for our side {@code ctx}. */
  public Verifications(SasContext ctx) {
    this.ctx = Objects.requireNonNull(ctx, "ctx");
  }

  private static String key(String userId, String flowId) {
    return userId + "\n" + flowId;
  }

  /**
   * Starts a verification with one device of {@code userId} ({@link SasVerification#request}).
   *
   * @throws IllegalStateException if {@link #MAX_LIVE_FLOWS} flows are running
   */
  public SasVerification request(String userId, String deviceId) {
    purge();
    if (liveCount() >= MAX_LIVE_FLOWS) {
      throw new IllegalStateException(
          "too many verifications in progress: at most " + MAX_LIVE_FLOWS);
    }
    SasVerification v = SasVerification.request(ctx, userId, deviceId);
    flows.put(key(userId, v.flowId()), new Entry(v));
    return v;
  }

  /** The flow with {@code userId} and {@code flowId}, live or recently ended. */
  public Optional<SasVerification> get(String userId, String flowId) {
    Entry e = flows.get(key(userId, flowId));
    return e == null ? Optional.empty() : Optional.of(e.flow);
  }

  /** Every flow, live or recently ended, oldest first. */
  public List<SasVerification> all() {
    List<SasVerification> out = new ArrayList<>();
    flows.values().forEach(e -> out.add(e.flow));
    return out;
  }

  /**
   * Processes one to-device event if it is a verification event; others are ignored.
   *
   * @param type the event type
   * @param sender the sending user
   * @param content the content
   * @return the flow it went to or created, if any
   */
  public Optional<SasVerification> receive(String type, String sender, ObjectNode content) {
    if (type == null || !type.startsWith(EVENT_PREFIX) || content == null) {
      return Optional.empty();
    }
    String txn = SasVerification.text(content, "transaction_id");
    if (!SasVerification.validId(sender) || !SasVerification.validId(txn)) {
      return Optional.empty();
    }
    purge();
    Entry existing = flows.get(key(sender, txn));
    if (existing != null) {
      existing.flow.receive(type, sender, content);
      noteEnded(existing);
      return Optional.of(existing.flow);
    }
    return switch (type) {
      case SasVerification.REQUEST ->
          admit(sender, content, SasVerification.fromRequest(ctx, sender, content));
      case SasVerification.START ->
          admit(sender, content, SasVerification.fromStart(ctx, sender, content));
      case SasVerification.READY -> {
        // Only ready names its device: tell it the transaction is unknown (spec). Cancel and done
        // are never answered; accept, key and mac name no device to answer.
        String from = SasVerification.text(content, "from_device");
        if (SasVerification.validId(from)) {
          ObjectNode cancel = MAPPER.createObjectNode();
          cancel.put("transaction_id", txn);
          cancel.put("code", CancelCode.UNKNOWN_TRANSACTION.wireName());
          cancel.put("reason", CancelCode.UNKNOWN_TRANSACTION.reason());
          replies.add(new VerificationMessage(sender, from, SasVerification.CANCEL, cancel));
        }
        yield Optional.empty();
      }
      default -> Optional.empty();
    };
  }

  private Optional<SasVerification> admit(
      String sender, ObjectNode content, Optional<SasVerification> created) {
    if (created.isEmpty()) {
      return Optional.empty();
    }
    SasVerification v = created.get();
    boolean duplicate = false;
    for (Entry e : flows.values()) {
      if (!e.flow.state().isFinal()
          && e.flow.otherUserId().equals(sender)
          && e.flow.otherDeviceId().equals(v.otherDeviceId())) {
        e.flow.cancel(CancelCode.UNEXPECTED_MESSAGE);
        noteEnded(e);
        duplicate = true;
      }
    }
    if (duplicate) {
      v.cancel(CancelCode.UNEXPECTED_MESSAGE);
    } else if (liveCount() >= MAX_LIVE_FLOWS) {
      return Optional.empty();
    }
    Entry entry = new Entry(v);
    flows.put(key(sender, v.flowId()), entry);
    noteEnded(entry);
    return Optional.of(v);
  }

  /**
   * Cancels flows that ran out of time ({@link SasVerification#checkTimeout}) and forgets old ones.
   */
  public void checkTimeouts() {
    for (Entry e : flows.values()) {
      e.flow.checkTimeout();
      noteEnded(e);
    }
    purge();
  }

  /** Takes every message the flows (and the registry's own answers) want sent, in order. */
  public List<VerificationMessage> drainOutgoing() {
    List<VerificationMessage> out = new ArrayList<>(replies);
    replies.clear();
    for (Entry e : flows.values()) {
      out.addAll(e.flow.drainOutgoing());
      noteEnded(e);
    }
    return out;
  }

  /**
   * The keys of flows that became verified since the last call (each flow is reported once), for
   * the caller to mark trusted.
   */
  public List<VerifiedKeys> drainVerified() {
    List<VerifiedKeys> out = new ArrayList<>();
    for (Entry e : flows.values()) {
      if (!e.reported) {
        Optional<VerifiedKeys> keys = e.flow.verifiedKeys();
        if (keys.isPresent()) {
          e.reported = true;
          out.add(keys.get());
        }
      }
    }
    return out;
  }

  private void noteEnded(Entry e) {
    if (e.endedAt < 0 && e.flow.state().isFinal()) {
      e.endedAt = ctx.now();
    }
  }

  private int liveCount() {
    int n = 0;
    for (Entry e : flows.values()) {
      if (!e.flow.state().isFinal()) {
        n++;
      }
    }
    return n;
  }

  /** Forgets ended flows past their retention, and the oldest beyond {@link #MAX_ENDED_FLOWS}. */
  private void purge() {
    long now = ctx.now();
    int ended = 0;
    for (Entry e : flows.values()) {
      noteEnded(e);
      if (e.endedAt >= 0) {
        ended++;
      }
    }
    for (Iterator<Entry> it = flows.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.endedAt < 0 || e.flow.hasOutgoing()) {
        continue;
      }
      boolean old = now - e.endedAt >= ENDED_RETENTION_MILLIS;
      boolean reportedOrFailed = e.reported || e.flow.verifiedKeys().isEmpty();
      if ((old || ended > MAX_ENDED_FLOWS) && reportedOrFailed) {
        it.remove();
        ended--;
      }
    }
  }
}
