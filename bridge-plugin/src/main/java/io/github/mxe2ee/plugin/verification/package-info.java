/**
 * Interactive (SAS) verification through the plugin (docs/VERIFICATION.md, "Through the plugin"):
 * {@link io.github.mxe2ee.plugin.verification.Verification} values with their emoji and decimals
 * and {@code confirm()}/{@code cancel()}, the policy of who may verify the bot ({@link
 * io.github.mxe2ee.plugin.verification.VerificationOptions}), and the service that applies it.
 */
package io.github.mxe2ee.plugin.verification;
