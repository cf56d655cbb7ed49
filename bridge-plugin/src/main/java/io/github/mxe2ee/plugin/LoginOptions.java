package io.github.mxe2ee.plugin;

import java.util.Objects;

/**
 * How a bot logs in to its homeserver: a user with a password, or an existing access token, and the
 * device id to use. A mutable data object in the Vert.x style (copy constructor, fluent setters);
 * not thread-safe.
 *
 * <p>Reuse one device id for the life of a bot: the device id names the crypto identity in the
 * store, and a new device id on every start makes every peer see a new, unverified device (Matrix
 * Client-Server API, "Login": {@code device_id}). {@link #toString()} never shows the password or
 * the token.
 */
public class LoginOptions {
  private String user;
  private String password;
  private String accessToken;
  private String deviceId;

  /** Empty options: set a user and a password, or an access token. */
  public LoginOptions() {}

  /** A copy of {@code other}. */
  public LoginOptions(LoginOptions other) {
    this.user = other.user;
    this.password = other.password;
    this.accessToken = other.accessToken;
    this.deviceId = other.deviceId;
  }

  /** The user: localpart or full user id; null when logging in by access token. */
  public String getUser() {
    return user;
  }

  /** Sets the user (localpart or full user id). */
  public LoginOptions setUser(String user) {
    this.user = user;
    return this;
  }

  /** The password for {@code m.login.password}; secret. */
  public String getPassword() {
    return password;
  }

  /** Sets the password; secret, never printed. */
  public LoginOptions setPassword(String password) {
    this.password = password;
    return this;
  }

  /** An existing access token used instead of a password login; secret. */
  public String getAccessToken() {
    return accessToken;
  }

  /** Sets an existing access token; secret, never printed. */
  public LoginOptions setAccessToken(String accessToken) {
    this.accessToken = accessToken;
    return this;
  }

  /** The device id to log in with, or null to let the server create one (discouraged). */
  public String getDeviceId() {
    return deviceId;
  }

  /** Sets the device id to log in with. */
  public LoginOptions setDeviceId(String deviceId) {
    this.deviceId = deviceId;
    return this;
  }

  /**
   * Checks that the options can log in: a user and a password, or an access token.
   *
   * @throws IllegalArgumentException naming what is missing
   */
  public LoginOptions validate() {
    if (accessToken == null && (user == null || password == null)) {
      throw new IllegalArgumentException("login needs a user and a password, or an access token");
    }
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LoginOptions l
        && Objects.equals(user, l.user)
        && Objects.equals(password, l.password)
        && Objects.equals(accessToken, l.accessToken)
        && Objects.equals(deviceId, l.deviceId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(user, deviceId);
  }

  @Override
  public String toString() {
    return "LoginOptions[user="
        + user
        + ", device="
        + deviceId
        + ", password="
        + (password == null ? "unset" : "set")
        + ", accessToken="
        + (accessToken == null ? "unset" : "set")
        + "]";
  }
}
