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
    private final UpstreamTimeouts.Listener attempt = passed::add;
    private UpstreamTimeouts timeouts;

    @BeforeEach
    void setUp() {
        loop.freezeTime();
        timeouts = new UpstreamTimeouts(loop.eventLoop(), () -> now);
        timeouts.begin(attempt, READ, SEND);
    }

    private void advanceSeconds(long s) {
        now += TimeUnit.SECONDS.toNanos(s);
        loop.advanceTimeBy(s, TimeUnit.SECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void aReadWithoutAnswerPassesItsDeadline() {
        timeouts.readStarted(attempt);
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
        timeouts.readStarted(attempt);
        advanceSeconds(8);
        timeouts.readEnded(attempt);
        timeouts.readStarted(attempt); // the next chunk is wanted: 10 s from now, the armed timer is kept
        advanceSeconds(8);
        assertThat(passed).isEmpty();
        assertThat(timeouts.armed()).as("re-armed for the rest").isTrue();
        advanceSeconds(2);
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.READ);
    }

    @Test
    void aFlushThatDoesNotCompletePassesTheSendDeadlineWhichIsEarlier() {
        timeouts.readStarted(attempt);
        timeouts.sendStarted(attempt); // 4 s < 10 s: the timer moves earlier
        advanceSeconds(4);
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.SEND);
    }

    @Test
    void aCompletedFlushEndsTheSendWait() {
        timeouts.sendStarted(attempt);
        advanceSeconds(3);
        timeouts.sendEnded(attempt);
        advanceSeconds(30);
        assertThat(passed).isEmpty();
        assertThat(timeouts.armed()).isFalse();
    }

    @Test
    void readIsCheckedBeforeSend() {
        timeouts.sendStarted(attempt);
        timeouts.readStarted(attempt);
        advanceSeconds(20); // both passed while the loop was busy
        assertThat(passed).containsExactly(UpstreamTimeouts.Deadline.READ);
    }

    @Test
    void anEndedAttemptIsNeverToldAndLeavesTheTimerForTheNextOne() {
        timeouts.readStarted(attempt);
        timeouts.sendStarted(attempt);
        timeouts.end(attempt);
        assertThat(timeouts.armed()).as("kept: the next request on the connection reuses it").isTrue();
        advanceSeconds(60);
        assertThat(passed).isEmpty();
        assertThat(timeouts.armed()).as("fired once, found no wait, stopped").isFalse();
    }

    @Test
    void theNextAttemptReusesTheScheduledTimer() {
        List<UpstreamTimeouts.Deadline> second = new ArrayList<>();
        UpstreamTimeouts.Listener next = second::add;
        timeouts.readStarted(attempt);
        advanceSeconds(3);
        timeouts.end(attempt);
        timeouts.begin(next, READ, SEND);
        timeouts.readStarted(next); // due at 13 s; the timer due at 10 s stays and re-arms for the rest
        timeouts.readStarted(attempt); // a late call from the ended attempt changes nothing
        advanceSeconds(7);
        assertThat(second).isEmpty();
        assertThat(timeouts.armed()).isTrue();
        advanceSeconds(3);
        assertThat(second).containsExactly(UpstreamTimeouts.Deadline.READ);
        assertThat(passed).as("the ended attempt is never told").isEmpty();
    }

    @Test
    void closeEndsEverything() {
        timeouts.readStarted(attempt);
        timeouts.sendStarted(attempt);
        timeouts.close();
        assertThat(timeouts.armed()).isFalse();
        advanceSeconds(60);
        assertThat(passed).isEmpty();
    }
}
