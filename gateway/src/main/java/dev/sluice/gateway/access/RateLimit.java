package dev.sluice.gateway.access;

/**
 * One NGINX {@code limit_req} limit in NGINX's own units: a leak rate in milli-requests per
 * second and a burst in requests.
 *
 * <p>ingress-nginx renders {@code limit-rps: N} as {@code limit_req_zone ... rate=Nr/s} plus
 * {@code limit_req ... burst=N*multiplier nodelay}, and {@code limit-rpm: N} the same with
 * {@code r/m}. NGINX stores the zone rate as {@code rate * 1000 / scale} (scale 1 for r/s, 60
 * for r/m, integer division), so:
 * <ul>
 *   <li>{@code perSecond(10, 5)} → rate 10_000 milli-req/s, burst 50;</li>
 *   <li>{@code perMinute(60, 5)} → rate 1_000 (one request a second), burst 300;</li>
 *   <li>{@code perMinute(1, 5)} → rate 16 (1000/60 truncated, as NGINX does), burst 5.</li>
 * </ul>
 *
 * @param milliRequestsPerSecond how fast a client's excess leaks away, in 1/1000 request per
 *                               second (NGINX {@code ctx->rate}); at least 1
 * @param burst                  how many requests above the rate are let through at once
 *                               (the {@code burst=} of {@code limit_req}); at least 0
 */
public record RateLimit(long milliRequestsPerSecond, long burst) {

    /** ingress-nginx's default {@code limit-burst-multiplier}. */
    public static final int DEFAULT_BURST_MULTIPLIER = 5;

    public RateLimit {
        if (milliRequestsPerSecond < 1) {
            throw new IllegalArgumentException("rate must be >= 1 milli-request/s: " + milliRequestsPerSecond);
        }
        if (burst < 0) {
            throw new IllegalArgumentException("burst must be >= 0: " + burst);
        }
    }

    /** {@code limit-rps: n} with {@code limit-burst-multiplier: burstMultiplier}. */
    public static RateLimit perSecond(int n, int burstMultiplier) {
        check(n, burstMultiplier);
        return new RateLimit(n * 1000L, (long) n * burstMultiplier);
    }

    /** {@code limit-rpm: n} with {@code limit-burst-multiplier: burstMultiplier}. */
    public static RateLimit perMinute(int n, int burstMultiplier) {
        check(n, burstMultiplier);
        return new RateLimit(n * 1000L / 60, (long) n * burstMultiplier);
    }

    /**
     * The burst in NGINX's internal unit (milli-requests), what {@code excess} is compared to.
     * Capped far below {@code Long.MAX_VALUE} so that {@code excess + 1000} can never overflow.
     */
    long burstMilli() {
        return burst > MAX_BURST_MILLI / 1000 ? MAX_BURST_MILLI : burst * 1000;
    }

    private static final long MAX_BURST_MILLI = Long.MAX_VALUE / 4;

    private static void check(int n, int burstMultiplier) {
        if (n < 1) {
            throw new IllegalArgumentException("requests per interval must be >= 1: " + n);
        }
        if (burstMultiplier < 1) {
            throw new IllegalArgumentException("burst multiplier must be >= 1: " + burstMultiplier);
        }
    }
}
