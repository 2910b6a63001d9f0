package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestRateLimiterTest {

    private static final long T0 = 1_000_000;
    private static final String CLIENT = "203.0.113.7";

    private static int allowedOf(RequestRateLimiter limiter, String key, long now, int attempts) {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            if (limiter.tryAcquire(key, now)) {
                allowed++;
            }
        }
        return allowed;
    }

    @Test
    void rpsOneWithMultiplierFiveLetsSixSimultaneousRequestsThrough() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 5));
        // Rate 1000 milli-req/s, burst 5 → 5000. The new node starts at excess 0 (allowed),
        // then each request adds 1000 with no time to leak: 1000 … 5000 are all <= 5000
        // (allowed), the 7th would be 6000 > 5000. So 1 + burst = 6 pass.
        assertThat(allowedOf(limiter, CLIENT, T0, 10)).isEqualTo(6);
    }

    @Test
    void afterTheBurstOneRequestPerSecondLeaksBackIn() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 5));
        allowedOf(limiter, CLIENT, T0, 10);

        // 999 ms leak 999: 5000 - 999 + 1000 = 5001 > 5000.
        assertThat(limiter.tryAcquire(CLIENT, T0 + 999)).isFalse();
        // 1000 ms leak 1000: exactly 5000 again — one more, and only one. The denied requests
        // above (and at T0) left no trace, or this one would be refused too.
        assertThat(allowedOf(limiter, CLIENT, T0 + 1000, 5)).isEqualTo(1);
        assertThat(allowedOf(limiter, CLIENT, T0 + 3000, 5)).isEqualTo(2);
    }

    @Test
    void rpmSixtyRefillsLikeRpsOneOverTime() {
        RequestRateLimiter rpm = RequestRateLimiter.create(RateLimit.perMinute(60, 5));
        RequestRateLimiter rps = RequestRateLimiter.create(RateLimit.perSecond(1, 300));
        // ingress-nginx's rpm burst is rpm × multiplier = 300, so 301 pass at once.
        assertThat(allowedOf(rpm, CLIENT, T0, 400)).isEqualTo(301);
        assertThat(allowedOf(rps, CLIENT, T0, 400)).isEqualTo(301);
        for (long t = T0 + 250; t <= T0 + 10_000; t += 250) {
            assertThat(rpm.tryAcquire(CLIENT, t)).as("t=%d", t - T0).isEqualTo(rps.tryAcquire(CLIENT, t));
        }
        assertThat(allowedOf(rpm, CLIENT, T0 + 11_000, 5)).isEqualTo(1);
    }

    @Test
    void rpmOneLeaksSixteenMilliRequestsPerSecondAsNginxTruncates() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perMinute(1, 1));
        assertThat(allowedOf(limiter, CLIENT, T0, 3)).isEqualTo(2);
        // 16 × 62 = 992 leaked → 1000 - 992 + 1000 = 1008 > 1000; 16 × 63 = 1008 → 992.
        assertThat(limiter.tryAcquire(CLIENT, T0 + 62_000)).isFalse();
        assertThat(limiter.tryAcquire(CLIENT, T0 + 63_000)).isTrue();
    }

    @Test
    void keysAreIndependent() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 1));
        assertThat(allowedOf(limiter, "10.0.0.1", T0, 5)).isEqualTo(2);
        assertThat(allowedOf(limiter, "10.0.0.2", T0, 5)).isEqualTo(2);
        assertThat(allowedOf(limiter, "2001:db8::1", T0, 5)).isEqualTo(2);
    }

    @Test
    void emptyKeyIsNeverLimitedNorRemembered() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 1));
        assertThat(allowedOf(limiter, "", T0, 50)).isEqualTo(50);
        assertThat(limiter.trackedKeys()).isZero();
    }

    @Test
    void clockSteppingBackLeaksNothing() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 1));
        allowedOf(limiter, CLIENT, T0, 2);
        // NGINX treats a negative interval (down to -60 s) as 0 ms: no leak, no reset.
        assertThat(limiter.tryAcquire(CLIENT, T0 - 30_000)).isFalse();
        assertThat(limiter.tryAcquire(CLIENT, T0 + 1000)).isTrue();
    }

    @Test
    void concurrentCallersAtOneInstantGetExactlyTheBurst() throws Exception {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 5));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return allowedOf(limiter, CLIENT, T0, 2_000);
                }));
            }
            start.countDown();
            int allowed = 0;
            for (Future<Integer> f : results) {
                allowed += f.get(30, TimeUnit.SECONDS);
            }
            assertThat(allowed).isEqualTo(6);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void memoryStaysBoundedWhateverTheNumberOfClients() {
        RequestRateLimiter limiter = RequestRateLimiter.create(RateLimit.perSecond(1, 5));
        for (int i = 0; i < 200_000; i++) {
            limiter.tryAcquire("10." + (i >> 16) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff), T0);
        }
        assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(RequestRateLimiter.DEFAULT_MAXIMUM_KEYS);
    }

    @Test
    void idleNodesAreKeptAtLeastSixtySecondsAndUntilAFullBurstHasLeaked() {
        assertThat(RequestRateLimiter.keepMillis(RateLimit.perSecond(1, 5))).isEqualTo(60_000);
        // 5000 milli-requests at 16 per second: 312.5 s, plus a second of rounding margin.
        assertThat(RequestRateLimiter.keepMillis(RateLimit.perMinute(1, 5))).isEqualTo(313_500);
        assertThat(RequestRateLimiter.keepMillis(RateLimit.perMinute(1, Integer.MAX_VALUE))).isPositive();
    }

    @Test
    void allLimitsMustPassAndADeniedRequestIsNotCountedByTheOthers() {
        RateLimiters zones = new RateLimiters();
        RequestRateLimiter wide = zones.forZone("wide", RateLimit.perSecond(10, 1));  // 1 + 10 at once
        RequestRateLimiter narrow = zones.forZone("narrow", RateLimit.perSecond(1, 1)); // 1 + 1 at once

        int passed = 0;
        for (int i = 0; i < 5; i++) {
            if (RequestRateLimiter.tryAcquireAll(List.of(wide, narrow), CLIENT, T0)) {
                passed++;
            }
        }
        assertThat(passed).isEqualTo(2);
        // The wide zone counted only the 2 that passed everything: 11 - 2 = 9 left.
        assertThat(allowedOf(wide, CLIENT, T0, 20)).isEqualTo(9);

        // The last limiter denying must not leave a count in the earlier ones either.
        RequestRateLimiter first = RequestRateLimiter.create(RateLimit.perSecond(10, 1));
        RequestRateLimiter exhausted = RequestRateLimiter.create(RateLimit.perSecond(1, 1));
        allowedOf(exhausted, CLIENT, T0, 2);
        assertThat(RequestRateLimiter.tryAcquireAll(List.of(first, exhausted), CLIENT, T0)).isFalse();
        assertThat(allowedOf(first, CLIENT, T0, 20)).isEqualTo(11);
    }

    @Test
    void registryKeepsStateForTheSameZoneAndLimit() {
        RateLimiters registry = new RateLimiters();
        RequestRateLimiter before = registry.forZone("default_web_rps", RateLimit.perSecond(1, 5));
        allowedOf(before, CLIENT, T0, 6);

        // The table is rebuilt: same zone, same limit → same limiter, the client stays limited.
        RequestRateLimiter after = registry.forZone("default_web_rps", RateLimit.perSecond(1, 5));
        assertThat(after).isSameAs(before);
        assertThat(after.tryAcquire(CLIENT, T0)).isFalse();
    }

    @Test
    void registryAppliesAChangedLimitToTheZonesExistingStateAsNginxDoesOnReload() {
        RateLimiters registry = new RateLimiters();
        allowedOf(registry.forZone("default_web_rps", RateLimit.perSecond(1, 5)), CLIENT, T0, 6);

        // NGINX keeps a zone's nodes across a reload when its key is unchanged and applies the
        // new rate and burst to them: excess is 5000, the new burst 10 admits 5 more at once.
        RequestRateLimiter changed = registry.forZone("default_web_rps", RateLimit.perSecond(1, 10));
        assertThat(changed.limit()).isEqualTo(RateLimit.perSecond(1, 10));
        assertThat(allowedOf(changed, CLIENT, T0, 20)).isEqualTo(5);
    }

    @Test
    void registryZonesAreIndependentAndRetainZonesForgetsUnusedOnes() {
        RateLimiters registry = new RateLimiters();
        allowedOf(registry.forZone("a_rps", RateLimit.perSecond(1, 1)), CLIENT, T0, 2);
        assertThat(registry.forZone("b_rps", RateLimit.perSecond(1, 1)).tryAcquire(CLIENT, T0)).isTrue();

        registry.retainZones(Set.of("b_rps"));
        assertThat(registry.zones()).containsExactly("b_rps");
        // Zone a was dropped, as NGINX frees a zone that left the configuration.
        assertThat(registry.forZone("a_rps", RateLimit.perSecond(1, 1)).tryAcquire(CLIENT, T0)).isTrue();
    }
}
