package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {

    private static final String CLIENT = "198.51.100.4";

    @Test
    void limitTwoDeniesTheThirdUntilOneIsReleased() {
        ConnectionLimiter limiter = ConnectionLimiter.create(2);
        ConnectionLimiter.Permit first = limiter.tryAcquire(CLIENT);
        ConnectionLimiter.Permit second = limiter.tryAcquire(CLIENT);
        assertThat(first).isNotNull();
        assertThat(second).isNotNull();
        assertThat(limiter.tryAcquire(CLIENT)).isNull();
        assertThat(limiter.inFlight(CLIENT)).isEqualTo(2);

        first.release();
        assertThat(limiter.tryAcquire(CLIENT)).isNotNull();
        assertThat(limiter.tryAcquire(CLIENT)).isNull();
    }

    @Test
    void keysAreIndependent() {
        ConnectionLimiter limiter = ConnectionLimiter.create(1);
        assertThat(limiter.tryAcquire("10.0.0.1")).isNotNull();
        assertThat(limiter.tryAcquire("2001:db8::1")).isNotNull();
        assertThat(limiter.tryAcquire("10.0.0.1")).isNull();
    }

    @Test
    void releasingTwiceGivesBackOnlyOneSlot() {
        ConnectionLimiter limiter = ConnectionLimiter.create(2);
        ConnectionLimiter.Permit first = limiter.tryAcquire(CLIENT);
        limiter.tryAcquire(CLIENT);

        first.release();
        first.release();
        first.close();
        // One request is still in flight: a double release must not have freed its slot too.
        assertThat(limiter.inFlight(CLIENT)).isEqualTo(1);
        assertThat(limiter.tryAcquire(CLIENT)).isNotNull();
        assertThat(limiter.tryAcquire(CLIENT)).isNull();
    }

    @Test
    void aStaleReleaseDoesNotDriveANewCounterNegative() {
        ConnectionLimiter limiter = ConnectionLimiter.create(1);
        ConnectionLimiter.Permit old = limiter.tryAcquire(CLIENT);
        old.release();
        ConnectionLimiter.Permit current = limiter.tryAcquire(CLIENT);
        old.release();
        assertThat(current).isNotNull();
        assertThat(limiter.inFlight(CLIENT)).isEqualTo(1);
        assertThat(limiter.tryAcquire(CLIENT)).isNull();
    }

    @Test
    void entriesAreRemovedWhenTheCountDropsToZero() {
        ConnectionLimiter limiter = ConnectionLimiter.create(3);
        List<ConnectionLimiter.Permit> permits = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            permits.add(limiter.tryAcquire("10.1." + (i >> 8) + "." + (i & 0xff)));
        }
        assertThat(limiter.trackedKeys()).isEqualTo(1000);
        permits.forEach(ConnectionLimiter.Permit::release);
        assertThat(limiter.trackedKeys()).isZero();
    }

    @Test
    void emptyKeyIsNeverLimitedNorCounted() {
        ConnectionLimiter limiter = ConnectionLimiter.create(1);
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.tryAcquire("")).isNotNull();
        }
        assertThat(limiter.trackedKeys()).isZero();
    }

    @Test
    void rejectsALimitBelowOne() {
        assertThatThrownBy(() -> ConnectionLimiter.create(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ConnectionLimiters().forZone("z", -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentAcquireAndReleaseNeverExceedTheLimitAndEndAtZero() throws Exception {
        int limit = 3;
        ConnectionLimiter limiter = ConnectionLimiter.create(limit);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger maxHolding = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 20_000; i++) {
                        String key = (i & 1) == 0 ? CLIENT : "198.51.100.5";
                        ConnectionLimiter.Permit permit = limiter.tryAcquire(key);
                        if (permit == null) {
                            continue;
                        }
                        granted.incrementAndGet();
                        if (key.equals(CLIENT)) {
                            maxHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
                            holding.decrementAndGet();
                        }
                        permit.release();
                        permit.release(); // a duplicate release must be harmless under contention too
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(granted.get()).isPositive();
        assertThat(maxHolding.get()).isLessThanOrEqualTo(limit);
        assertThat(limiter.inFlight(CLIENT)).isZero();
        assertThat(limiter.trackedKeys()).isZero();
    }

    @Test
    void concurrentHoldersAreCappedAtTheLimit() throws Exception {
        ConnectionLimiter limiter = ConnectionLimiter.create(5);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<ConnectionLimiter.Permit> held = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 1000; i++) {
                        ConnectionLimiter.Permit permit = limiter.tryAcquire(CLIENT);
                        if (permit != null) {
                            held.add(permit); // never released: exactly 5 may ever be granted
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(held).hasSize(5);
        assertThat(limiter.inFlight(CLIENT)).isEqualTo(5);
    }

    @Test
    void registryReturnsTheSameLimiterForTheSameZoneAndLimit() {
        ConnectionLimiters registry = new ConnectionLimiters();
        ConnectionLimiter before = registry.forZone("default_web_conn", 2);
        before.tryAcquire(CLIENT);
        before.tryAcquire(CLIENT);
        ConnectionLimiter after = registry.forZone("default_web_conn", 2);
        assertThat(after).isSameAs(before);
        assertThat(after.tryAcquire(CLIENT)).isNull();
    }

    @Test
    void aChangedLimitStillCountsTheRequestsInFlight() {
        ConnectionLimiters registry = new ConnectionLimiters();
        ConnectionLimiter.Permit a = registry.forZone("default_web_conn", 3).tryAcquire(CLIENT);
        registry.forZone("default_web_conn", 3).tryAcquire(CLIENT);

        ConnectionLimiter lowered = registry.forZone("default_web_conn", 2);
        assertThat(lowered.limit()).isEqualTo(2);
        // Two requests are in flight: a fresh zone would have let a third one in.
        assertThat(lowered.tryAcquire(CLIENT)).isNull();
        a.release(); // a permit from before the change releases into the same counts
        assertThat(lowered.tryAcquire(CLIENT)).isNotNull();
    }

    @Test
    void registryForgetsZonesThatAreNotRetained() {
        ConnectionLimiters registry = new ConnectionLimiters();
        registry.forZone("a_conn", 1).tryAcquire(CLIENT);
        registry.forZone("b_conn", 1);
        registry.retainZones(Set.of("b_conn"));
        assertThat(registry.zones()).containsExactly("b_conn");
    }
}
