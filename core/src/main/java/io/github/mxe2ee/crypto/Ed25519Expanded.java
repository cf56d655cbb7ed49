package io.github.mxe2ee.crypto;

import java.math.BigInteger;
import java.security.MessageDigest;

/**
 * RFC 8032 Ed25519 signing from an expanded private key (scalar {@code a} || prefix), which Bouncy
 * Castle's API does not offer because it only takes seeds. Only keys imported from libolm pickles
 * use it: keys mxe2ee creates are seeds and sign on Bouncy Castle's code.
 *
 * <p>Arithmetic is on {@link BigInteger} in extended twisted Edwards coordinates (Hisil et al.,
 * "add-2008-hwcd-3"). It is correct but neither fast (about a millisecond per signature) nor
 * constant-time; accounts imported from libolm sign rarely (device keys, one-time keys), and
 * operators who worry about timing can rotate to a fresh device.
 */
final class Ed25519Expanded {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private static final BigInteger D =
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
  private static final BigInteger D2 = D.shiftLeft(1).mod(P);
  private static final BigInteger SQRT_M1 =
      BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);
  private static final BigInteger[] BASE = basePoint();

  private Ed25519Expanded() {}

  static byte[] publicKey(byte[] expanded) {
    return encode(multiply(BASE, leToInt(expanded, 0, 32)));
  }

  static byte[] sign(byte[] expanded, byte[] publicKey, byte[] message) {
    BigInteger a = leToInt(expanded, 0, 32);
    MessageDigest sha512 = Sha256.newDigest("SHA-512");
    sha512.update(expanded, 32, 32);
    sha512.update(message);
    BigInteger r = leToInt(sha512.digest(), 0, 64).mod(L);
    byte[] rEncoded = encode(multiply(BASE, r));
    sha512.update(rEncoded);
    sha512.update(publicKey);
    sha512.update(message);
    BigInteger k = leToInt(sha512.digest(), 0, 64).mod(L);
    BigInteger s = r.add(k.multiply(a)).mod(L);
    byte[] sig = new byte[64];
    System.arraycopy(rEncoded, 0, sig, 0, 32);
    System.arraycopy(intToLe(s), 0, sig, 32, 32);
    return sig;
  }

  /** Point as {X, Y, Z, T} with x = X/Z, y = Y/Z, xy = T/Z. */
  private static BigInteger[] add(BigInteger[] p, BigInteger[] q) {
    BigInteger a = p[1].subtract(p[0]).multiply(q[1].subtract(q[0])).mod(P);
    BigInteger b = p[1].add(p[0]).multiply(q[1].add(q[0])).mod(P);
    BigInteger c = p[3].multiply(D2).multiply(q[3]).mod(P);
    BigInteger d = p[2].shiftLeft(1).multiply(q[2]).mod(P);
    BigInteger e = b.subtract(a);
    BigInteger f = d.subtract(c);
    BigInteger g = d.add(c);
    BigInteger h = b.add(a);
    return new BigInteger[] {
      e.multiply(f).mod(P), g.multiply(h).mod(P), f.multiply(g).mod(P), e.multiply(h).mod(P)
    };
  }

  private static BigInteger[] multiply(BigInteger[] point, BigInteger scalar) {
    BigInteger[] result = {BigInteger.ZERO, BigInteger.ONE, BigInteger.ONE, BigInteger.ZERO};
    for (int i = scalar.bitLength() - 1; i >= 0; i--) {
      result = add(result, result);
      if (scalar.testBit(i)) {
        result = add(result, point);
      }
    }
    return result;
  }

  private static byte[] encode(BigInteger[] point) {
    BigInteger zInv = point[2].modInverse(P);
    BigInteger x = point[0].multiply(zInv).mod(P);
    BigInteger y = point[1].multiply(zInv).mod(P);
    byte[] out = intToLe(y);
    if (x.testBit(0)) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  private static BigInteger[] basePoint() {
    BigInteger y = BigInteger.valueOf(4).multiply(BigInteger.valueOf(5).modInverse(P)).mod(P);
    BigInteger y2 = y.multiply(y);
    BigInteger x2 =
        y2.subtract(BigInteger.ONE)
            .multiply(D.multiply(y2).add(BigInteger.ONE).modInverse(P))
            .mod(P);
    BigInteger x = x2.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (!x.multiply(x).subtract(x2).mod(P).equals(BigInteger.ZERO)) {
      x = x.multiply(SQRT_M1).mod(P);
    }
    if (x.testBit(0)) {
      x = P.subtract(x);
    }
    return new BigInteger[] {x, y, BigInteger.ONE, x.multiply(y).mod(P)};
  }

  private static BigInteger leToInt(byte[] bytes, int off, int len) {
    byte[] be = new byte[len + 1];
    for (int i = 0; i < len; i++) {
      be[len - i] = bytes[off + i];
    }
    return new BigInteger(be);
  }

  private static byte[] intToLe(BigInteger value) {
    byte[] be = value.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    return le;
  }
}
