package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 connections to upstream endpoints (the {@code GRPC} and {@code GRPCS} backend
 * protocols), owned by one event loop: each request is a stream on a shared connection, not a
 * connection of its own.
 *
 * <p>{@link #openStream} hands out a new stream child channel ({@code AUTO_READ} off, so the
 * response is read only as fast as the client takes it, and the stream's window follows) whose
 * pipeline is {@code Http2StreamFrameToHttpObjectCodec → UpstreamStreamAdapter →
 * UpstreamHandler}: the {@link ProxyExchange} exchanges the same HTTP objects with it as with an
 * HTTP/1.1 connection. A stream is used once and closed; its connection stays, shared by every
 * request of this loop to that endpoint, until it is idle for {@link #IDLE_TIMEOUT} or the
 * upstream sends GOAWAY. A connection that cannot take another stream (the upstream's
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}) makes the next request open another connection.
 *
 * <p>{@code GRPC} is HTTP/2 in clear with prior knowledge (h2c), {@code GRPCS} HTTP/2 over TLS,
 * ALPN {@code h2}, without certificate verification and without SNI (ingress-nginx's defaults:
 * {@code proxy-ssl-verify off}, {@code proxy-ssl-server-name off}).
 *
 * <p>Every method runs on the loop; nothing is locked.
 */
final class Http2UpstreamPool {
    private static final Logger log = LoggerFactory.getLogger(Http2UpstreamPool.class);

    static final Duration IDLE_TIMEOUT = UpstreamPool.IDLE_TIMEOUT;
    /** Per-stream receive window (HTTP/2's default); the connection's is {@link #STREAMS_PER_WINDOW} times it. */
    static final int STREAM_WINDOW = 65_535;
    static final int STREAMS_PER_WINDOW = 100;
    /** Response headers up to 64 KiB, as from HTTP/1.1 upstreams. */
    static final int MAX_HEADER_LIST_SIZE = 64 * 1024;

    private final EventLoop loop;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Transport transport;
    private final Map<Key, List<Connection>> connections = new HashMap<>();
    private SslContext tlsContext; // built on first GRPCS use
    private boolean closed;

    private record Key(Endpoint endpoint, boolean tls) {}

    /** One HTTP/2 connection: usable once {@code ready} succeeded, until it goes away. */
    private static final class Connection {
        final Channel channel;
        final Promise<Void> ready;
        Http2FrameCodec codec;
        boolean goingAway;

        Connection(Channel channel, Promise<Void> ready) {
            this.channel = channel;
            this.ready = ready;
        }

        boolean canOpenStream() {
            return !goingAway && channel.isActive()
                    && (!ready.isDone() || codec.connection().local().canOpenStream());
        }
    }

    /** @param resolver resolves host name endpoints (ExternalName Services) without blocking the loop */
    Http2UpstreamPool(EventLoop loop, Transport transport, AddressResolverGroup<InetSocketAddress> resolver) {
        this.loop = loop;
        this.transport = transport;
        this.resolver = resolver;
    }

    EventLoop loop() {
        return loop;
    }

    /**
     * A new stream to {@code endpoint}, on a connection of this pool or a new one; fails when the
     * connection (or, for {@code tls}, its handshake) fails. Cancelling the future gives the
     * stream up: one that opens later is closed at once.
     */
    Future<Channel> openStream(Endpoint endpoint, boolean tls, Duration connectTimeout) {
        Promise<Channel> result = loop.newPromise();
        if (closed) {
            result.setFailure(new IllegalStateException("shutting down"));
            return result;
        }
        Key key = new Key(endpoint, tls);
        Connection c = usable(key);
        if (c == null) {
            c = connect(key, connectTimeout);
        }
        Connection conn = c;
        conn.ready.addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
            } else if (!result.isDone()) {
                open(conn, key, result);
            }
        });
        return result;
    }

    private Connection usable(Key key) {
        List<Connection> list = connections.get(key);
        if (list == null) {
            return null;
        }
        for (Connection c : list) {
            if (c.canOpenStream()) {
                return c;
            }
        }
        return null;
    }

    private void open(Connection conn, Key key, Promise<Channel> result) {
        new Http2StreamChannelBootstrap(conn.channel)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("codec", new Http2StreamFrameToHttpObjectCodec(false));
                        p.addLast("h2-adapter", new UpstreamStreamAdapter(key.tls()));
                        p.addLast("upstream", new UpstreamHandler(NOT_POOLED, UpstreamKey.clear(key.endpoint())));
                    }
                })
                .open()
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        result.tryFailure(f.cause());
                        return;
                    }
                    Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                    if (!result.trySuccess(stream)) {
                        stream.close(); // given up meanwhile
                    }
                });
    }

    private Connection connect(Key key, Duration connectTimeout) {
        Promise<Void> ready = loop.newPromise();
        SslContext tls = key.tls() ? tlsContext() : null;
        ChannelFuture cf = UpstreamPool.bootstrap(loop, transport.socketChannel(), resolver,
                        UpstreamPool.connectTimeoutMillis(connectTimeout))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("idle", new IdleTimeoutHandler(0, IDLE_TIMEOUT.toNanos()));
                        if (tls != null) {
                            p.addLast("tls", tls.newHandler(ch.alloc()));
                        }
                    }
                })
                .connect(address(key.endpoint()));
        Connection conn = new Connection(cf.channel(), ready);
        connections.computeIfAbsent(key, k -> new ArrayList<>(2)).add(conn);
        cf.channel().closeFuture().addListener(f -> {
            List<Connection> list = connections.get(key);
            if (list != null && list.remove(conn) && list.isEmpty()) {
                connections.remove(key);
            }
            ready.tryFailure(new java.nio.channels.ClosedChannelException());
        });
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
                return;
            }
            if (tls == null) {
                startHttp2(conn);
                return;
            }
            SslHandler ssl = cf.channel().pipeline().get(SslHandler.class);
            ssl.handshakeFuture().addListener(h -> {
                if (!h.isSuccess()) {
                    ready.tryFailure(h.cause());
                    cf.channel().close();
                } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
                    ready.tryFailure(new SSLException("the upstream did not choose h2 by ALPN"));
                    cf.channel().close();
                } else {
                    startHttp2(conn);
                }
            });
        });
        return conn;
    }

    /** Adds the HTTP/2 handlers (client preface, settings) once the connection is up. */
    private void startHttp2(Connection conn) {
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .initialWindowSize(STREAM_WINDOW)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                .gracefulShutdownTimeoutMillis(0)
                .build();
        conn.codec = codec;
        ChannelPipeline p = conn.channel.pipeline();
        p.addLast("h2", codec);
        p.addLast("h2-streams", new Http2MultiplexHandler(new RefusePushes()));
        p.addLast("h2-connection", new ConnectionHandler(conn));
        // as on the client side: one slow reader must not use up the connection's window
        conn.channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(STREAMS_PER_WINDOW * STREAM_WINDOW - STREAM_WINDOW));
        conn.ready.trySuccess(null);
    }

    private SslContext tlsContext() {
        if (tlsContext == null) {
            try {
                tlsContext = SslContextBuilder.forClient()
                        .sslProvider(FakeCertificate.provider())
                        .protocols("TLSv1.3", "TLSv1.2")
                        .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                        .trustManager(InsecureTrustManagerFactory.INSTANCE) // proxy-ssl-verify off
                        .applicationProtocolConfig(new ApplicationProtocolConfig(
                                ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                                ApplicationProtocolNames.HTTP_2))
                        .build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot build the upstream TLS context", e);
            }
        }
        return tlsContext;
    }

    /** Closes every connection and refuses new streams; runs on the loop. */
    void close() {
        closed = true;
        // a close runs the connection's close listener at once, which edits the map: iterate a copy
        for (List<Connection> list : new ArrayList<>(connections.values())) {
            for (Connection c : list.toArray(new Connection[0])) {
                c.channel.close();
            }
        }
        connections.clear();
    }

    /** How many connections the pool holds (tests). */
    int connectionCount() {
        int n = 0;
        for (List<Connection> list : connections.values()) {
            n += list.size();
        }
        return n;
    }

    private static InetSocketAddress address(Endpoint endpoint) {
        byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(endpoint.address());
        try {
            if (ip != null) {
                return new InetSocketAddress(InetAddress.getByAddress(ip), endpoint.port());
            }
        } catch (UnknownHostException e) {
            // cannot happen for a 4- or 16-byte address
        }
        return InetSocketAddress.createUnresolved(endpoint.address(), endpoint.port());
    }

    /** The connection-level handler: GOAWAY and idleness end a connection's use. */
    private static final class ConnectionHandler extends ChannelInboundHandlerAdapter {
        private final Connection conn;

        ConnectionHandler(Connection conn) {
            this.conn = conn;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2GoAwayFrame) {
                conn.goingAway = true; // streams already open finish; new ones go elsewhere
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.ALL_IDLE
                    && conn.codec.connection().numActiveStreams() == 0) {
                ctx.close();
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("upstream HTTP/2 connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** Server push is disabled in our SETTINGS; a pushed stream is refused all the same. */
    private static final class RefusePushes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }

        @Override
        public boolean isSharable() {
            return true;
        }
    }

    /** Streams are never pooled: each is closed after its exchange; its connection is shared. */
    static final Upstreams NOT_POOLED = new Upstreams() {
        @Override
        public Channel acquire(UpstreamKey key) {
            return null;
        }

        @Override
        public ChannelFuture connect(UpstreamKey key, Duration connectTimeout) {
            throw new UnsupportedOperationException("HTTP/2 streams are opened by Http2UpstreamPool.openStream");
        }

        @Override
        public void release(UpstreamKey key, Channel ch) {
            ch.close();
        }

        @Override
        public void remove(UpstreamKey key, Channel ch) {
            // nothing pooled
        }
    };
}
