package io.github.mxe2ee.plugin.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads bridge mode's options from the plugin's configuration file (the {@code appservice} section
 * of {@code config/mxe2ee.yaml}, which documents each field; the other sections give the engine
 * options, {@link ConfigFiles#read}). Strict like the rest of the file: unknown fields, wrong types
 * and values out of range are refused with the field's path.
 */
public final class AppserviceConfig {
  private AppserviceConfig() {}

  /**
   * Reads a configuration file with an {@code appservice} section.
   *
   * @throws ConfigException if the file or the section is invalid, or the section is missing
   */
  public static AppserviceOptions read(Path file) {
    AppserviceOptions options = new AppserviceOptions().setEngine(ConfigFiles.read(file));
    String source = file.toString();
    JsonNode root;
    try {
      boolean json = source.toLowerCase(Locale.ROOT).endsWith(".json");
      root =
          new ObjectMapper(json ? new JsonFactory() : new YAMLFactory())
              .readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException(source, null, "cannot be read: " + e.getClass().getSimpleName());
    }
    Section as = Section.root(source, root).section("appservice");
    if (as == null) {
      throw new ConfigException(source, "appservice", "is missing");
    }
    String homeserver = options.getEngine().getHomeserverUrl();
    if (homeserver == null) {
      throw new ConfigException(source, "homeserver", "is required in bridge mode");
    }
    options.setHomeserverUrl(homeserver);
    String registration = as.string("registration", null, false);
    if (registration != null) {
      Path reg = Path.of(registration);
      if (!reg.isAbsolute() && file.toAbsolutePath().getParent() != null) {
        reg = file.toAbsolutePath().getParent().resolve(reg);
      }
      try {
        options.readRegistration(reg);
      } catch (IllegalArgumentException e) {
        throw as.error("registration", e.getMessage());
      }
    }
    try {
      String asToken = as.string("as_token", null, true);
      if (asToken != null) {
        options.setAsToken(asToken);
      }
      String hsToken = as.string("hs_token", null, true);
      if (hsToken != null) {
        options.setHsToken(hsToken);
      }
      String bot = as.string("sender_localpart", null, false);
      if (bot != null) {
        options.setBotLocalpart(bot);
      }
      String id = as.string("id", null, false);
      if (id != null) {
        options.setAppserviceId(id);
      }
      options.setBotDeviceId(as.string("bot_device_id", null, false));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source, "appservice", e.getMessage());
    }
    options.setDeviceModel(as.choice("device_model", DeviceModel.class, DeviceModel.GHOST_DEVICES));
    options.setMaxOpenGhosts(
        (int) as.integer("max_open_ghosts", AppserviceOptions.DEFAULT_MAX_OPEN_GHOSTS, 1, 100_000));
    options.setMaxGhostSetupsInFlight(
        (int)
            as.integer(
                "max_ghost_setups_in_flight",
                AppserviceOptions.DEFAULT_MAX_GHOST_SETUPS_IN_FLIGHT,
                1,
                1000));
    options.setMaxTransactionBytes(
        as.integer(
            "max_transaction_bytes",
            AppserviceOptions.DEFAULT_MAX_TRANSACTION_BYTES,
            1024,
            1L << 30));
    options.setRememberedTransactions(
        (int)
            as.integer(
                "remembered_transactions",
                AppserviceOptions.DEFAULT_REMEMBERED_TRANSACTIONS,
                16,
                100_000));
    as.finish();
    try {
      options.validate();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source, "appservice", e.getMessage());
    }
    return options;
  }
}
