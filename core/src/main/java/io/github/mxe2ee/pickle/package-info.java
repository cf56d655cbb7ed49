/**
 * The binary layout inside pickles (big-endian, libolm-compatible). Encryption of pickles is {@link
 * io.github.mxe2ee.crypto.PickleCipher}.
 */
package io.github.mxe2ee.pickle;
