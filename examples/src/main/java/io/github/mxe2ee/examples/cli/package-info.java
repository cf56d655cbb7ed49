/**
 * The {@code mxe2ee} command-line tool for the bot's operator (docs/IDENTITY.md, "Verify a device
 * by fingerprint"): shows the bot's fingerprint and identity, and signs an own device whose
 * fingerprint the operator compared.
 */
package io.github.mxe2ee.examples.cli;
