package dev.sluice.gateway.observe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CoarseWallClockTest {

    @Test
    void readsTheSystemClockDirectlyWhenNotStartedAndAfterClose() {
        CoarseWallClock clock = new CoarseWallClock();
        assertDirect(clock);
        clock.start().close();
        assertDirect(clock);
    }

    @Test
    void whileRunningTheWallTimeFollowsTheSystemClockWithoutRunningAhead() throws InterruptedException {
        try (CoarseWallClock clock = new CoarseWallClock().start()) {
            long first = clock.wallTime();
            assertThat(first).isLessThanOrEqualTo(System.currentTimeMillis());
            long deadline = System.nanoTime() + 10_000_000_000L; // generous: a loaded machine may delay the thread
            long later;
            do {
                Thread.sleep(CoarseWallClock.RESOLUTION_MILLIS);
                later = clock.wallTime();
            } while (later == first && System.nanoTime() < deadline);
            assertThat(later).as("refreshed").isGreaterThan(first).isLessThanOrEqualTo(System.currentTimeMillis());
            long before = System.nanoTime();
            assertThat(clock.monotonicTime()).isGreaterThanOrEqualTo(before).isLessThanOrEqualTo(System.nanoTime());
        }
    }

    private static void assertDirect(CoarseWallClock clock) {
        long before = System.currentTimeMillis();
        long t = clock.wallTime();
        assertThat(t).isBetween(before, System.currentTimeMillis());
    }
}
