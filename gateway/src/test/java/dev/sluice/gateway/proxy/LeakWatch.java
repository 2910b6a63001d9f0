package dev.sluice.gateway.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Netty's leak detector at {@code PARANOID} for a test class, with its reports collected: every
 * buffer is tracked, and one that is garbage-collected without having been released is a
 * {@code LEAK:} error of {@code ResourceLeakDetector}, which {@link #leaks()} returns.
 */
final class LeakWatch implements AutoCloseable {
    private final ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
                reports.add(e.getFormattedMessage());
            }
        }
    };

    private LeakWatch() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        appender.start();
        logger.addAppender(appender);
    }

    static LeakWatch paranoid() {
        return new LeakWatch();
    }

    /**
     * The leaks reported once unreferenced buffers have been collected: collects garbage, then
     * allocates, as the detector reports what it finds when the next buffer is tracked.
     */
    List<String> leaks() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
            for (int j = 0; j < 100; j++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(64);
                b.release();
            }
        }
        return List.copyOf(reports);
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        ResourceLeakDetector.setLevel(before);
    }
}
