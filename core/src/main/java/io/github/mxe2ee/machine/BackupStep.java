package io.github.mxe2ee.machine;

import java.util.List;
import java.util.Objects;

/**
 * What {@link OlmMachine#bootstrapKeyBackup} asks of its caller next (docs/KEY_BACKUP.md): send
 * some requests and call again, or stop because room keys now go to a trusted backup version, or
 * because no version can be trusted. Values carry versions and reasons only, never keys.
 */
public sealed interface BackupStep {
  /**
   * Send every request (the order inside one step does not matter), feed each answer back with
   * {@code markRequestAsSent} or {@code markRequestAsFailed} (a 404 of a {@link
   * RequestType#BACKUP_VERSION_GET} or an {@link RequestType#ACCOUNT_DATA_GET} means "absent"),
   * then call {@link OlmMachine#bootstrapKeyBackup} again.
   *
   * @param requests at least one request
   */
  record Send(List<OutgoingRequest> requests) implements BackupStep {
    /** Copies the list. */
    public Send {
      requests = List.copyOf(requests);
    }
  }

  /**
   * Backup is on: room keys go to {@code version}, whose public key is the backup key kept in
   * secret storage under the recovery key and in this store; the version's {@code auth_data} is
   * signed by our master key (and this device, if we created it).
   *
   * @param version the backup version room keys are uploaded to
   * @param created true if this run created the version
   */
  record Enabled(String version, boolean created) implements BackupStep {
    /** Validates non-null fields. */
    public Enabled {
      Objects.requireNonNull(version, "version");
    }
  }

  /**
   * Backup stays off (nothing is uploaded): the server's version is not one we can trust (not
   * signed by our identity, or its key is not the one in secret storage), secret storage is not set
   * up, or a request failed. Nothing on the server was replaced. Calling {@link
   * OlmMachine#bootstrapKeyBackup} again starts over from the server's state.
   *
   * @param reason a message for the operator, without secrets
   */
  record Disabled(String reason) implements BackupStep {
    /** Validates non-null fields. */
    public Disabled {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
