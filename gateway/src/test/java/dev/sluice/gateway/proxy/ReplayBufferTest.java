package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link ReplayBuffer}: what a retry resends, and that every reference it takes is given back. */
class ReplayBufferTest {
    private static ResourceLeakDetector.Level level;

    @BeforeAll
    static void paranoid() {
        level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterAll
    static void restore() {
        ResourceLeakDetector.setLevel(level);
    }

    private static HttpContent chunk(String s) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }

    @Test
    void keepsARetainedDuplicateAndResendsItAsOftenAsNeeded() {
        ReplayBuffer buffer = new ReplayBuffer();
        HttpContent a = chunk("hello ");
        HttpContent b = chunk("world");
        buffer.add(a);
        buffer.add(b);
        assertThat(a.refCnt()).isEqualTo(2); // the caller's reference and the buffer's
        a.release(); // as the first attempt's write does
        b.release();
        assertThat(buffer.replayable()).isTrue();
        assertThat(buffer.bytes()).isEqualTo(11);

        for (int retry = 0; retry < 2; retry++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            ChannelFuture last = buffer.writeTo(ch);
            ch.flush();
            assertThat(last).isNotNull();
            assertThat(last.isSuccess()).isTrue();
            assertThat(readAll(ch)).isEqualTo("hello world");
            ch.finishAndReleaseAll();
        }
        assertThat(a.refCnt()).isEqualTo(1);

        buffer.discard();
        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isZero();
        assertThat(buffer.replayable()).isFalse();
        buffer.discard(); // again: nothing left to release, no IllegalReferenceCountException
    }

    @Test
    void aChunkPastTheLimitReleasesEverythingAndStaysUnreplayable() {
        ReplayBuffer buffer = new ReplayBuffer(8);
        HttpContent a = chunk("12345");
        HttpContent b = chunk("6789");
        HttpContent c = chunk("x");
        buffer.add(a);
        buffer.add(b); // 9 > 8
        buffer.add(c); // too late: a small chunk does not make it replayable again
        assertThat(buffer.replayable()).isFalse();
        assertThat(buffer.bytes()).isZero();
        assertThat(a.refCnt()).as("the kept duplicate was released").isEqualTo(1);
        assertThat(b.refCnt()).as("never retained").isEqualTo(1);
        assertThat(c.refCnt()).isEqualTo(1);
        assertThat(buffer.writeTo(new EmbeddedChannel())).isNull();
        a.release();
        b.release();
        c.release();
    }

    @Test
    void exactlyTheLimitIsStillReplayable() {
        ReplayBuffer buffer = new ReplayBuffer();
        HttpContent big = new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[ReplayBuffer.LIMIT]));
        buffer.add(big);
        assertThat(buffer.replayable()).isTrue();
        assertThat(buffer.bytes()).isEqualTo(ReplayBuffer.LIMIT);
        big.release();
        buffer.discard();
        assertThat(big.refCnt()).isZero();
    }

    @Test
    void aDiscardedBufferKeepsNothingLaterAdded() {
        ReplayBuffer buffer = new ReplayBuffer();
        buffer.discard(); // the response started
        HttpContent a = chunk("late");
        buffer.add(a);
        assertThat(a.refCnt()).isEqualTo(1);
        a.release();
    }

    private static String readAll(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = ((HttpContent) o).content();
            out.append(b.toString(StandardCharsets.US_ASCII));
            ((HttpContent) o).release();
        }
        return out.toString();
    }
}
