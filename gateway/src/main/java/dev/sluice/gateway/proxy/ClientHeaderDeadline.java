package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NGINX's {@code client_header_timeout} (60 s) on an HTTP/1.1 connection: a request head must be
 * complete within the timeout of the connection opening, or, on a keep-alive connection, of its
 * first byte; else the connection is closed without an answer, as NGINX does. Unlike the idle
 * timer, which every byte restarts, this deadline does not move: a client that sends its head a
 * byte at a time (slowloris) holds the connection for the timeout at most.
 *
 * <p>Sits before the HTTP codec; {@link ProxyHandler} says when a head was decoded and when the
 * connection waits for the next one. Confined to the channel's event loop.
 */
final class ClientHeaderDeadline extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientHeaderDeadline.class);

    private final long timeoutNanos;
    private final Runnable onTimer = this::timerFired; // one per connection, not one per request
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer; // at most one; it may fire before the deadline and re-arms itself
    private boolean running; // a deadline is running, due at deadlineNanos
    private long deadlineNanos;
    private boolean awaitingHead = true;

    ClientHeaderDeadline(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        start(); // the first head is due from the start of the connection
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && !running && msg instanceof ByteBuf b && b.isReadable()) {
            start(); // the first byte of the next request on a keep-alive connection
        }
        ctx.fireChannelRead(msg);
    }

    /** A request head has been decoded: no deadline until the connection waits for the next one. */
    void headReceived() {
        awaitingHead = false;
        running = false; // the timer, if scheduled, stays: re-arming it per request costs more
    }

    /** The connection waits for another request: its first byte starts the deadline. */
    void awaitNextHead() {
        awaitingHead = true;
    }

    /**
     * Starts the deadline. A scheduled timer is kept and only re-armed when it fires early, as
     * {@link IdleTimeoutHandler} does: a keep-alive connection's requests schedule nothing.
     */
    private void start() {
        running = true;
        deadlineNanos = System.nanoTime() + timeoutNanos;
        if (timer == null) {
            timer = ctx.executor().schedule(onTimer, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void cancel() {
        running = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void timerFired() {
        timer = null;
        if (!running || !ctx.channel().isActive()) {
            return; // the head arrived; the next request's first byte arms the timer again
        }
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            timer = ctx.executor().schedule(onTimer, left, TimeUnit.NANOSECONDS);
            return;
        }
        if (awaitingHead) {
            log.debug("client {} timed out while sending its request head", ctx.channel().remoteAddress());
            ctx.close();
        }
    }
}
