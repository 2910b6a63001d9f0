package dev.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.Translation;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The debounce coalesces bursts of changes; the first table, which /readyz waits for, is not delayed by it. */
class SyncLoopDebounceTest {

    @Test
    void theFirstTableIsPublishedWithoutWaitingOutTheDebounceAndLaterChangesWaitForIt() {
        RouteTableHolder holder = new RouteTableHolder();
        AtomicInteger translations = new AtomicInteger();
        // a debounce no test run outlives: a first rebuild that waited for it would never come
        try (SyncLoop loop = new SyncLoop(() -> ClusterState.EMPTY, (state, now) -> {
            translations.incrementAndGet();
            return new Translation(RouteTable.EMPTY, List.of());
        }, holder, problems -> {}, Duration.ofHours(1), new SimpleMeterRegistry())) {
            loop.start();
            await().atMost(Duration.ofSeconds(30)).until(holder::isPublished);
            assertThat(translations).hasValue(1);

            loop.markDirty();
            // the change waits out the debounce (an hour): still one translation after the loop had time to react
            await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertThat(translations).hasValue(1);
            assertThat(loop.rebuildCount()).isEqualTo(1);
        }
    }
}
