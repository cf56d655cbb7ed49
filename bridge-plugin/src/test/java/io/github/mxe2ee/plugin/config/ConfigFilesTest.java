package io.github.mxe2ee.plugin.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.latekeys.LateKeyOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file: the shipped example, every field, and every kind of refusal. */
class ConfigFilesTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private ConfigException refused(String yaml) throws IOException {
    Path p = write("bad.yaml", yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> E2eeOptions.fromFile(p));
    assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    return e;
  }

  @Test
  void shippedExampleLoadsWithItsDocumentedValues() {
    E2eeOptions o = E2eeOptions.fromFile(Path.of("../config/mxe2ee.yaml"));
    assertEquals("http://127.0.0.1:8008", o.getHomeserverUrl());
    assertEquals("echobot", o.getLogin().getUser());
    assertEquals("ECHOBOT", o.getLogin().getDeviceId());
    assertEquals("mxe2ee.db", o.getStorePath());
    assertNull(o.getPostgresUrl());
    assertEquals(E2eeOptions.DEFAULT_PICKLE_KEY_FILE, o.getPickleKeyFile());
    assertEquals(SharingStrategy.ALL_DEVICES, o.getSharingStrategy());
    assertEquals(E2eeOptions.DEFAULT_MAX_PUMP_ROUNDS, o.getMaxPumpRounds());
    assertEquals(io.github.mxe2ee.plugin.http.RetryPolicy.DEFAULT, o.getRetryPolicy());
    assertFalse(o.isRefuseUnencrypted());
    assertEquals(io.github.mxe2ee.machine.RotationPolicy.DEFAULT, o.getRotation());
    assertEquals(
        io.github.mxe2ee.machine.KeyRequestPolicy.OWN_VERIFIED_DEVICES, o.getKeyRequestPolicy());
    assertEquals("mxe2ee.recovery-key", o.getRecoveryKeyFile());
    assertEquals("echobot-dev-password", o.getAccountPassword());
    assertEquals(E2eeOptions.DEFAULT_MAX_SYNC_BODY_BYTES, o.getMaxSyncBodyBytes());
    assertEquals(
        io.github.mxe2ee.plugin.media.MediaOptions.DEFAULT_MAX_UPLOAD_BYTES,
        o.getMedia().getMaxUploadBytes());
    assertEquals(
        io.github.mxe2ee.plugin.media.MediaOptions.DEFAULT_MAX_DOWNLOAD_BYTES,
        o.getMedia().getMaxDownloadBytes());
    assertEquals(LateKeyOptions.DEFAULT_HOLD_MS, o.getLateKeys().getHoldMs());
    assertEquals(LateKeyOptions.DEFAULT_MAX_HELD_EVENTS, o.getLateKeys().getMaxHeldEvents());
    assertEquals(LateKeyOptions.DEFAULT_MAX_HELD_BYTES, o.getLateKeys().getMaxHeldBytes());
    assertEquals(
        LateKeyOptions.DEFAULT_MAX_HELD_EVENTS_PER_ROOM, o.getLateKeys().getMaxHeldEventsPerRoom());
    assertEquals(
        LateKeyOptions.DEFAULT_MAX_HELD_BYTES_PER_ROOM, o.getLateKeys().getMaxHeldBytesPerRoom());
  }

  @Test
  void lateKeysSectionIsRead_andItsBoundsChecked() throws IOException {
    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "late.yaml",
                "late_keys:\n  hold_ms: 1500\n  max_held_events: 7\n  max_held_bytes: 9000\n"
                    + "  max_held_events_per_room: 2\n  max_held_bytes_per_room: 4000\n"));
    assertEquals(1500, o.getLateKeys().getHoldMs());
    assertEquals(7, o.getLateKeys().getMaxHeldEvents());
    assertEquals(9000, o.getLateKeys().getMaxHeldBytes());
    assertEquals(2, o.getLateKeys().getMaxHeldEventsPerRoom());
    assertEquals(4000, o.getLateKeys().getMaxHeldBytesPerRoom());
    assertTrue(refused("late_keys:\n  hold_ms: 600000\n").getMessage().contains("hold_ms"));
    assertTrue(refused("late_keys:\n  hold: 1\n").getMessage().contains("hold"));
  }

  @Test
  void emptySectionsKeepDefaults() throws IOException {
    E2eeOptions o = E2eeOptions.fromFile(write("min.yaml", "encryption: {}\n"));
    assertNull(o.getHomeserverUrl());
    assertNull(o.getLogin());
    assertEquals(E2eeOptions.DEFAULT_STORE_PATH, o.getStorePath());
    assertEquals(E2eeOptions.DEFAULT_SHARING_STRATEGY, o.getSharingStrategy());
  }

  @Test
  void everyFieldIsRead() throws IOException {
    Path pw = write("pw", "s3cret\n");
    Path key = write("key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n");
    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "all.yaml",
                "homeserver: https://hs.example\n"
                    + "login: {user: '@bot:hs.example', password_file: '"
                    + pw
                    + "', device_id: '007'}\n"
                    + "store: postgresql://db:5432/bot?user=bot&password=x\n"
                    + "pickle_key: {file: k.key, base64_file: '"
                    + key
                    + "'}\n"
                    + "encryption: {sharing_strategy: VERIFIED_ONLY, refuse_unencrypted: true}\n"
                    + "requests: {max_rounds: 3}\n"
                    + "identity: {recovery_key_file: /var/lib/bot/recovery}\n"
                    + "sync: {max_body_bytes: 4096}\n"
                    + "media: {max_upload_bytes: 10, max_download_bytes: 20,"
                    + " idle_timeout_ms: 30, temp_dir: /tmp/x}\n"));
    assertEquals("https://hs.example", o.getHomeserverUrl());
    assertEquals("@bot:hs.example", o.getLogin().getUser());
    assertEquals("s3cret", o.getLogin().getPassword());
    assertEquals("007", o.getLogin().getDeviceId());
    assertEquals("jdbc:postgresql://db:5432/bot?user=bot&password=x", o.getPostgresUrl());
    assertEquals("k.key", o.getPickleKeyFile());
    assertEquals("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", o.getPickleKeyBase64());
    assertEquals(SharingStrategy.VERIFIED_ONLY, o.getSharingStrategy());
    assertEquals(3, o.getMaxPumpRounds());
    assertTrue(o.isRefuseUnencrypted());
    assertEquals("/var/lib/bot/recovery", o.getRecoveryKeyFile());
    assertEquals("s3cret", o.getAccountPassword());
    assertEquals(4096, o.getMaxSyncBodyBytes());
    assertEquals(10, o.getMedia().getMaxUploadBytes());
    assertEquals(20, o.getMedia().getMaxDownloadBytes());
    assertEquals(30, o.getMedia().getIdleTimeoutMs());
    assertEquals("/tmp/x", o.getMedia().getTempDir());
    assertEquals("media.max_download_bytes", refused("media: {max_download_bytes: 0}\n").field());
    String shown = o.toString();
    assertFalse(shown.contains("s3cret"), shown);
    assertFalse(shown.contains("password=x"), shown);
    assertFalse(shown.contains("AAECAw"), shown);
  }

  @Test
  void retryPolicyIsRead_andAnInvertedBackoffRangeRefused() throws IOException {
    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "retry.yaml",
                "requests: {retry_max_attempts: 3, retry_initial_backoff_ms: 100,"
                    + " retry_max_backoff_ms: 900, retry_max_total_ms: 5000}\n"));
    assertEquals(
        new io.github.mxe2ee.plugin.http.RetryPolicy(
            3, 100, 900, 5000, io.github.mxe2ee.plugin.http.RetryPolicy.DEFAULT_JITTER),
        o.getRetryPolicy());
    assertEquals(
        "requests.retry_max_backoff_ms",
        refused("requests: {retry_initial_backoff_ms: 1000, retry_max_backoff_ms: 10}\n").field());
    assertEquals(
        "requests.retry_max_attempts", refused("requests: {retry_max_attempts: 0}\n").field());
  }

  @Test
  void jsonFileAndJsonObjectAreAccepted() throws IOException {
    String json =
        "{\"homeserver\":\"http://h\",\"login\":{\"access_token\":\"t\",\"device_id\":\"D\"},"
            + "\"store\":\"sqlite:/var/lib/bot/x.db\"}";
    E2eeOptions fromFile = E2eeOptions.fromFile(write("c.json", json));
    E2eeOptions fromObject = E2eeOptions.fromJson(new JsonObject(json));
    for (E2eeOptions o : new E2eeOptions[] {fromFile, fromObject}) {
      assertEquals("t", o.getLogin().getAccessToken());
      assertEquals("/var/lib/bot/x.db", o.getStorePath());
    }
  }

  @Test
  void unknownFieldsAreNamedWithTheKnownOnes() throws IOException {
    ConfigException top = refused("homeserver: http://h\nstor: sqlite:x.db\n");
    assertEquals("stor", top.field());
    assertTrue(top.getMessage().contains("known fields here: homeserver"), top.getMessage());
    ConfigException nested = refused("encryption: {sharing: all_devices}\n");
    assertEquals("encryption.sharing", nested.field());
    assertTrue(nested.getMessage().contains("sharing_strategy"), nested.getMessage());
    assertEquals("login.pasword", refused("login: {user: u, pasword: p}\n").field());
  }

  @Test
  void wrongTypesAndValuesAreRefused() throws IOException {
    assertEquals("homeserver", refused("homeserver: 8008\n").field());
    assertEquals("homeserver", refused("homeserver: matrix.example.org\n").field());
    assertEquals("login", refused("login: bot\n").field());
    ConfigException yamlNumber = refused("login: {user: u, password: p, device_id: 007}\n");
    assertEquals("login.device_id", yamlNumber.field());
    assertTrue(yamlNumber.getMessage().contains("quote it"), yamlNumber.getMessage());
    ConfigException strategy = refused("encryption: {sharing_strategy: everyone}\n");
    assertTrue(strategy.getMessage().contains("all_devices, cross_signed_only, verified_only"));
    assertEquals("requests.max_rounds", refused("requests: {max_rounds: 0}\n").field());
    assertEquals("requests.max_rounds", refused("requests: {max_rounds: 2.5}\n").field());
    assertEquals("sync.max_body_bytes", refused("sync: {max_body_bytes: 10}\n").field());
    assertEquals(
        "encryption.refuse_unencrypted",
        refused("encryption: {refuse_unencrypted: always}\n").field());
    assertEquals("store", refused("store: mysql://db/x\n").field());
    assertEquals("store", refused("store: 'sqlite:'\n").field());
    assertEquals("store", refused("store: postgresql://u:pw@db/x\n").field());
    assertEquals("login", refused("login: {user: u}\n").field());
    assertEquals("login.device_id", refused("login: {access_token: t, device_id: ''}\n").field());
  }

  @Test
  void secretsAreNeverQuotedInErrors() throws IOException {
    ConfigException both =
        refused("login: {user: u, password: hunter2, password_file: /nonexistent/pw}\n");
    assertFalse(both.getMessage().contains("hunter2"), both.getMessage());
    ConfigException typed = refused("login: {user: u, password: 123456789}\n");
    assertEquals("login.password", typed.field());
    assertFalse(typed.getMessage().contains("123456789"), typed.getMessage());
    ConfigException key = refused("pickle_key: {base64: [1, 2]}\n");
    assertFalse(key.getMessage().contains("[1,2]"), key.getMessage());
  }

  @Test
  void missingSecretFilesAreNamed() throws IOException {
    ConfigException e = refused("login: {user: u, password_file: /nonexistent/pw}\n");
    assertEquals("login.password_file", e.field());
    assertTrue(e.getMessage().contains("/nonexistent/pw"), e.getMessage());
    Path empty = write("empty", "\n");
    assertEquals(
        "login.password_file",
        refused("login: {user: u, password_file: '" + empty + "'}\n").field());
  }

  @Test
  void unreadableDocumentsNameTheFile() throws IOException {
    Path missing = dir.resolve("nope.yaml");
    ConfigException gone = assertThrows(ConfigException.class, () -> E2eeOptions.fromFile(missing));
    assertTrue(gone.getMessage().contains("does not exist"), gone.getMessage());
    assertTrue(refused("login: {user: u\n").getMessage().contains("not valid YAML (line"));
    assertTrue(refused("").getMessage().contains("is empty"));
    assertTrue(refused("- a\n- b\n").getMessage().contains("mapping"));
    Path badJson = write("bad.json", "{\"store\": }");
    ConfigException json = assertThrows(ConfigException.class, () -> E2eeOptions.fromFile(badJson));
    assertTrue(json.getMessage().contains("not valid JSON"), json.getMessage());
    assertTrue(
        refused("a: ".repeat(0) + "[".repeat(100) + "]".repeat(100))
            .getMessage()
            .contains("not valid YAML"));
  }

  @Test
  void verificationSectionSetsThePolicyAndTimeout() throws IOException {
    E2eeOptions shipped = E2eeOptions.fromFile(Path.of("../config/mxe2ee.yaml"));
    assertTrue(shipped.getVerification().isAcceptOwnUser());
    assertEquals(java.util.List.of(), shipped.getVerification().getAllowedUsers());
    assertEquals(300_000, shipped.getVerification().getComparisonTimeoutMs());

    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "v.yaml",
                "verification:\n  accept_own_user: false\n"
                    + "  allowed_users: ['@admin:example.org']\n  timeout_seconds: 60\n"));
    var v = o.getVerification();
    assertFalse(v.allows("@bot:example.org", "@bot:example.org"), "own user switched off");
    assertTrue(v.allows("@bot:example.org", "@admin:example.org"));
    assertFalse(v.allows("@bot:example.org", "@mallory:example.org"));
    assertEquals(60_000, v.getComparisonTimeoutMs());
    assertTrue(new E2eeOptions().getVerification().allows("@b:x", "@b:x"), "default: own user");
    assertFalse(new E2eeOptions().getVerification().allows("@b:x", "@other:x"), "nobody else");
  }

  @Test
  void verificationSectionRefusesBadValues() throws IOException {
    assertEquals(
        "verification.allowed_users", refused("verification: {allowed_users: [admin]}\n").field());
    assertEquals(
        "verification.allowed_users", refused("verification: {allowed_users: '@a:b'}\n").field());
    assertEquals(
        "verification.timeout_seconds", refused("verification: {timeout_seconds: 5}\n").field());
    assertEquals(
        "verification.timeout_seconds", refused("verification: {timeout_seconds: 601}\n").field());
    assertEquals(
        "verification.accept_own_user", refused("verification: {accept_own_user: 1}\n").field());
    assertEquals("verification.allow", refused("verification: {allow: []}\n").field());
  }

  @Test
  void rotationSectionIsRead_andItsLimitsChecked() throws IOException {
    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "rot.yaml",
                "encryption:\n  rotation: {max_period_ms: 86400000, max_messages: 1000}\n"));
    assertEquals(java.time.Duration.ofDays(1), o.getRotation().maxPeriod());
    assertEquals(1000, o.getRotation().maxMessages());
    // The defaults follow the lowered maxima.
    assertEquals(java.time.Duration.ofDays(1), o.getRotation().defaultPeriod());
    assertEquals(100, o.getRotation().defaultMessages());
    assertEquals(
        "encryption.rotation.max_messages",
        refused("encryption: {rotation: {max_messages: 10001}}\n").field());
    assertEquals(
        "encryption.rotation.default_messages",
        refused("encryption: {rotation: {max_messages: 50, default_messages: 60}}\n").field());
    assertEquals(
        "encryption.rotation.period", refused("encryption: {rotation: {period: 5}}\n").field());
    assertEquals(
        io.github.mxe2ee.machine.KeyRequestPolicy.NONE,
        E2eeOptions.fromFile(write("kr.yaml", "encryption: {key_requests: none}\n"))
            .getKeyRequestPolicy());
    assertEquals(
        "encryption.key_requests", refused("encryption: {key_requests: everyone}\n").field());
  }

  @Test
  void historySectionIsRead_andItsBoundsChecked() throws IOException {
    io.github.mxe2ee.plugin.history.HistoryOptions shipped =
        E2eeOptions.fromFile(Path.of("../config/mxe2ee.yaml")).getHistory();
    assertTrue(shipped.isShareOnInvite());
    assertTrue(shipped.isAcceptBundles());
    assertEquals(java.util.List.of(), shipped.getRoomsWithoutSharing());
    assertEquals(
        io.github.mxe2ee.plugin.history.HistoryOptions.DEFAULT_ACCEPT_WINDOW_MS,
        shipped.getAcceptWindowMs());
    assertEquals(
        io.github.mxe2ee.plugin.history.HistoryOptions.DEFAULT_MAX_BUNDLE_BYTES,
        shipped.getMaxBundleBytes());
    E2eeOptions o =
        E2eeOptions.fromFile(
            write(
                "history.yaml",
                "history:\n  share_on_invite: true\n  rooms_without_sharing: ['!quiet:x']\n"
                    + "  accept_bundles: false\n  accept_window_ms: 1000\n"
                    + "  max_bundle_bytes: 4096\n"));
    io.github.mxe2ee.plugin.history.HistoryOptions h = o.getHistory();
    assertTrue(h.sharesIn("!loud:x"));
    assertFalse(h.sharesIn("!quiet:x"), "off for that room");
    assertFalse(h.isAcceptBundles());
    assertEquals(1000, h.getAcceptWindowMs());
    assertEquals(4096, h.getMaxBundleBytes());
    assertFalse(
        E2eeOptions.fromFile(write("off.yaml", "history:\n  share_on_invite: false\n"))
            .getHistory()
            .sharesIn("!loud:x"),
        "off globally");
    assertTrue(
        refused("history:\n  max_bundle_bytes: 999999999\n")
            .getMessage()
            .contains("max_bundle_bytes"));
    assertTrue(
        refused("history:\n  rooms_without_sharing: ['not-a-room']\n")
            .getMessage()
            .contains("rooms_without_sharing"));
    assertTrue(refused("history:\n  share: true\n").getMessage().contains("share"));
  }
}
