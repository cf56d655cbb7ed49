/**
 * mxe2ee core: pure Java Olm, Megolm and the sans-I/O Matrix end-to-end encryption machine. This
 * module performs no network I/O and never depends on Vert.x.
 */
package io.github.mxe2ee;
