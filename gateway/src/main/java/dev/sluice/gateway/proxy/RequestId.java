package dev.sluice.gateway.proxy;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A random 128-bit request id, as NGINX's {@code $request_id}: 32 lowercase hex digits, read
 * as characters straight from the two numbers. Every proxied request gets one for its
 * {@code X-Request-ID}; kept as the numbers, it is one small object instead of a byte array and
 * a string, and becomes a {@code String} only when something logs it.
 *
 * <pre>{@code
 * new RequestId(0x0123456789abcdefL, 0xfedcba9876543210L).toString()
 *     // "0123456789abcdeffedcba9876543210"
 * }</pre>
 */
record RequestId(long high, long low) implements CharSequence {
    private static final int DIGITS = 32;

    static RequestId random() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new RequestId(r.nextLong(), r.nextLong());
    }

    @Override
    public int length() {
        return DIGITS;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= DIGITS) {
            throw new IndexOutOfBoundsException(index);
        }
        long half = index < 16 ? high : low;
        int nibble = (int) (half >>> ((15 - (index & 15)) << 2)) & 0xf;
        return (char) (nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return toString().subSequence(start, end);
    }

    @Override
    public String toString() {
        char[] digits = new char[DIGITS];
        for (int i = 0; i < DIGITS; i++) {
            digits[i] = charAt(i);
        }
        return new String(digits);
    }
}
