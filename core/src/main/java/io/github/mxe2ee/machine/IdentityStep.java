package io.github.mxe2ee.machine;

import java.util.List;
import java.util.Objects;

/**
 * What {@link OlmMachine#bootstrapIdentity} asks of its caller next (docs/IDENTITY.md): send some
 * requests and call again, or stop because the identity is in place or cannot safely be. Values
 * carry public keys and reasons only, never private keys or the recovery key.
 */
public sealed interface IdentityStep {
  /**
   * Send every request (the order inside one step does not matter), feed each answer back with
   * {@code markRequestAsSent} or {@code markRequestAsFailed} (a 404 of an {@link
   * RequestType#ACCOUNT_DATA_GET} means "absent"), then call {@link OlmMachine#bootstrapIdentity}
   * again. A {@link RequestType#SIGNING_KEYS_UPLOAD} may need user-interactive auth: the caller
   * adds the {@code auth} object on the 401 retry; the machine never sees the password.
   *
   * @param requests at least one request
   */
  record Send(List<OutgoingRequest> requests) implements IdentityStep {
    /** Copies the list. */
    public Send {
      requests = List.copyOf(requests);
    }
  }

  /**
   * The identity is on the server, its private keys are in this store and in secret storage under
   * the recovery key, and this device is signed by its self-signing key.
   *
   * @param masterKey our master public key, unpadded base64
   * @param source where this run took the private keys from
   */
  record Done(String masterKey, Source source) implements IdentityStep {
    /** Validates non-null fields. */
    public Done {
      Objects.requireNonNull(masterKey, "masterKey");
      Objects.requireNonNull(source, "source");
    }
  }

  /**
   * Nothing more is done, because continuing could replace or lose an identity, or a request
   * failed; the reason says which and what the operator can do. Nothing was overwritten. Calling
   * {@link OlmMachine#bootstrapIdentity} again starts over from the server's state.
   *
   * @param reason a message for the operator, without secrets
   */
  record Refused(String reason) implements IdentityStep {
    /** Validates non-null fields. */
    public Refused {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** Where the private keys of a finished bootstrap came from. */
  enum Source {
    /** This device created a new identity in this run. */
    CREATED,
    /** Restored from secret storage with the recovery key (a new device or a lost store). */
    RESTORED,
    /** Already in this device's store (a restart, possibly resuming a half-finished bootstrap). */
    STORE
  }
}
