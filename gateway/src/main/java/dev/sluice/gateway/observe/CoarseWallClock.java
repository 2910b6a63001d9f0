package dev.sluice.gateway.observe;

import io.micrometer.core.instrument.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The meter registry's clock: the monotonic time is {@link System#nanoTime()}, the wall time is
 * read from the system every {@link #RESOLUTION_MILLIS} ms by one daemon thread and otherwise
 * served from a field.
 *
 * <p>Why: Micrometer reads the wall time on every record of a distribution summary (its
 * time-window maximum and histogram check whether to rotate), and Sluice records seven of them
 * per request. On a VM's paravirtual clock a read costs ~80 ns, so that was ~14 reads and ~1 µs
 * of the event loop per request, for a decision whose granularity is tens of seconds. Nothing
 * else in the registry needs the wall time to the millisecond: the scrape carries no
 * timestamps. Until {@link #start} and after {@link #close} the wall time is read directly.
 */
public final class CoarseWallClock implements Clock, AutoCloseable {
    /** How stale the wall time may be. */
    public static final long RESOLUTION_MILLIS = 10;

    private volatile long wallMillis;
    private volatile boolean running;
    private Thread ticker;

    /** Starts the thread that refreshes the wall time; idempotent. */
    public synchronized CoarseWallClock start() {
        if (ticker == null) {
            wallMillis = System.currentTimeMillis();
            running = true;
            ticker = new Thread(this::tick, "sluice-clock");
            ticker.setDaemon(true);
            ticker.start();
        }
        return this;
    }

    private void tick() {
        long period = TimeUnit.MILLISECONDS.toNanos(RESOLUTION_MILLIS);
        while (running) {
            wallMillis = System.currentTimeMillis();
            LockSupport.parkNanos(period);
        }
    }

    @Override
    public long wallTime() {
        return running ? wallMillis : System.currentTimeMillis();
    }

    @Override
    public long monotonicTime() {
        return System.nanoTime();
    }

    @Override
    public synchronized void close() {
        running = false;
        if (ticker != null) {
            LockSupport.unpark(ticker);
            ticker = null;
        }
    }
}
