package io.github.mxe2ee.plugin.verification;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Who may verify the bot by SAS, and how long a comparison may wait (config section {@code
 * verification:}). A request from the bot's own user is accepted if {@link #isAcceptOwnUser()}
 * (default true); from a user in {@link #getAllowedUsers()} always; every other request is
 * cancelled with {@code m.user}. A verification that shows its strings and is neither confirmed nor
 * refused within {@link #getComparisonTimeoutMs()} is cancelled with {@code m.timeout}. Mutable,
 * not thread-safe; the plugin takes a copy.
 */
public class VerificationOptions {
  /** Default: requests from the bot's own user (its operator's devices) are accepted. */
  public static final boolean DEFAULT_ACCEPT_OWN_USER = true;

  /** Default comparison timeout: 5 minutes, half of the engine's 10-minute flow timeout. */
  public static final long DEFAULT_COMPARISON_TIMEOUT_MS = 5 * 60 * 1000L;

  /** Shortest comparison timeout accepted: 10 seconds (a human must read and type). */
  public static final long MIN_COMPARISON_TIMEOUT_MS = 10_000L;

  /**
   * Longest comparison timeout accepted: 10 minutes, the engine's own flow timeout ({@code
   * SasVerification.FLOW_TIMEOUT_MILLIS}), which ends the flow anyway.
   */
  public static final long MAX_COMPARISON_TIMEOUT_MS = 10 * 60 * 1000L;

  /** Most users in the allow-list (a policy, not a directory). */
  public static final int MAX_ALLOWED_USERS = 1000;

  private boolean acceptOwnUser = DEFAULT_ACCEPT_OWN_USER;
  private List<String> allowedUsers = new ArrayList<>();
  private long comparisonTimeoutMs = DEFAULT_COMPARISON_TIMEOUT_MS;

  /** Options with every default: own user accepted, nobody else, 5 minutes to compare. */
  public VerificationOptions() {}

  /** A copy of {@code other}. */
  public VerificationOptions(VerificationOptions other) {
    this.acceptOwnUser = other.acceptOwnUser;
    this.allowedUsers = new ArrayList<>(other.allowedUsers);
    this.comparisonTimeoutMs = other.comparisonTimeoutMs;
  }

  /** Whether requests from the bot's own user are accepted. */
  public boolean isAcceptOwnUser() {
    return acceptOwnUser;
  }

  /** Sets whether requests from the bot's own user are accepted. */
  public VerificationOptions setAcceptOwnUser(boolean acceptOwnUser) {
    this.acceptOwnUser = acceptOwnUser;
    return this;
  }

  /** Other users (full user ids) whose requests are accepted; a copy. */
  public List<String> getAllowedUsers() {
    return List.copyOf(allowedUsers);
  }

  /**
   * Sets the allow-list of full user ids ({@code @name:server}).
   *
   * @throws IllegalArgumentException for an entry that is not a user id, or more than {@link
   *     #MAX_ALLOWED_USERS} entries
   */
  public VerificationOptions setAllowedUsers(List<String> allowedUsers) {
    Objects.requireNonNull(allowedUsers, "allowedUsers");
    if (allowedUsers.size() > MAX_ALLOWED_USERS) {
      throw new IllegalArgumentException("more than " + MAX_ALLOWED_USERS + " allowed users");
    }
    for (String u : allowedUsers) {
      if (u == null || !u.startsWith("@") || u.indexOf(':') < 2 || u.length() > 255) {
        throw new IllegalArgumentException("not a full user id (@name:server): " + u);
      }
    }
    this.allowedUsers = new ArrayList<>(allowedUsers);
    return this;
  }

  /** How long a verification showing its strings waits for confirm or cancel, in ms. */
  public long getComparisonTimeoutMs() {
    return comparisonTimeoutMs;
  }

  /**
   * Sets the comparison timeout.
   *
   * @throws IllegalArgumentException outside [{@link #MIN_COMPARISON_TIMEOUT_MS}, {@link
   *     #MAX_COMPARISON_TIMEOUT_MS}]
   */
  public VerificationOptions setComparisonTimeoutMs(long comparisonTimeoutMs) {
    if (comparisonTimeoutMs < MIN_COMPARISON_TIMEOUT_MS
        || comparisonTimeoutMs > MAX_COMPARISON_TIMEOUT_MS) {
      throw new IllegalArgumentException(
          "comparison timeout: expected "
              + MIN_COMPARISON_TIMEOUT_MS
              + " to "
              + MAX_COMPARISON_TIMEOUT_MS
              + " ms");
    }
    this.comparisonTimeoutMs = comparisonTimeoutMs;
    return this;
  }

  /** Whether a request from {@code userId} is accepted, the bot being {@code ownUserId}. */
  public boolean allows(String ownUserId, String userId) {
    return (acceptOwnUser && ownUserId.equals(userId)) || allowedUsers.contains(userId);
  }

  @Override
  public String toString() {
    return "VerificationOptions[acceptOwnUser="
        + acceptOwnUser
        + ", allowedUsers="
        + allowedUsers
        + ", comparisonTimeoutMs="
        + comparisonTimeoutMs
        + "]";
  }
}
