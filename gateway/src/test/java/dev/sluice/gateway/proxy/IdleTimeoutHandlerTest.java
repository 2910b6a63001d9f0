package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link IdleTimeoutHandler} on an {@link EmbeddedChannel} whose clock the test moves. */
class IdleTimeoutHandlerTest {
    private final List<IdleState> events = new ArrayList<>();

    private EmbeddedChannel channel(long readerSeconds, long allSeconds) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new IdleTimeoutHandler(TimeUnit.SECONDS.toNanos(readerSeconds), TimeUnit.SECONDS.toNanos(allSeconds)),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        events.add(((IdleStateEvent) evt).state());
                    }
                });
        return ch;
    }

    private static void advance(EmbeddedChannel ch, long seconds) {
        ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
    }

    @Test
    void aQuietConnectionIsAllIdleAfterThePeriodAndAgainEveryPeriod() {
        EmbeddedChannel ch = channel(0, 10);
        advance(ch, 9);
        assertThat(events).isEmpty();
        advance(ch, 1);
        assertThat(events).containsExactly(IdleState.ALL_IDLE);
        advance(ch, 10);
        assertThat(events).containsExactly(IdleState.ALL_IDLE, IdleState.ALL_IDLE);
    }

    @Test
    void readsAndWritesPostponeAllIdleWithoutRearmingTheTimer() {
        EmbeddedChannel ch = channel(0, 10);
        advance(ch, 6);
        ch.writeInbound("request");
        advance(ch, 6); // the timer fires at 10 s, finds a read at 6 s and waits until 16 s
        assertThat(events).isEmpty();
        ch.writeOutbound("response"); // a write at 12 s
        advance(ch, 6);
        assertThat(events).isEmpty();
        advance(ch, 4);
        assertThat(events).containsExactly(IdleState.ALL_IDLE);
    }

    @Test
    void writesDoNotCountForReaderIdle() {
        EmbeddedChannel ch = channel(5, 0);
        advance(ch, 3);
        ch.writeOutbound("response");
        advance(ch, 2);
        assertThat(events).containsExactly(IdleState.READER_IDLE);
        ch.writeInbound("more body");
        advance(ch, 4);
        assertThat(events).hasSize(1);
        advance(ch, 1);
        assertThat(events).containsExactly(IdleState.READER_IDLE, IdleState.READER_IDLE);
    }

    @Test
    void aClosedConnectionHasNoTimer() {
        EmbeddedChannel ch = channel(5, 10);
        ch.close();
        advance(ch, 60);
        assertThat(events).isEmpty();
    }
}
