package dev.sluice.gateway.proxy;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The send and read deadlines of an upstream attempt on a single timer: NGINX's
 * {@code proxy_send_timeout} (between two successive writes, while a write is in flight) and
 * {@code proxy_read_timeout} (between two successive reads, while a response byte is awaited).
 *
 * <p>Starting a wait records when it began and makes sure the timer fires by its deadline; a
 * timer already due earlier is left alone, so a stream of chunks costs no rescheduling. When the
 * timer fires it re-arms itself for whichever wait is still open and tells its {@link Listener}
 * about the first deadline that passed (read before send). Like Zuul's origin timeout manager, it
 * is the one place that knows the attempt's timeouts; unlike it, it also runs the timer, because
 * here the deadlines move with every chunk.
 *
 * <p>This object is the timer task itself, so an exchange allocates it once, at its first
 * upstream connection. Confined to the event loop of {@code executor}.
 */
final class UpstreamTimeouts implements Runnable {
    /** Which wait took too long. */
    enum Deadline { READ, SEND }

    /** Told when a deadline passed; then nothing is armed until the next wait starts. */
    interface Listener {
        void deadlinePassed(Deadline which);
    }

    private final EventExecutor executor;
    private final LongSupplier clock;
    private final long readTimeoutNanos;
    private final long sendTimeoutNanos;
    private final Listener listener;
    private ScheduledFuture<?> timer;
    private long timerDeadline;
    private boolean reading;
    private long readingSince;
    private boolean sending;
    private long sendingSince;

    /**
     * @param clock the time the deadlines are measured in ({@link System#nanoTime} in
     *              production); {@code executor} schedules the checks in the same units
     */
    UpstreamTimeouts(EventExecutor executor, LongSupplier clock, long readTimeoutNanos, long sendTimeoutNanos,
            Listener listener) {
        this.executor = executor;
        this.clock = clock;
        this.readTimeoutNanos = readTimeoutNanos;
        this.sendTimeoutNanos = sendTimeoutNanos;
        this.listener = listener;
    }

    /** A write was flushed: it must complete within the send timeout. */
    void sendStarted() {
        sending = true;
        sendingSince = clock.getAsLong();
        arm(sendTimeoutNanos);
    }

    /** The flushed write completed. */
    void sendEnded() {
        sending = false;
    }

    /** A response byte is wanted (the request is sent and a read was issued): the read timeout runs from now. */
    void readStarted() {
        reading = true;
        readingSince = clock.getAsLong();
        arm(readTimeoutNanos);
    }

    /** A response byte arrived. */
    void readEnded() {
        reading = false;
    }

    /** Whether the timer is scheduled (tests). */
    boolean armed() {
        return timer != null;
    }

    /** Ends both waits and the timer: the attempt is over. */
    void cancel() {
        reading = false;
        sending = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The timer fired. */
    @Override
    public void run() {
        timer = null;
        long now = clock.getAsLong();
        long next = Long.MAX_VALUE;
        if (reading) {
            long left = readTimeoutNanos - (now - readingSince);
            if (left <= 0) {
                reading = false;
                listener.deadlinePassed(Deadline.READ);
                return;
            }
            next = left;
        }
        if (sending) {
            long left = sendTimeoutNanos - (now - sendingSince);
            if (left <= 0) {
                sending = false;
                listener.deadlinePassed(Deadline.SEND);
                return;
            }
            next = Math.min(next, left);
        }
        if (next != Long.MAX_VALUE) {
            arm(next);
        }
    }

    /** Makes sure the timer fires within {@code delayNanos}. */
    private void arm(long delayNanos) {
        long deadline = clock.getAsLong() + delayNanos;
        if (timer != null) {
            if (timerDeadline - deadline <= 0) {
                return; // an earlier check is already scheduled
            }
            timer.cancel(false);
        }
        timerDeadline = deadline;
        timer = executor.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }
}
