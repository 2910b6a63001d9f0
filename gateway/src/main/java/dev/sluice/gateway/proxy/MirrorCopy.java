package dev.sluice.gateway.proxy;

import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fire-and-forget copy of a request to a location's {@link MirrorTarget}
 * ({@code mirror-target}): the same method and headers ({@code Host} from {@code mirror-host}),
 * the body as it streams in, sent over a pooled upstream connection; the mirror's response is read
 * and dropped.
 *
 * <p>The copy never holds up the real request: it takes no part in the real request's
 * back-pressure, and the body bytes it still has to send (its chunks share the real request's
 * buffers until written) count against a budget of {@link #BUFFER_LIMIT} per event loop. A copy
 * that would go over it — a mirror slower than the client, or not reachable yet — is dropped
 * (connection closed, {@code sluice_mirror_requests_total{result="dropped"}}); a mirror that cannot
 * be reached or stalls longer than the location's {@code proxy-read-timeout} fails the copy
 * ({@code result="failed"}). Either way the real request goes on untouched.
 *
 * <p>Confined to the client's event loop, like the {@link ProxyExchange} that starts it; it
 * outlives that exchange when the mirror answers after the client.
 */
final class MirrorCopy implements UpstreamHandler.Owner {
    private static final Logger log = LoggerFactory.getLogger(MirrorCopy.class);

    /** Body bytes the copies of one event loop may hold before a copy is dropped. */
    static final long BUFFER_LIMIT = 8L * 1024 * 1024;

    /** Body bytes held by the copies of this event loop ([0]); only that loop's thread touches it. */
    private static final FastThreadLocal<long[]> HELD_BY_LOOP = new FastThreadLocal<>() {
        @Override
        protected long[] initialValue() {
            return new long[1];
        }
    };

    private final EventLoop loop;
    private final Upstreams upstreams;
    private final ProxyMetrics metrics;
    private final UpstreamKey key;
    private final boolean sendBody;
    private final long timeoutNanos;
    private final long[] held = HELD_BY_LOOP.get();
    private final ArrayDeque<Object> pending = new ArrayDeque<>(4);
    private final ChannelFutureListener onConnect = this::connected;

    private ChannelFuture connecting;
    private Channel channel;
    private UpstreamHandler handler;
    private ChannelFuture lastWrite;
    private boolean requestEnded;
    private boolean responseEnded;
    private boolean reusable;
    private boolean done;
    private long lastProgressNanos;
    private ScheduledFuture<?> deadline;

    private MirrorCopy(EventLoop loop, Upstreams upstreams, ProxyMetrics metrics, MirrorTarget target,
            Duration readTimeout) {
        this.loop = loop;
        this.upstreams = upstreams;
        this.metrics = metrics;
        this.key = new UpstreamKey(target.endpoint(), target.https() ? UpstreamTls.DEFAULTS : null);
        this.sendBody = target.requestBody();
        this.timeoutNanos = readTimeout.toNanos();
    }

    /**
     * Starts a copy of a request.
     *
     * @param upstreamHeaders the headers the real request goes upstream with (copied)
     * @param requestUri      the client's request URI, for the target's variables
     * @param requestHost     the request's host, for {@code $host}
     * @param scheme          {@code http} or {@code https}
     */
    static MirrorCopy start(ServerContext server, EventLoop loop, MirrorTarget target, HttpRequest request,
            HttpHeaders upstreamHeaders, String requestUri, String requestHost, String scheme,
            Duration connectTimeout, Duration readTimeout) {
        Upstreams upstreams = server.upstreams(loop);
        MirrorCopy copy = new MirrorCopy(loop, upstreams, server.metrics(), target, readTimeout);
        HttpHeaders headers = upstreamHeaders.copy();
        headers.set(HttpHeaderNames.HOST, target.host());
        headers.remove(HttpHeaderNames.EXPECT);
        if (!target.requestBody()) {
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        }
        copy.pending.add(new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(),
                target.uri(requestUri, requestHost, scheme), headers));
        if (!target.requestBody()) {
            copy.bodyEnded(null);
        }
        copy.lastProgressNanos = System.nanoTime();
        copy.deadline = loop.schedule(copy::checkDeadline, copy.timeoutNanos + connectTimeout.toNanos(),
                TimeUnit.NANOSECONDS);
        Channel pooled = upstreams.acquire(copy.key);
        if (pooled != null) {
            copy.attach(pooled);
        } else {
            copy.connecting = upstreams.connect(copy.key, connectTimeout);
            copy.connecting.addListener(copy.onConnect);
        }
        return copy;
    }

    /** A chunk of the real request's body (not taken over: the copy keeps its own reference). */
    void body(ByteBuf content) {
        if (done || !sendBody || requestEnded || !content.isReadable()) {
            return;
        }
        int n = content.readableBytes();
        if (held[0] + n > BUFFER_LIMIT) {
            log.debug("mirror {}: over the {} byte copy buffer, copy dropped", key, BUFFER_LIMIT);
            close(Result.DROPPED);
            return;
        }
        send(new DefaultHttpContent(content.retainedDuplicate()), n);
    }

    /** The real request's body ended, with these trailers ({@code null}: none). */
    void bodyEnded(LastHttpContent trailers) {
        if (done || requestEnded) {
            return;
        }
        requestEnded = true;
        send(sendBody && trailers != null ? trailers.retainedDuplicate() : LastHttpContent.EMPTY_LAST_CONTENT, 0);
        maybeComplete();
    }

    /** The real request's body was cut short: the copy cannot be completed. */
    void abort() {
        if (!done && !requestEnded) {
            close(Result.FAILED);
        }
    }

    private void send(Object msg, int bytes) {
        held[0] += bytes;
        if (channel == null) {
            pending.add(bytes > 0 ? new Held((HttpContent) msg, bytes) : msg);
            return;
        }
        write(msg, bytes);
        channel.flush();
    }

    private void write(Object msg, int bytes) {
        ChannelFuture f = channel.write(msg);
        lastWrite = f;
        f.addListener(written -> {
            held[0] -= bytes;
            if (written.isSuccess()) {
                lastProgressNanos = System.nanoTime();
            } else if (!done) {
                close(Result.FAILED);
            }
        });
    }

    private void connected(ChannelFuture f) {
        if (f != connecting) {
            return;
        }
        connecting = null;
        if (done) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            log.debug("mirror {}: connect failed: {}", key, f.cause().toString());
            close(Result.FAILED);
            return;
        }
        attach(f.channel());
    }

    private void attach(Channel ch) {
        channel = ch;
        handler = ch.pipeline().get(UpstreamHandler.class);
        handler.attach(this);
        Object msg;
        while ((msg = pending.poll()) != null) {
            if (msg instanceof Held h) {
                write(h.chunk(), h.bytes());
            } else {
                write(msg, 0);
            }
        }
        ch.flush();
        ch.read();
    }

    @Override
    public void onUpstreamMessage(UpstreamHandler from, Object msg) {
        try {
            if (from != handler || done) {
                return;
            }
            lastProgressNanos = System.nanoTime();
            if (msg instanceof HttpResponse r) {
                if (r.status().code() < 200) {
                    return; // 100 Continue: the final answer follows
                }
                reusable = HttpUtil.isKeepAlive(r);
            }
            if (msg instanceof LastHttpContent) {
                responseEnded = true;
                if (!requestEnded) {
                    reusable = false; // answered before the whole copy was sent
                    close(Result.COMPLETED);
                    return;
                }
                maybeComplete();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void onUpstreamReadComplete(UpstreamHandler from) {
        if (from == handler && !done) {
            channel.read();
        }
    }

    @Override
    public void onUpstreamClosed(UpstreamHandler from) {
        if (from == handler && !done) {
            log.debug("mirror {}: closed before its response ended", key);
            close(Result.FAILED);
        }
    }

    /** Done once the mirror answered the whole copy, and the copy's last byte is written. */
    private void maybeComplete() {
        if (done || !responseEnded || !requestEnded) {
            return;
        }
        ChannelFuture last = lastWrite;
        if (last != null && !last.isDone()) {
            last.addListener(f -> maybeComplete());
            return;
        }
        close(Result.COMPLETED);
    }

    private void checkDeadline() {
        if (done) {
            return;
        }
        long idle = System.nanoTime() - lastProgressNanos;
        if (idle >= timeoutNanos) {
            log.debug("mirror {}: no progress for {} ms, copy given up", key, TimeUnit.NANOSECONDS.toMillis(idle));
            close(Result.FAILED);
            return;
        }
        deadline = loop.schedule(this::checkDeadline, timeoutNanos - idle, TimeUnit.NANOSECONDS);
    }

    private enum Result { COMPLETED, DROPPED, FAILED }

    private void close(Result result) {
        done = true;
        if (deadline != null) {
            deadline.cancel(false);
        }
        Object msg;
        while ((msg = pending.poll()) != null) {
            if (msg instanceof Held h) {
                held[0] -= h.bytes();
                h.chunk().release();
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
        ChannelFuture c = connecting;
        connecting = null;
        if (c != null) {
            c.channel().close();
        }
        if (channel != null) {
            handler.detach();
            if (result == Result.COMPLETED && reusable) {
                upstreams.release(key, channel);
            } else {
                channel.close(); // fails the writes still queued: their bytes leave the budget
            }
            channel = null;
        }
        switch (result) {
            case COMPLETED -> metrics.mirrorCompleted();
            case DROPPED -> metrics.mirrorDropped();
            default -> metrics.mirrorFailed();
        }
    }

    /** A body chunk waiting for the connection, with the bytes it holds in the budget. */
    private record Held(HttpContent chunk, int bytes) {}
}
