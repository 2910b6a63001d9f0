package dev.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.Translation;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Leading-edge sync: a change after a quiet spell is rebuilt at once, however long the debounce;
 * changes that arrive while a rebuild runs cost one more rebuild, not one each; after a rebuild
 * that took less than half the debounce the next waits twice its time (at least a tenth of the
 * debounce). The debounce is an hour of a ticker the test moves by hand: a loop that waited for
 * it would never rebuild in time.
 */
class SyncLoopLeadingEdgeTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private final AtomicLong ticker = new AtomicLong();
    private final RouteTableHolder holder = new RouteTableHolder();
    private final AtomicInteger translations = new AtomicInteger();

    private SyncLoop loop(java.util.function.IntConsumer duringTranslation) {
        return new SyncLoop(() -> ClusterState.EMPTY, (state, now) -> {
            duringTranslation.accept(translations.incrementAndGet());
            return new Translation(RouteTable.EMPTY, List.of());
        }, Clock.systemUTC(), holder, problems -> {}, HOUR, new SimpleMeterRegistry(), ticker::get);
    }

    @Test
    void aChangeAfterAQuietSpellIsRebuiltAtOnce() {
        try (SyncLoop loop = loop(n -> {})) {
            loop.start();
            await().atMost(Duration.ofSeconds(30)).until(holder::isPublished);

            ticker.addAndGet(HOUR.toNanos() + 1); // quiet for longer than the debounce
            loop.markDirty();
            await().atMost(Duration.ofSeconds(30)).until(() -> loop.rebuildCount() == 2);

            ticker.addAndGet(HOUR.toNanos() + 1);
            loop.markDirty();
            await().atMost(Duration.ofSeconds(30)).until(() -> loop.rebuildCount() == 3);
        }
    }

    @Test
    void changesDuringARebuildAreCoalescedIntoOneNextRebuild() throws InterruptedException {
        CountDownLatch secondStarted = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        try (SyncLoop loop = loop(n -> {
            if (n == 2) {
                secondStarted.countDown();
                try {
                    releaseSecond.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        })) {
            loop.start();
            await().atMost(Duration.ofSeconds(30)).until(holder::isPublished);
            ticker.addAndGet(HOUR.toNanos() + 1);
            loop.markDirty();
            assertThat(secondStarted.await(30, TimeUnit.SECONDS)).isTrue();

            for (int i = 0; i < 5; i++) {
                loop.markDirty(); // five changes while the second rebuild runs
            }
            ticker.addAndGet(HOUR.toNanos() + 1);
            releaseSecond.countDown();

            await().atMost(Duration.ofSeconds(30)).until(() -> translations.get() == 3);
            // the loop had time to make more of them: it did not
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertThat(translations).hasValue(3);
            assertThat(loop.rebuildCount()).isEqualTo(3);
        }
    }

    /** A loop whose first rebuild takes 10 minutes of the hour: the next may start 20 minutes after it started. */
    private SyncLoop loopWithATenMinuteFirstRebuild() {
        SyncLoop loop = loop(n -> {
            if (n == 1) {
                ticker.addAndGet(Duration.ofMinutes(10).toNanos());
            }
        });
        loop.start();
        await().atMost(Duration.ofSeconds(30)).until(holder::isPublished);
        return loop;
    }

    @Test
    void aQuickRebuildIsFollowedByTheNextAfterTwiceItsTimeInsteadOfTheDebounce() {
        try (SyncLoop loop = loopWithATenMinuteFirstRebuild()) {
            ticker.addAndGet(Duration.ofMinutes(11).toNanos()); // 21 minutes after the first started
            loop.markDirty();
            await().atMost(Duration.ofSeconds(30)).until(() -> loop.rebuildCount() == 2);
        }
    }

    @Test
    void aQuickRebuildStillKeepsTheThreadIdleAsLongAsItWorked() {
        try (SyncLoop loop = loopWithATenMinuteFirstRebuild()) {
            ticker.addAndGet(Duration.ofMinutes(9).toNanos()); // 19 minutes after the first started
            loop.markDirty();
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertThat(loop.rebuildCount()).isEqualTo(1);
        }
    }

    @Test
    void spacingIsTwiceTheLastRebuildWithinATenthOfTheDebounceAndAllOfIt() {
        long debounce = Duration.ofMillis(100).toNanos();
        assertThat(SyncLoop.spacingNanos(debounce, Duration.ofMillis(1).toNanos())).isEqualTo(debounce / 10);
        assertThat(SyncLoop.spacingNanos(debounce, Duration.ofMillis(12).toNanos()))
                .isEqualTo(Duration.ofMillis(24).toNanos());
        assertThat(SyncLoop.spacingNanos(debounce, Duration.ofMillis(70).toNanos())).isEqualTo(debounce);
    }

    @Test
    void aChangeRightAfterARebuildWaitsOutTheDebounce() {
        try (SyncLoop loop = loop(n -> {})) {
            loop.start();
            await().atMost(Duration.ofSeconds(30)).until(holder::isPublished);

            ticker.addAndGet(Duration.ofMinutes(1).toNanos()); // quiet for a minute of the hour
            loop.markDirty();
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertThat(loop.rebuildCount()).isEqualTo(1);
        }
    }
}
