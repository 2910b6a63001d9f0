package dev.sluice.gateway.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection-level handler of an HTTP/2 client connection: counts the connection, closes it
 * when it has been idle with no stream open for the keep-alive timeout, and drains it with a
 * GOAWAY on shutdown (the streams already open finish, new ones are refused, then it closes).
 *
 * <p>{@link #install} builds the connection's handlers: {@code FlushConsolidationHandler →
 * Http2FrameCodec → Http2MultiplexHandler → this}. Every stream the client opens becomes a child channel on the
 * connection's event loop, with {@code AUTO_READ} off, whose pipeline is
 * {@code idle → Http2StreamFrameToHttpObjectCodec → ClientStreamAdapter → ProxyHandler}: each
 * request is served by a {@link ProxyExchange} exactly as if it had come over HTTP/1.1. A stream
 * reads its request body only as fast as the upstream takes it, so its receive window (64 KiB)
 * is replenished no faster; the connection's window is as large as all streams' together, so one
 * slow stream never stalls the others. Responses go out as the client's windows allow: the
 * exchange reads more from the upstream only once what it wrote has been sent.
 *
 * <p>Limits, NGINX's where it has one: at most {@value #MAX_CONCURRENT_STREAMS} concurrent
 * streams ({@code http2_max_concurrent_streams}); a header list of at most
 * {@value #MAX_HEADER_LIST_SIZE} bytes, as for HTTP/1.1 ({@code large_client_header_buffers 4
 * 8k}), which also bounds a CONTINUATION flood, together with Netty's cap on tiny CONTINUATION
 * frames; at most {@value #MAX_RST_FRAMES} RST_STREAM frames from the client per
 * {@value #RST_WINDOW_SECONDS} s (the "rapid reset" attack, CVE-2023-44487: a client that resets
 * streams faster gets GOAWAY); at most {@value #MAX_QUEUED_CONTROL_FRAMES} control frames
 * (PING/SETTINGS acknowledgements, resets) queued for a client that does not read.
 *
 * <p>Confined to the connection's event loop.
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);

    static final int MAX_CONCURRENT_STREAMS = 128;
    static final int MAX_HEADER_LIST_SIZE = ProxyChannelInitializer.MAX_HEADER_SIZE;
    /** Every stream's receive window: HTTP/2's default, NGINX's {@code http2_body_preread_size}. */
    static final int STREAM_WINDOW = 65_535;
    static final int CONNECTION_WINDOW = MAX_CONCURRENT_STREAMS * STREAM_WINDOW;
    static final int MAX_RST_FRAMES = 200;
    static final int RST_WINDOW_SECONDS = 30;
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    static final int MAX_SMALL_CONTINUATION_FRAMES = 16;
    static final int MAX_CONSECUTIVE_EMPTY_DATA_FRAMES = 2;

    private final ServerContext server;
    private final Http2FrameCodec codec;
    private boolean draining;

    private Http2Connection(ServerContext server, Http2FrameCodec codec) {
        this.server = server;
        this.codec = codec;
    }

    /**
     * Adds the HTTP/2 handlers to a connection whose client chose {@code h2} (by ALPN, or by
     * prior knowledge on the plain listener) and starts reading frames.
     *
     * @param proxied the connection's PROXY protocol source, {@code null}: the TCP peer is the client
     */
    static void install(ChannelPipeline p, ServerContext server, boolean https,
            ProxyProtocolHandler.ClientAddress proxied, long clientBodyTimeoutNanos) {
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE)
                        .initialWindowSize(STREAM_WINDOW))
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES, RST_WINDOW_SECONDS)
                .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATION_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(MAX_CONSECUTIVE_EMPTY_DATA_FRAMES)
                .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                // a close is final: draining waits for the streams itself (DRAIN), then closes
                .gracefulShutdownTimeoutMillis(0)
                .build();
        InetAddress client = proxied != null ? proxied.address()
                : p.channel().remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
        String clientIp = client != null ? NetUtil.toAddressString(client) : "";
        byte[] clientAddress = client != null ? client.getAddress() : null;
        // Every stream flushes its own response; unconsolidated, each flush is one TLS record and
        // one write(2) on the connection. Flushes made while the connection reads go out at the
        // end of the read, those made outside one (responses arriving from upstreams) at the end
        // of the event loop's current batch of I/O: one write for all streams answered in it.
        p.addLast("h2-flush", new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        p.addLast("h2", codec);
        p.addLast("h2-streams", new Http2MultiplexHandler(
                new StreamInitializer(server, https, clientIp, clientAddress, clientBodyTimeoutNanos)));
        p.addLast("h2-connection", new Http2Connection(server, codec));
        // frames are read as they come: HTTP/2 flow control, not TCP, holds back request bodies
        p.channel().config().setAutoRead(true);
    }

    /** The pipeline of one client stream. */
    private static final class StreamInitializer extends ChannelInitializer<Channel> {
        private final ServerContext server;
        private final boolean https;
        private final String clientIp;
        private final byte[] clientAddress;
        private final long clientBodyTimeoutNanos;

        StreamInitializer(ServerContext server, boolean https, String clientIp, byte[] clientAddress,
                long clientBodyTimeoutNanos) {
            this.server = server;
            this.https = https;
            this.clientIp = clientIp;
            this.clientAddress = clientAddress;
            this.clientBodyTimeoutNanos = clientBodyTimeoutNanos;
        }

        @Override
        protected void initChannel(Channel ch) {
            ch.config().setAutoRead(false);
            ChannelPipeline p = ch.pipeline();
            // client_body_timeout per stream: a body that stops arriving gets 408
            p.addLast("idle", new IdleStateHandler(clientBodyTimeoutNanos, 0, 0, TimeUnit.NANOSECONDS));
            p.addLast("http", new Http2StreamFrameToHttpObjectCodec(true));
            p.addLast("h2-adapter", new ClientStreamAdapter());
            p.addLast("proxy", ProxyHandler.forStream(server, https, clientIp, clientAddress));
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        server.metrics().connectionOpened();
        // the connection window starts at 64 KiB like a stream's: widen it to all streams' together
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - STREAM_WINDOW));
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (draining && codec.connection().numActiveStreams() == 0) {
                    ctx.close();
                }
            }
        });
        if (server.draining()) {
            drain(ctx);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        server.metrics().connectionClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // connection-level frames (SETTINGS, PING, GOAWAY): Netty has acted on them already
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ProxyHandler.DRAIN) {
            drain(ctx);
        } else if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.ALL_IDLE
                && codec.connection().numActiveStreams() == 0) {
            ctx.close(); // keepalive_timeout: GOAWAY, then close
        }
        ReferenceCountUtil.release(evt);
    }

    /** GOAWAY (no error): the streams open now finish, then the connection closes. */
    private void drain(ChannelHandlerContext ctx) {
        if (draining) {
            return;
        }
        draining = true;
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        if (codec.connection().numActiveStreams() == 0) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP/2 client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
