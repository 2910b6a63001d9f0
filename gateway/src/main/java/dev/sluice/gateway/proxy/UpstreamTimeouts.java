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
 * <p>This object is the timer task itself and belongs to the client connection: each exchange
 * {@linkplain #begin begins} its attempts on it and {@linkplain #end ends} them, and an ended
 * attempt leaves a scheduled timer in place (it fires once, finds no open wait and stops) instead
 * of cancelling it, so a keep-alive connection's requests schedule a timer about once per read
 * timeout rather than once each. {@link #close} cancels it when the connection goes. Confined to
 * the event loop of {@code executor}.
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
    private long readTimeoutNanos;
    private long sendTimeoutNanos;
    private Listener listener;
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
    UpstreamTimeouts(EventExecutor executor, LongSupplier clock) {
        this.executor = executor;
        this.clock = clock;
    }

    /** An attempt starts: its deadlines, and who hears when one passes. No wait is open yet. */
    void begin(Listener listener, long readTimeoutNanos, long sendTimeoutNanos) {
        this.listener = listener;
        this.readTimeoutNanos = readTimeoutNanos;
        this.sendTimeoutNanos = sendTimeoutNanos;
        reading = false;
        sending = false;
    }

    /** A write was flushed: it must complete within the send timeout. */
    void sendStarted(Listener owner) {
        if (owner != listener) {
            return; // an exchange that has ended: the connection has moved on
        }
        sending = true;
        sendingSince = clock.getAsLong();
        arm(sendTimeoutNanos);
    }

    /** The flushed write completed. */
    void sendEnded(Listener owner) {
        if (owner != listener) {
            return; // an exchange that has ended: the connection has moved on
        }
        sending = false;
    }

    /** A response byte is wanted (the request is sent and a read was issued): the read timeout runs from now. */
    void readStarted(Listener owner) {
        if (owner != listener) {
            return; // an exchange that has ended: the connection has moved on
        }
        reading = true;
        readingSince = clock.getAsLong();
        arm(readTimeoutNanos);
    }

    /** A response byte arrived. */
    void readEnded(Listener owner) {
        if (owner != listener) {
            return; // an exchange that has ended: the connection has moved on
        }
        reading = false;
    }

    /** Whether the timer is scheduled (tests). */
    boolean armed() {
        return timer != null;
    }

    /**
     * The attempt is over: both waits end and nobody is told anything more. A scheduled timer stays
     * (see the class comment).
     */
    void end(Listener owner) {
        if (owner != listener) {
            return;
        }
        reading = false;
        sending = false;
        listener = null;
    }

    /** The connection is gone: {@link #end} and cancel the timer. */
    void close() {
        reading = false;
        sending = false;
        listener = null;
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
