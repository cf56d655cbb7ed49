package io.github.mxe2ee.interop;

/**
 * Maps a failure of the crypto core to a protocol error ({@code docs/interop-protocol.md},
 * "Errors"); returns {@code null} for exceptions it does not know, so the next mapper (and finally
 * the generic {@code Mxe2eeException.kind()} mapping) gets a chance.
 */
@FunctionalInterface
interface ErrorMapper {
  PeerException map(RuntimeException e);
}
