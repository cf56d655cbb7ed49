package io.github.mxe2ee.plugin.verification;

import io.github.mxe2ee.sas.SasState;
import io.vertx.core.Future;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One SAS verification as the plugin shows it: an immutable snapshot of the flow (its id, the other
 * user and device, the state, the emoji and decimals once both keys are known, the cancel code once
 * cancelled), with actions that act on the live flow. The plugin hands a new snapshot to the
 * verification handler each time the state changes ({@code MatrixE2ee#verificationHandler}).
 *
 * <p>Compare {@link #decimals()} or {@link #emoji()} with the other device's in {@link
 * SasState#KEYS_EXCHANGED}, then {@link #confirm()} or {@link #mismatch()}. {@link #toString()}
 * names the flow, the other device and the state only.
 */
public final class Verification {

  /**
   * One emoji of the SAS (spec: "SAS method: emoji").
   *
   * @param symbol the emoji itself
   * @param name its name in the spec's table (English), e.g. {@code Dog}
   */
  public record Emoji(String symbol, String name) {
    /** Checks non-null fields. */
    public Emoji {
      Objects.requireNonNull(symbol, "symbol");
      Objects.requireNonNull(name, "name");
    }
  }

  /** The live flow behind a snapshot; implemented by {@link VerificationService}. */
  interface Actions {
    Future<Void> confirm(Verification v);

    Future<Void> mismatch(Verification v);

    Future<Void> cancel(Verification v);
  }

  private final String flowId;
  private final String otherUserId;
  private final String otherDeviceId;
  private final SasState state;
  private final boolean weStarted;
  private final List<Emoji> emoji;
  private final List<Integer> decimals;
  private final String cancelCode;
  private final Actions actions;

  Verification(
      String flowId,
      String otherUserId,
      String otherDeviceId,
      SasState state,
      boolean weStarted,
      List<Emoji> emoji,
      List<Integer> decimals,
      String cancelCode,
      Actions actions) {
    this.flowId = Objects.requireNonNull(flowId, "flowId");
    this.otherUserId = Objects.requireNonNull(otherUserId, "otherUserId");
    this.otherDeviceId = otherDeviceId;
    this.state = Objects.requireNonNull(state, "state");
    this.weStarted = weStarted;
    this.emoji = List.copyOf(emoji);
    this.decimals = List.copyOf(decimals);
    this.cancelCode = cancelCode;
    this.actions = actions;
  }

  /** The flow id: the {@code transaction_id} of the verification's to-device messages. */
  public String flowId() {
    return flowId;
  }

  /** The other user. */
  public String otherUserId() {
    return otherUserId;
  }

  /** The other device; null only before a start without a request named it. */
  public String otherDeviceId() {
    return otherDeviceId;
  }

  /** The state when this snapshot was taken. */
  public SasState state() {
    return state;
  }

  /** True if the bot requested this verification ({@code MatrixE2ee#startVerification}). */
  public boolean weStarted() {
    return weStarted;
  }

  /**
   * The seven emoji, in order, once both keys are known and both sides offered emoji; else empty.
   */
  public List<Emoji> emoji() {
    return emoji;
  }

  /** The three numbers (1000 to 9191), once both keys are known; else empty. */
  public List<Integer> decimals() {
    return decimals;
  }

  /** The cancel code ({@code m.user}, {@code m.mismatched_sas}, ...) once cancelled. */
  public Optional<String> cancelCode() {
    return Optional.ofNullable(cancelCode);
  }

  /**
   * The strings match: sends our MAC. The flow ends {@link SasState#DONE} when the other side's MAC
   * also matched; the device is then verified (and signed, see docs/VERIFICATION.md).
   *
   * @return fails with {@link IllegalStateException} if the flow is not (any more) in {@link
   *     SasState#KEYS_EXCHANGED}
   */
  public Future<Void> confirm() {
    return actions.confirm(this);
  }

  /** The strings differ: cancels with {@code m.mismatched_sas}. Same failures as confirm(). */
  public Future<Void> mismatch() {
    return actions.mismatch(this);
  }

  /** Cancels with {@code m.user}; does nothing for an ended flow. */
  public Future<Void> cancel() {
    return actions.cancel(this);
  }

  @Override
  public String toString() {
    return "Verification["
        + flowId
        + " with "
        + otherUserId
        + "/"
        + otherDeviceId
        + " "
        + state
        + (cancelCode == null ? "" : " " + cancelCode)
        + "]";
  }
}
