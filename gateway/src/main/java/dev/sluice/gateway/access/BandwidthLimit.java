package dev.sluice.gateway.access;

import java.math.BigInteger;

/**
 * NGINX's {@code limit_rate} / {@code limit_rate_after} for one response: the first
 * {@code bytesAfter} bytes go out at full speed, the rest at {@code bytesPerSecond}.
 *
 * <p>ingress-nginx renders {@code limit-rate: R} and {@code limit-rate-after: A} as
 * {@code limit_rate Rk; limit_rate_after Ak;}: both values are kilobytes, so
 * {@code ofKilobytes(100, 1024)} is 102_400 bytes/s after the first 1_048_576 bytes. A rate of
 * 0 means unlimited, as in NGINX.
 *
 * <p>{@link #delayNanos} is NGINX's pacing as a pure function: after sending, the write filter
 * waits until the bytes beyond {@code bytesAfter} have taken {@code (sent - after) / rate}
 * seconds since the response started — {@code delay = (sent - after) * 1000 / rate - elapsed}
 * in NGINX's milliseconds, here in nanoseconds, never negative. Example at 1000 bytes/s after
 * 500 bytes: 2500 bytes sent after 1 s → wait 1 s; after 2 s → no wait; 400 bytes sent → no
 * wait at all. (NGINX's write filter gets the same average by two coarser means: a budget of
 * {@code rate * (whole seconds elapsed + 1) - (sent - after)} bytes per write, and after each
 * write a sleep of {@code just-sent limited bytes / rate}; this function is the smooth form of
 * that schedule, so chunk sizes are the caller's choice rather than one second's worth.)
 *
 * @param bytesPerSecond rate for the bytes beyond {@code bytesAfter}; 0 = unlimited
 * @param bytesAfter     bytes of each response sent before the rate applies; 0 = from the start
 */
public record BandwidthLimit(long bytesPerSecond, long bytesAfter) {

    /** No bandwidth limit (NGINX {@code limit_rate 0}, ingress-nginx's default). */
    public static final BandwidthLimit UNLIMITED = new BandwidthLimit(0, 0);

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    public BandwidthLimit {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bytesPerSecond must be >= 0: " + bytesPerSecond);
        }
        if (bytesAfter < 0) {
            throw new IllegalArgumentException("bytesAfter must be >= 0: " + bytesAfter);
        }
    }

    /** From the annotation values {@code limit-rate} and {@code limit-rate-after}, in kilobytes. */
    public static BandwidthLimit ofKilobytes(long rateKb, long afterKb) {
        if (rateKb < 0 || afterKb < 0) {
            throw new IllegalArgumentException("limit-rate and limit-rate-after must be >= 0: " + rateKb + ", " + afterKb);
        }
        try {
            return new BandwidthLimit(Math.multiplyExact(rateKb, 1024L), Math.multiplyExact(afterKb, 1024L));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("limit-rate or limit-rate-after too large: " + rateKb + ", " + afterKb, e);
        }
    }

    public boolean isUnlimited() {
        return bytesPerSecond == 0;
    }

    /**
     * How long the writer must wait before sending more of a response that has sent
     * {@code bytesSentSoFar} bytes in {@code elapsedNanos} since it started; 0 = send now.
     */
    public long delayNanos(long bytesSentSoFar, long elapsedNanos) {
        long limited = bytesSentSoFar - bytesAfter;
        if (bytesPerSecond == 0 || limited <= 0) {
            return 0;
        }
        long due = dueNanos(limited);
        long delay = due - Math.max(elapsedNanos, 0); // due >= 0, elapsed >= 0: no overflow
        return Math.max(delay, 0);
    }

    /** limited * 1e9 / rate without overflow (saturating at Long.MAX_VALUE, about 292 years). */
    private long dueNanos(long limited) {
        if (limited <= Long.MAX_VALUE / NANOS_PER_SECOND) {
            return limited * NANOS_PER_SECOND / bytesPerSecond;
        }
        BigInteger due = BigInteger.valueOf(limited).multiply(BigInteger.valueOf(NANOS_PER_SECOND))
                .divide(BigInteger.valueOf(bytesPerSecond));
        return due.bitLength() < Long.SIZE ? due.longValue() : Long.MAX_VALUE;
    }
}
