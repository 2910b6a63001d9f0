package dev.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.Translation;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sync loop, not the translator, reads the clock: once per rebuild, handed to the translator. */
class SyncLoopClockTest {

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        private Instant now;

        ManualClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void eachRebuildTranslatesAsOfTheClocksTimeThen() {
        ManualClock clock = new ManualClock(Instant.parse("2030-05-31T12:00:00Z"));
        List<Instant> seen = new ArrayList<>();
        try (SyncLoop loop = new SyncLoop(() -> ClusterState.EMPTY, (state, now) -> {
            seen.add(now);
            return new Translation(RouteTable.EMPTY, List.of());
        }, clock, new RouteTableHolder(), problems -> {}, Duration.ZERO, new SimpleMeterRegistry())) {
            loop.rebuild();
            clock.now = clock.now.plus(Duration.ofDays(1));
            loop.rebuild();
        }

        assertThat(seen).containsExactly(Instant.parse("2030-05-31T12:00:00Z"), Instant.parse("2030-06-01T12:00:00Z"));
    }
}
