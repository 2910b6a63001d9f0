package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UpstreamTimeouts} on an {@link EmbeddedChannel}'s loop with frozen time: the test moves
 * the loop's time and the deadlines' clock together.
 */
class UpstreamTimeoutsTest {
    private static final long READ = TimeUnit.SECONDS.toNanos(10);
    private static final long SEND = TimeUnit.SECONDS.toNanos(4);

    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final List<UpstreamTimeouts.Deadline> passed = new ArrayList<>();
    private long now = 1_000;
    private UpstreamTimeouts timeouts;

    @BeforeEach
    void setUp() {
        loop.freezeTime();
        timeouts = new UpstreamTimeouts(loop.eventLoop(), () -> now, READ, SEND, passed::add);
    }

    private void advanceSeconds(long s) {
        now += TimeUnit.SECONDS.toNanos(s);
        loop.advanceTimeBy(s, TimeUnit.SECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void aReadWithoutAnswerPassesItsDeadline() {
        timeouts.readStarted();
        advanceSeconds(9);
        assertThat(passed).isEmpty();
        advanceSeconds(1);
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.READ);
        assertThat(timeouts.armed()).isFalse();
        advanceSeconds(60);
        assertThat(passed).as("told once").hasSize(1);
    }

    @Test
    void eachReadRestartsTheReadDeadline() {
        timeouts.readStarted();
        advanceSeconds(8);
        timeouts.readEnded();
        timeouts.readStarted(); // the next chunk is wanted: 10 s from now, the armed timer is kept
        advanceSeconds(8);
        assertThat(passed).isEmpty();
        assertThat(timeouts.armed()).as("re-armed for the rest").isTrue();
        advanceSeconds(2);
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.READ);
    }

    @Test
    void aFlushThatDoesNotCompletePassesTheSendDeadlineWhichIsEarlier() {
        timeouts.readStarted();
        timeouts.sendStarted(); // 4 s < 10 s: the timer moves earlier
        advanceSeconds(4);
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.SEND);
    }

    @Test
    void aCompletedFlushEndsTheSendWait() {
        timeouts.sendStarted();
        advanceSeconds(3);
        timeouts.sendEnded();
        advanceSeconds(30);
        assertThat(passed).isEmpty();
        assertThat(timeouts.armed()).isFalse();
    }

    @Test
    void readIsCheckedBeforeSend() {
        timeouts.sendStarted();
        timeouts.readStarted();
        advanceSeconds(20); // both passed while the loop was busy
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.READ);
    }

    @Test
    void cancelEndsEverything() {
        timeouts.readStarted();
        timeouts.sendStarted();
        timeouts.cancel();
        assertThat(timeouts.armed()).isFalse();
        advanceSeconds(60);
        assertThat(passed).isEmpty();
    }
}
