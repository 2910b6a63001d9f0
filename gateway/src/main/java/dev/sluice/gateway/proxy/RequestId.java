package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
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
    /** The two hex digits of every byte value, as the big-endian short written for it. */
    private static final short[] HEX_PAIRS = new short[256];

    static {
        byte[] hex = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        for (int b = 0; b < 256; b++) {
            HEX_PAIRS[b] = (short) ((hex[b >>> 4] << 8) | hex[b & 0xf]);
        }
    }

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

    /**
     * Writes the 32 digits at {@code index} of {@code buf} (which has the room) without going
     * through {@link #charAt}: a header block writes one per request.
     */
    void writeTo(ByteBuf buf, int index) {
        buf.setLong(index, digits((int) (high >>> 32)));
        buf.setLong(index + 8, digits((int) high));
        buf.setLong(index + 16, digits((int) (low >>> 32)));
        buf.setLong(index + 24, digits((int) low));
    }

    /** The 8 hex digits of {@code word} as the big-endian long that holds their bytes. */
    private static long digits(int word) {
        return (long) (HEX_PAIRS[word >>> 24] & 0xffff) << 48 | (long) (HEX_PAIRS[(word >>> 16) & 0xff] & 0xffff) << 32
                | (long) (HEX_PAIRS[(word >>> 8) & 0xff] & 0xffff) << 16 | HEX_PAIRS[word & 0xff] & 0xffff;
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
