package dev.sluice.gateway.balance;

import java.nio.charset.StandardCharsets;

/**
 * MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm) over the UTF-8 bytes of a
 * string: fast, well mixed, and stable across JVMs and releases, which is all a hash ring needs.
 * Not for security.
 */
final class Murmur3 {
    private static final int C1 = 0xcc9e2d51;
    private static final int C2 = 0x1b873593;

    private Murmur3() {}

    static int hash32(String s) {
        return hash32(s.getBytes(StandardCharsets.UTF_8), 0);
    }

    static int hash32(byte[] data, int seed) {
        final int len = data.length;
        final int blocks = len & ~3;
        int h1 = seed;
        for (int i = 0; i < blocks; i += 4) {
            int k1 = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16 | data[i + 3] << 24;
            h1 ^= mixK1(k1);
            h1 = Integer.rotateLeft(h1, 13);
            h1 = h1 * 5 + 0xe6546b64;
        }
        int k1 = 0;
        switch (len & 3) {
            case 3:
                k1 ^= (data[blocks + 2] & 0xff) << 16;
                // fall through
            case 2:
                k1 ^= (data[blocks + 1] & 0xff) << 8;
                // fall through
            case 1:
                k1 ^= data[blocks] & 0xff;
                h1 ^= mixK1(k1);
                break;
            default:
                break;
        }
        h1 ^= len;
        h1 ^= h1 >>> 16;
        h1 *= 0x85ebca6b;
        h1 ^= h1 >>> 13;
        h1 *= 0xc2b2ae35;
        h1 ^= h1 >>> 16;
        return h1;
    }

    private static int mixK1(int k1) {
        k1 *= C1;
        k1 = Integer.rotateLeft(k1, 15);
        return k1 * C2;
    }
}
