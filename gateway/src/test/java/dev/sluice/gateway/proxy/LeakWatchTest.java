package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check of {@link BrokenUpstreamsTest} does see a buffer that was never released. */
class LeakWatchTest {
    @Test
    void aBufferDroppedWithoutReleaseIsReported() throws Exception {
        try (LeakWatch watch = LeakWatch.paranoid()) {
            leakOne();
            assertThat(watch.leaks()).anySatisfy(report -> assertThat(report).contains("LEAK"));
        }
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(128);
        b.writeLong(42); // and never released
    }
}
