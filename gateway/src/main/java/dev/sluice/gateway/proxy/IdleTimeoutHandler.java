package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fires Netty's reader-idle and all-idle {@link IdleStateEvent}s, as {@code IdleStateHandler(reader, 0,
 * all)} does, at less cost per request: activity is the time of a read or of a write call, so no
 * listener is added to every write's promise (Netty's handler does that for its all-idle timer,
 * about 2% of the event loop in the benchmark), and one timer per connection is re-armed only when
 * it fires.
 *
 * <p>A read counts at the end of the read batch ({@code channelReadComplete}, which follows every
 * batch of {@code channelRead}s on the same turn of the event loop, so the timer never runs in
 * between), as with Netty's handler: one clock read per batch. A write counts when it is issued,
 * not when it completes. The consumers only act on idleness
 * between requests (keep-alive timeout, an idle pooled upstream connection) or on a request body
 * that stopped arriving (reader idle), where a write still in flight does not matter. Each event
 * repeats every period while the idleness lasts, as with Netty's handler. A period of 0 disables
 * that event. Confined to the channel's event loop.
 */
final class IdleTimeoutHandler extends ChannelDuplexHandler implements Runnable {
    private final long readerIdleNanos;
    private final long allIdleNanos;
    private ChannelHandlerContext ctx;
    private Ticker ticker; // the event loop's clock (a test's mock clock on an EmbeddedChannel)
    private ScheduledFuture<?> timer;
    private long lastRead;
    private long lastActivity;
    private boolean readerFired;
    private boolean allFired;

    IdleTimeoutHandler(long readerIdleNanos, long allIdleNanos) {
        this.readerIdleNanos = Math.max(0, readerIdleNanos);
        this.allIdleNanos = Math.max(0, allIdleNanos);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ticker = ctx.executor().ticker();
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        read();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        lastActivity = ticker.nanoTime();
        allFired = false;
        ctx.write(msg, promise);
    }

    private void read() {
        long now = ticker.nanoTime();
        lastRead = now;
        lastActivity = now;
        readerFired = false;
        allFired = false;
    }

    private void start() {
        if (timer != null || (readerIdleNanos == 0 && allIdleNanos == 0)) {
            return;
        }
        long now = ticker.nanoTime();
        lastRead = now;
        lastActivity = now;
        schedule(now);
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The timer fired: tell the pipeline about each period that passed without activity, then re-arm. */
    @Override
    public void run() {
        timer = null;
        if (!ctx.channel().isOpen()) {
            return;
        }
        long now = ticker.nanoTime();
        if (readerIdleNanos > 0 && now - lastRead >= readerIdleNanos) {
            IdleStateEvent e = readerFired ? IdleStateEvent.READER_IDLE_STATE_EVENT : IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT;
            readerFired = true;
            lastRead = now; // the next one a whole period later, as Netty's handler
            ctx.fireUserEventTriggered(e);
        }
        if (allIdleNanos > 0 && now - lastActivity >= allIdleNanos) {
            IdleStateEvent e = allFired ? IdleStateEvent.ALL_IDLE_STATE_EVENT : IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT;
            allFired = true;
            lastActivity = now;
            ctx.fireUserEventTriggered(e);
        }
        if (ctx.channel().isOpen()) {
            schedule(now);
        }
    }

    private void schedule(long now) {
        long next = Long.MAX_VALUE;
        if (readerIdleNanos > 0) {
            next = Math.min(next, lastRead + readerIdleNanos - now);
        }
        if (allIdleNanos > 0) {
            next = Math.min(next, lastActivity + allIdleNanos - now);
        }
        timer = ctx.executor().schedule(this, Math.max(next, 1), TimeUnit.NANOSECONDS);
    }
}
