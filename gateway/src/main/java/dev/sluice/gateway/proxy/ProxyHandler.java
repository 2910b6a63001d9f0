package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.ClientCertificateAuth;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-connection handler of the client side: runs one {@link ProxyExchange} per request,
 * in order, over a keep-alive connection.
 *
 * <p>The channel has {@code AUTO_READ} off; this handler reads the next request only when the
 * previous exchange is finished, and the exchange reads request body only as fast as the
 * upstream accepts it. Requests a client pipelines arrive while an exchange is still running;
 * they wait in a small queue (at most what one read returned) and are served in order.
 *
 * <p>On an HTTP/2 connection every stream is a child channel with a handler of its own
 * ({@link #forStream}), behind an {@code Http2StreamFrameToHttpObjectCodec}: it serves exactly one
 * exchange and closes the stream when it is done; the connection itself (metrics, drain, the
 * keep-alive timeout) is looked after by {@link Http2Connection}.
 *
 * <p>Every field is confined to the channel's event loop.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    /**
     * How long a keep-alive connection that is idle when draining begins stays open for a request
     * its client may already have sent; long enough for a busy client's next request, short
     * enough not to hold the shutdown up.
     */
    static final long DRAIN_IDLE_LINGER_MILLIS = 500;

    /** User event: the server is draining; finish the current request, then close. */
    static final Object DRAIN = new Object() {
        @Override
        public String toString() {
            return "DRAIN";
        }
    };

    private final ServerContext server;
    private final boolean https;
    private final boolean stream; // one HTTP/2 stream: one exchange, no connection bookkeeping
    private ChannelHandlerContext ctx;
    private String clientIp = "";
    private byte[] clientAddress;
    private ProxyExchange exchange;
    private UpstreamTimeouts upstreamTimeouts; // shared by this connection's exchanges, one at a time
    private boolean lingering;
    private long lingerUntilNanos;
    private ScheduledFuture<?> lingerTimer;
    private ArrayDeque<HttpObject> queued;
    private boolean draining;
    private int requestCount;
    private boolean closing;
    private boolean tunnel; // switched protocols: bytes only, passed on to the TunnelHandler
    private SslHandler tls; // found once the handshake is done (SniHandler replaces itself with it)
    // the last client-certificate verdict of this connection: requests to one host verify once
    private ClientCertificateAuth checkedPolicy;
    private SSLSession checkedSession;
    private ClientCertificateCheck.Result checkResult;
    private ClientHeaderDeadline headerDeadline; // HTTP/1.1 connections only
    // between a request's first channelRead and the channelReadComplete that ends its read batch
    private boolean inReadBatch;

    ProxyHandler(ServerContext server, boolean https) {
        this.server = server;
        this.https = https;
        this.stream = false;
    }

    private ProxyHandler(ServerContext server, boolean https, String clientIp, byte[] clientAddress) {
        this.server = server;
        this.https = https;
        this.stream = true;
        this.clientIp = clientIp;
        this.clientAddress = clientAddress;
    }

    /**
     * The handler of one HTTP/2 stream of a client connection whose client is {@code clientIp}
     * (the TCP peer, or the PROXY protocol's source): one request, then the stream is closed.
     */
    static ProxyHandler forStream(ServerContext server, boolean https, String clientIp, byte[] clientAddress) {
        return new ProxyHandler(server, https, clientIp, clientAddress);
    }

    /** This handler, told of {@code deadline}, the connection's {@code client_header_timeout}. */
    ProxyHandler headerDeadline(ClientHeaderDeadline deadline) {
        this.headerDeadline = deadline;
        return this;
    }

    ServerContext server() {
        return server;
    }

    /** The upstream deadlines' timer of this connection, for its current exchange. */
    UpstreamTimeouts upstreamTimeouts() {
        if (upstreamTimeouts == null) {
            upstreamTimeouts = new UpstreamTimeouts(ctx.executor(), server.nanoClock());
        }
        return upstreamTimeouts;
    }

    boolean https() {
        return https;
    }

    /** Whether this handler serves an HTTP/2 stream (the client speaks HTTP/2). */
    boolean http2() {
        return stream;
    }

    /** The client's address as text ({@code $remote_addr}); see {@link #clientAddress()}. */
    String clientIp() {
        return clientIp;
    }

    /**
     * The client's address as 4 or 16 bytes, for source ranges and limits; {@code null} when
     * unknown. The one place that says who the client is: the TCP peer, or the source of the
     * connection's PROXY protocol header ({@link ProxyProtocolHandler.ClientAddress}) with
     * {@code --enable-proxy-protocol}; forwarded headers, once trusted, will replace it here too.
     */
    byte[] clientAddress() {
        return clientAddress;
    }

    /**
     * The TLS session of this connection once its handshake has completed, else {@code null}
     * (plain HTTP, or still handshaking). The pipeline's SNI handler replaces itself with an
     * {@link SslHandler} for the chosen certificate, so it is looked up here, not at start; the
     * session is read from the engine each time, as a TLS 1.2 renegotiation replaces it.
     */
    SSLSession sslSession() {
        if (tls == null && https && ctx != null) {
            Channel connection = stream ? ctx.channel().parent() : ctx.channel();
            SslHandler h = connection.pipeline().get(SslHandler.class);
            if (h != null && h.handshakeFuture().isSuccess()) {
                tls = h;
            }
        }
        return tls != null ? tls.engine().getSession() : null;
    }

    /**
     * {@link ClientCertificateCheck#evaluate} for a request to a host with {@code policy} on this
     * connection, verified once per connection and policy: the result of the previous call is
     * reused while the policy (by content) and the TLS session are the same.
     */
    ClientCertificateCheck.Result clientCertificateCheck(ClientCertificateAuth policy) {
        SSLSession session = sslSession();
        if (checkResult != null && session == checkedSession
                && (policy == checkedPolicy || (policy != null && policy.equals(checkedPolicy)))) {
            return checkResult;
        }
        ClientCertificateCheck.Result r = ClientCertificateCheck.evaluate(policy, session);
        checkedPolicy = policy;
        checkedSession = session;
        checkResult = r;
        return r;
    }

    /**
     * Whether the exchange is being called from inside a read of this HTTP/1.1 connection that
     * ends with {@link ProxyExchange#onClientReadComplete}: writes to the upstream may then wait
     * for that call to be flushed together (a GET's head and its end, or a small POST's head and
     * body, in one write instead of two flushes).
     */
    boolean inReadBatch() {
        return inReadBatch;
    }

    /** How many requests this connection has started, the current one included. */
    int requestCount() {
        return requestCount;
    }

    /** Whether responses must close the connection (the server is shutting down). */
    boolean draining() {
        return draining;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.draining = server.draining();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!stream) {
            SocketAddress remote = ctx.channel().remoteAddress();
            if (remote instanceof InetSocketAddress isa && isa.getAddress() != null) {
                clientIp = NetUtil.toAddressString(isa.getAddress()); // "::1", not "0:0:0:0:0:0:0:1"
                clientAddress = isa.getAddress().getAddress();
            }
            server.metrics().connectionOpened();
        }
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        if (!stream) {
            server.metrics().connectionClosed();
        }
        ProxyExchange ex = exchange;
        exchange = null;
        if (ex != null) {
            ex.onClientClosed();
        }
        if (upstreamTimeouts != null) {
            upstreamTimeouts.close();
        }
        if (queued != null) {
            for (HttpObject o : queued) {
                ReferenceCountUtil.release(o);
            }
            queued.clear();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tunnel) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!(msg instanceof HttpObject obj) || closing) {
            ReferenceCountUtil.release(msg);
            if (lingering) {
                lingerMore();
            }
            return;
        }
        inReadBatch = !stream; // an HTTP/2 stream's reads complete on the connection's schedule
        if ((queued != null && !queued.isEmpty()) || (exchange != null && exchange.requestComplete())) {
            // a pipelined request: it waits for the running exchange
            if (queued == null) {
                queued = new ArrayDeque<>(4);
            }
            queued.add(obj);
            return;
        }
        dispatch(obj);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (tunnel) {
            ctx.fireChannelReadComplete();
            return;
        }
        inReadBatch = false;
        if (exchange != null) {
            exchange.onClientReadComplete();
            watchForClose();
        }
    }

    /** NGINX's {@code lingering_timeout}: the wait for more of an unread body before closing. */
    static final long LINGERING_TIMEOUT_MILLIS = 5_000;
    /** NGINX's {@code lingering_time}: the longest a lingering close reads. */
    static final long LINGERING_TIME_MILLIS = 30_000;

    /**
     * NGINX's lingering close: the response (a 413, say) was sent while the client is still sending
     * a body. Closing now would make the kernel answer the rest with a reset, which can destroy the
     * response before the client reads it. So the sending side is shut down (the client sees the end
     * of the response), and what the client still sends is read and dropped until it stops for
     * {@link #LINGERING_TIMEOUT_MILLIS}, closes, or {@link #LINGERING_TIME_MILLIS} pass.
     */
    private void lingeringClose(SocketChannel socket) {
        closing = true;
        lingering = true;
        lingerUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGERING_TIME_MILLIS);
        // an empty write from the pipeline's first handler completes after everything written before
        // it (the response, encoded and encrypted) is out; only then may the sending side shut
        ctx.pipeline().firstContext().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
            if (!written.isSuccess()) {
                ctx.close();
                return;
            }
            socket.shutdownOutput().addListener(f -> {
                if (f.isSuccess()) {
                    lingerMore();
                } else {
                    ctx.close();
                }
            });
        });
    }

    private void lingerMore() {
        if (lingerTimer != null) {
            lingerTimer.cancel(false);
        }
        long left = lingerUntilNanos - System.nanoTime();
        if (left <= 0 || !ctx.channel().isActive()) {
            ctx.close();
            return;
        }
        lingerTimer = ctx.executor().schedule(() -> {
            ctx.close();
        }, Math.min(left, TimeUnit.MILLISECONDS.toNanos(LINGERING_TIMEOUT_MILLIS)), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    /**
     * While a response is on its way and the request is fully read, keeps one read pending so
     * that a client that goes away is noticed (the NIO transport only sees a close by reading;
     * NGINX likewise checks for broken client connections). Whatever arrives meanwhile is a
     * pipelined request: it is queued and no further read is issued until its turn, which keeps
     * memory bounded.
     */
    private void watchForClose() {
        if (!closing && exchange != null && exchange.requestComplete() && (queued == null || queued.isEmpty())) {
            ctx.read();
        }
    }

    private void dispatch(HttpObject obj) {
        if (obj instanceof HttpRequest req) {
            if (exchange != null) {
                // cannot happen: the decoder ends every request with a LastHttpContent
                ReferenceCountUtil.release(obj);
                return;
            }
            requestCount++;
            if (headerDeadline != null) {
                headerDeadline.headReceived();
            }
            ProxyExchange ex = new ProxyExchange(this, ctx, req);
            exchange = ex;
            ex.start();
            if (obj instanceof HttpContent c) {
                if (req.decoderResult().isFailure()) {
                    // the decoder's stand-in for a head it could not read: start() answered it (400),
                    // and it carries no body; as content it would be a second protocol error, which
                    // closes the connection at once, before an answer still being written is out
                    c.release();
                } else {
                    ex.onClientContent(c); // a full request (not produced by the decoder, but allowed)
                }
            }
        } else if (obj instanceof HttpContent c) {
            if (exchange != null) {
                exchange.onClientContent(c);
            } else {
                c.release(); // the rest of a request that was already answered and closed
            }
        } else {
            ReferenceCountUtil.release(obj);
        }
    }

    /** The exchange wants more request body: from the pipelining queue, else from the socket. */
    void readMore() {
        if (closing) {
            return;
        }
        if (queued != null && !queued.isEmpty()) {
            drainQueued();
        } else {
            ctx.read();
        }
    }

    private void drainQueued() {
        boolean inRead = inReadBatch;
        inReadBatch = !stream; // ended by the onClientReadComplete below
        while (queued != null && !queued.isEmpty() && !closing) {
            if (exchange != null && exchange.requestComplete()) {
                break; // the next request waits until this one is finished
            }
            dispatch(queued.poll());
        }
        inReadBatch = inRead;
        if (closing) {
            return;
        }
        if (exchange != null) {
            exchange.onClientReadComplete(); // flush what was just handed over, as after a socket read
            watchForClose();
        } else {
            ctx.read();
        }
    }

    /**
     * Draining, between two requests: closes the connection unless a request has started within
     * {@link #DRAIN_IDLE_LINGER_MILLIS}. Closing at once (as NGINX does) loses the request of a
     * busy keep-alive client that is already on its way; one that starts in time is answered
     * with {@code Connection: close}, and the connection closes after it.
     */
    private void closeIfStillIdleLater() {
        ctx.executor().schedule(() -> {
            if (!closing && exchange == null && (queued == null || queued.isEmpty())) {
                closing = true;
                ctx.close();
            }
        }, DRAIN_IDLE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Called by the running exchange when its response is complete and its request fully read
     * (or abandoned): start the next request, or close.
     */
    void exchangeFinished(ProxyExchange ex, boolean keepConnection) {
        if (exchange != ex) {
            return;
        }
        exchange = null;
        if (closing) {
            return;
        }
        boolean requestWaiting = queued != null && !queued.isEmpty();
        if (draining && keepConnection && !stream && !requestWaiting) {
            // this response promised keep-alive before the drain began: the client may be sending
            // its next request right now; answer it (with Connection: close) rather than lose it
            ctx.read();
            closeIfStillIdleLater();
            return;
        }
        if (!stream && !keepConnection && !ex.requestComplete() && ctx.channel() instanceof SocketChannel socket) {
            lingeringClose(socket);
            return;
        }
        if (stream || !keepConnection) {
            // a stream carries one request; closing it after both ends were sent resets nothing,
            // before that it cancels the stream (RST_STREAM), as a closed connection would
            closing = true;
            if (stream && ex.responseComplete() && !ex.requestComplete()) {
                // answered before the request ended (408, 413): RFC 9113 §8.1's "stop sending"
                // reset, NO_ERROR, on which clients must keep the response (NGINX sends it too);
                // closing the stream alone would send CANCEL, on which they may drop it
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            }
            ctx.close();
            return;
        }
        if (headerDeadline != null) {
            headerDeadline.awaitNextHead();
        }
        if (queued != null && !queued.isEmpty()) {
            drainQueued();
        } else {
            ctx.read();
        }
    }

    /**
     * The upstream answered the exchange's {@code Upgrade} with 101 (already written to the
     * client): from now on both connections carry opaque bytes (a WebSocket), spliced by a
     * {@link TunnelHandler} on each side. The HTTP codecs leave both pipelines (bytes they had
     * buffered pass on to the tunnel); the upstream connection is never pooled again; no read or
     * keep-alive timeout of the client side applies any more, only the upstream's
     * {@code idleNanos} (ingress-nginx's {@code proxy-read-timeout}).
     *
     * @param onClose run once when the tunnel closes
     */
    void startTunnel(ProxyExchange ex, Channel upstream, long idleNanos, Runnable onClose) {
        if (exchange != ex || closing) {
            upstream.close();
            onClose.run();
            return;
        }
        exchange = null;
        tunnel = true;
        if (queued != null) {
            for (HttpObject o : queued) {
                ReferenceCountUtil.release(o);
            }
            queued.clear();
        }
        ChannelPipeline client = ctx.pipeline();
        client.addLast("tunnel", new TunnelHandler(upstream, onClose));
        if (client.get("idle") != null) {
            client.remove("idle");
        }
        client.remove("http");
        if (client.get("header-deadline") != null) {
            client.remove("header-deadline");
        }
        ChannelPipeline up = upstream.pipeline();
        up.addLast("tunnel", new TunnelHandler(ctx.channel(), null));
        up.replace("idle", "idle", new IdleStateHandler(idleNanos, 0, 0, TimeUnit.NANOSECONDS));
        up.remove("upstream");
        up.remove("codec");
        ctx.channel().read();
        upstream.read();
    }

    /** Closes the client connection now (an aborted response). */
    void abort() {
        closing = true;
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (tunnel) {
            // a tunnel ends when either side closes (or at the drain's grace period end), not on DRAIN
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (evt instanceof ProxyProtocolHandler.ClientAddress proxied) {
            // the PROXY protocol header (trusted: the listener requires it) names the real client;
            // it arrives before any request byte, so every request of the connection sees it
            clientIp = NetUtil.toAddressString(proxied.address());
            clientAddress = proxied.address().getAddress();
        } else if (evt == DRAIN) {
            draining = true;
            if (exchange == null) {
                closeIfStillIdleLater();
            }
        } else if (evt instanceof IdleStateEvent idle) {
            if (exchange != null) {
                if (idle.state() == IdleState.READER_IDLE) {
                    exchange.onClientIdle(); // a request body that stopped arriving
                }
            } else if (idle.state() == IdleState.ALL_IDLE) {
                closing = true;
                ctx.close(); // keep-alive timeout, or a client that never finished its request head
            }
        } else if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            log.debug("TLS handshake with {} failed: {}", clientIp, hs.cause().toString());
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause instanceof io.netty.handler.codec.DecoderException
                || cause instanceof io.netty.handler.codec.http2.Http2Exception) {
            // what a client does wrong, or a stream it reset: any client could fill the log with them
            log.debug("client {}: {}", clientIp, cause.toString());
        } else {
            log.warn("client {}: unexpected error", clientIp, cause);
        }
        closing = true;
        ctx.close();
    }
}
