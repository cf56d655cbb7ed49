package io.github.mxe2ee.crypto.curve;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A decoded Ed25519 public key that verifies signatures (RFC 8032 section 5.1.7).
 *
 * <p><b>Equation.</b> A signature {@code R || S} on message M verifies if {@code S < L} and the
 * encoding of {@code [S]B - [k]A}, with {@code k = SHA-512(R || A || M) mod L}, equals the 32 bytes
 * of R. This is the cofactorless check of the RFC (section 5.1.7 allows it); comparing encodings
 * also rejects every non-canonical R, since an encoding we compute is canonical.
 *
 * <p><b>Method.</b> {@code [S]B - [k]A} is one interleaved (Straus) double-scalar multiplication
 * with width-7 NAF digits for S against static tables of odd multiples of B, and width-5 NAF digits
 * for k against odd multiples of A. A key that verifies more than once (a Megolm session's signing
 * key checks every message of the session) also gets tables for {@code 2^64 A}, {@code 2^128 A} and
 * {@code 2^192 A}, built on its second use: the scalars are then cut into four 64-bit pieces
 * processed together, so 64 doublings replace 256. Verification handles only public data and is
 * variable time.
 *
 * <p>Immutable after construction apart from that lazily built table (published safely; two threads
 * racing to build it build equal tables); thread-safe.
 */
public final class VerificationKey {
  private static final int CHUNKS = 4;
  private static final int CHUNK_BITS = 64;
  private static final int A_WIDTH = 5;
  private static final int B_WIDTH = 7;

  /**
   * Verifications with the single table before the key builds its chunk tables. The tables cost
   * about as much as one and a half verifications and save about half of each later one, so they
   * pay off from the third use on; a device key checks two or three signatures (its own, a one-time
   * key's) and never needs them, a Megolm session key checks every message.
   */
  private static final int TABLES_AFTER_USES = 3;

  /** Odd multiples {@code (2i+1)·2^(64c)·B}, i < 32, in affine form. */
  private static final EdwardsPoint.Precomputed[][] B_TABLES = baseTables();

  private final byte[] encoded;
  private final EdwardsPoint.Cached[] singleTable;
  private volatile EdwardsPoint.Cached[][] chunkTables;

  /** Verifications so far, counted until the tables are built (races only delay the build). */
  private volatile int uses;

  private VerificationKey(byte[] encoded, EdwardsPoint a) {
    this.encoded = encoded;
    this.singleTable = oddMultiples(a, 1 << (A_WIDTH - 2));
  }

  /**
   * Decodes a 32-byte public key (RFC 8032 section 5.1.3) and refuses the eight points of small
   * order (the neutral element among them), for which any signature on any message with a matching
   * small-order R would verify. Points with a small-order component on top of a proper one are
   * accepted, as RFC 8032 and the other Matrix implementations accept them.
   *
   * @return the key, or null if the bytes are not the canonical encoding of a curve point or encode
   *     a point of small order
   */
  public static VerificationKey decode(byte[] encoded) {
    if (encoded.length != 32) {
      throw new IllegalArgumentException(
          "Ed25519 public key must be 32 bytes but was " + encoded.length);
    }
    EdwardsPoint a = new EdwardsPoint();
    if (!EdwardsPoint.decode(encoded, 0, a) || hasSmallOrder(a)) {
      return null;
    }
    return new VerificationKey(encoded.clone(), a);
  }

  /** True if {@code [8]P} is the neutral element, i.e. P lies in the torsion subgroup. */
  private static boolean hasSmallOrder(EdwardsPoint p) {
    EdwardsPoint q = new EdwardsPoint();
    q.set(p);
    q.doubleTimes(3);
    // [8]P is in the prime-order subgroup, where x = 0 only at the neutral element (0, 1).
    return Field25519.isZero(q.x);
  }

  /**
   * Verifies the 64-byte {@code signature} (at {@code sigOff}) on {@code message[off, off+len)}.
   *
   * @return true if the signature is valid for this key
   */
  public boolean verify(byte[] signature, int sigOff, byte[] message, int off, int len) {
    if (!Scalar25519.isCanonical(signature, sigOff + 32)) {
      return false;
    }
    MessageDigest md = EdDsa.sha512();
    md.update(signature, sigOff, 32);
    md.update(encoded);
    md.update(message, off, len);
    byte[] k = Scalar25519.reduce(md.digest());
    byte[] s = Arrays.copyOfRange(signature, sigOff + 32, sigOff + 64);
    byte[] kNaf = Scalar25519.nonAdjacentForm(k, A_WIDTH);
    byte[] sNaf = Scalar25519.nonAdjacentForm(s, B_WIDTH);
    EdwardsPoint r = new EdwardsPoint();
    EdwardsPoint.Cached[][] tables = chunkTables;
    if (tables == null && uses++ >= TABLES_AFTER_USES) {
      tables = buildChunkTables();
      chunkTables = tables;
    }
    if (tables != null) {
      straus(kNaf, sNaf, tables, CHUNKS, CHUNK_BITS, r);
    } else {
      straus(kNaf, sNaf, new EdwardsPoint.Cached[][] {singleTable}, 1, 256, r);
    }
    byte[] computed = new byte[32];
    r.encodePublic(computed, 0);
    return Arrays.equals(computed, 0, 32, signature, sigOff, sigOff + 32);
  }

  /**
   * {@code r = [s]B - [k]A} from the NAF digits, cut into {@code chunks} pieces of {@code bits}
   * positions: piece c uses the tables of {@code 2^(bits·c)} times the point.
   */
  private static void straus(
      byte[] kNaf,
      byte[] sNaf,
      EdwardsPoint.Cached[][] aTables,
      int chunks,
      int bits,
      EdwardsPoint r) {
    int pending = -1; // doublings owed; -1 while r is still the neutral element
    for (int j = bits - 1; j >= 0; j--) {
      if (pending >= 0) {
        pending++;
      }
      boolean any = false;
      for (int c = 0; c < chunks && !any; c++) {
        any = kNaf[c * bits + j] != 0 || sNaf[c * bits + j] != 0;
      }
      if (!any) {
        continue;
      }
      if (pending > 0) {
        r.doubleTimes(pending);
      }
      pending = 0;
      for (int c = 0; c < chunks; c++) {
        int kd = kNaf[c * bits + j];
        if (kd > 0) {
          r.sub(aTables[c][kd >>> 1]);
        } else if (kd < 0) {
          r.add(aTables[c][(-kd) >>> 1]);
        }
        int sd = sNaf[c * bits + j];
        if (sd > 0) {
          r.add(B_TABLES[c][sd >>> 1]);
        } else if (sd < 0) {
          r.sub(B_TABLES[c][(-sd) >>> 1]);
        }
      }
    }
    if (pending > 0) {
      r.doubleTimes(pending);
    }
  }

  private EdwardsPoint.Cached[][] buildChunkTables() {
    EdwardsPoint a = new EdwardsPoint();
    if (!EdwardsPoint.decode(encoded, 0, a)) {
      throw new IllegalStateException("a decoded key no longer decodes");
    }
    EdwardsPoint.Cached[][] tables = new EdwardsPoint.Cached[CHUNKS][];
    for (int c = 0; c < CHUNKS; c++) {
      tables[c] = c == 0 ? singleTable : oddMultiples(a, 1 << (A_WIDTH - 2));
      if (c + 1 < CHUNKS) {
        a.doubleTimes(CHUNK_BITS);
      }
    }
    return tables;
  }

  /** {@code P, 3P, 5P, ..., (2n-1)P} in cached form. */
  private static EdwardsPoint.Cached[] oddMultiples(EdwardsPoint p, int n) {
    EdwardsPoint.Cached[] table = new EdwardsPoint.Cached[n];
    EdwardsPoint twice = new EdwardsPoint();
    twice.set(p);
    twice.doublePoint();
    EdwardsPoint.Cached twiceCached = new EdwardsPoint.Cached();
    twice.toCached(twiceCached);
    EdwardsPoint multiple = new EdwardsPoint();
    multiple.set(p);
    for (int i = 0; i < n; i++) {
      table[i] = new EdwardsPoint.Cached();
      multiple.toCached(table[i]);
      multiple.add(twiceCached);
    }
    return table;
  }

  private static EdwardsPoint.Precomputed[][] baseTables() {
    int n = 1 << (B_WIDTH - 2);
    EdwardsPoint.Precomputed[][] tables = new EdwardsPoint.Precomputed[CHUNKS][n];
    EdwardsPoint chunkBase = EdwardsPoint.base();
    EdwardsPoint multiple = new EdwardsPoint();
    EdwardsPoint twice = new EdwardsPoint();
    EdwardsPoint.Cached twiceCached = new EdwardsPoint.Cached();
    for (int c = 0; c < CHUNKS; c++) {
      twice.set(chunkBase);
      twice.doublePoint();
      twice.toCached(twiceCached);
      multiple.set(chunkBase);
      for (int i = 0; i < n; i++) {
        tables[c][i] = new EdwardsPoint.Precomputed();
        multiple.toPrecomputed(tables[c][i]);
        multiple.add(twiceCached);
      }
      chunkBase.doubleTimes(CHUNK_BITS);
    }
    return tables;
  }
}
