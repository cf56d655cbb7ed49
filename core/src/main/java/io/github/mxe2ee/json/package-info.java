/** Canonical JSON and JSON signing, per the Matrix spec appendix. */
package io.github.mxe2ee.json;
