/**
 * Devices and cross-signing identities: parsing and checking published keys, the {@code
 * /keys/query} rules, and trust. Spec: {@code end_to_end_encryption.md}, "Key Distribution" and
 * "Cross-signing".
 */
package io.github.mxe2ee.device;
