package dev.sluice.gateway.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.DefaultNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous HTTP client of external authentication ({@code auth-url}): sends one bodiless
 * request to the auth service and reports its status and headers.
 *
 * <p>One instance serves the whole process. A check runs entirely on the event loop it is given —
 * the loop of the client connection waiting for it — so the connection to the auth service is
 * registered there, its callback runs there, and nothing is handed between threads (the proxy's
 * idiom, see {@link UpstreamPool}). Idle connections are kept per event loop and auth
 * {@code (scheme, host, port)} when the request asks for {@code auth-keepalive}; the per-loop
 * state is only touched from its loop.
 *
 * <p>As NGINX's proxy module: no body is sent, the response body is read and discarded,
 * {@code https} auth services are not verified ({@code proxy_ssl_verify off}) but get SNI
 * ({@code proxy_ssl_server_name on}), {@code Connection: close} is sent unless keep-alive is on,
 * and a reused connection that fails before any answer is retried once on a new one. Host names
 * are resolved on two small shared resolver threads, never on the event loop.
 */
public final class ExternalAuthClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExternalAuthClient.class);

    private final Class<? extends SocketChannel> channelClass;
    /**
     * For {@code https} auth services; built on the first such check, since building it loads the
     * TLS provider, a third of a second of CPU that a start without such services should not pay
     * (the server prepares the provider once it is ready, so the first check rarely waits for it).
     */
    private final Lazy<SslContext> sslContext = new Lazy<>(ExternalAuthClient::newSslContext);
    private final EventExecutorGroup resolverThreads;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final ConcurrentMap<EventLoop, LoopConnections> loops = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * A client whose connections use {@code channelClass}, which must suit the event loops later
     * passed to {@link #check} (e.g. {@code EpollSocketChannel} for epoll loops).
     */
    public ExternalAuthClient(Class<? extends SocketChannel> channelClass) {
        this.channelClass = Objects.requireNonNull(channelClass, "channelClass");
        // threads start on first use only: auth URLs with IP literals never need them
        this.resolverThreads = new DefaultEventExecutorGroup(2, new DefaultThreadFactory("sluice-auth-dns", true));
        this.resolver = new OffLoopResolverGroup(resolverThreads);
    }

    private static SslContext newSslContext() {
        try {
            return SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the auth client TLS context", e);
        }
    }

    /** A client for the proxy's transport. */
    ExternalAuthClient(Transport transport) {
        this(transport.socketChannel());
    }

    /**
     * Sends {@code request} from {@code loop} and calls {@code done} on that loop exactly once,
     * with the answer or {@link ExternalAuthResult#FAILED}. Never blocks; a call from another
     * thread is moved onto {@code loop} first.
     */
    public void check(EventLoop loop, ExternalAuthRequest request, Consumer<ExternalAuthResult> done) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(done, "done");
        if (!loop.inEventLoop()) {
            loop.execute(() -> check(loop, request, done));
            return;
        }
        if (closed) {
            deliver(done, ExternalAuthResult.FAILED);
            return;
        }
        LoopConnections connections = loops.computeIfAbsent(loop, LoopConnections::new);
        new Exchange(connections, request, done).start(true);
    }

    /** Idle connections held for {@code loop} (tests, metrics); call on that loop. */
    int idleCount(EventLoop loop) {
        LoopConnections c = loops.get(loop);
        return c == null ? 0 : c.idleCount();
    }

    /** Closes every idle connection; checks after this fail at once. */
    @Override
    public void close() {
        closed = true;
        for (LoopConnections c : loops.values()) {
            if (!c.loop.isShuttingDown()) {
                c.loop.execute(c::closeAll);
            }
        }
        resolverThreads.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    private static void deliver(Consumer<ExternalAuthResult> done, ExternalAuthResult result) {
        try {
            done.accept(result);
        } catch (RuntimeException e) {
            log.warn("external auth callback failed", e);
        }
    }

    /**
     * Sets SNI explicitly: the JDK only sends it for names with a dot, NGINX for every name
     * that is not an IP address.
     */
    private static void sendServerName(SSLEngine engine, String host) {
        if (NetUtil.isValidIpV4Address(host) || host.startsWith("[") || NetUtil.isValidIpV6Address(host)) {
            return;
        }
        try {
            SSLParameters params = engine.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(host)));
            engine.setSSLParameters(params);
        } catch (IllegalArgumentException e) {
            // not a valid SNI name (e.g. a trailing dot): connect without SNI
        }
    }

    /** Which idle connections may serve a request. */
    private record Key(boolean https, String host, int port) {}

    /** The idle connections of one event loop; confined to that loop. */
    private final class LoopConnections {
        final EventLoop loop;
        final Map<Key, ArrayDeque<Channel>> idle = new HashMap<>();

        LoopConnections(EventLoop loop) {
            this.loop = loop;
        }

        /** The most recently used live idle connection for {@code key}, or {@code null}. */
        Channel acquire(Key key) {
            ArrayDeque<Channel> q = idle.get(key);
            if (q == null) {
                return null;
            }
            Channel ch;
            while ((ch = q.pollLast()) != null) {
                if (ch.isActive()) {
                    break;
                }
                ch.close();
            }
            if (q.isEmpty()) {
                idle.remove(key);
            }
            return ch;
        }

        /**
         * Keeps {@code ch} idle for up to {@code timeout}; beyond {@code max} connections the least
         * recently used one is closed (NGINX's {@code keepalive}).
         */
        void release(Key key, Channel ch, ConnectionHandler h, int max, Duration timeout) {
            if (closed || !ch.isActive()) {
                ch.close();
                return;
            }
            h.idleTimer = loop.schedule(() -> {
                ch.close(); // channelInactive then forgets it
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            ArrayDeque<Channel> q = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
            q.addLast(ch);
            while (q.size() > max) {
                q.pollFirst().close();
            }
        }

        void remove(Key key, Channel ch) {
            ArrayDeque<Channel> q = idle.get(key);
            if (q != null && q.remove(ch) && q.isEmpty()) {
                idle.remove(key);
            }
        }

        int idleCount() {
            int n = 0;
            for (ArrayDeque<Channel> q : idle.values()) {
                n += q.size();
            }
            return n;
        }

        void closeAll() {
            for (ArrayDeque<Channel> q : idle.values()) {
                for (Channel ch : q.toArray(new Channel[0])) {
                    ch.close();
                }
            }
            idle.clear();
        }
    }

    /**
     * The last handler of a connection to an auth service: feeds the current {@link Exchange},
     * or closes the connection while it is idle and anything arrives, it times out, or the peer
     * closes it. Confined to the connection's loop.
     */
    private static final class ConnectionHandler extends ChannelInboundHandlerAdapter {
        final LoopConnections pool;
        final Key key;
        Exchange exchange;
        int served;
        ScheduledFuture<?> idleTimer;

        ConnectionHandler(LoopConnections pool, Key key) {
            this.pool = pool;
            this.key = key;
        }

        void cancelIdleTimer() {
            if (idleTimer != null) {
                idleTimer.cancel(false);
                idleTimer = null;
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                Exchange e = exchange;
                if (e != null && msg instanceof HttpObject o) {
                    e.onMessage(o);
                } else {
                    ctx.close(); // an idle connection must not send anything
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            cancelIdleTimer();
            Exchange e = exchange;
            if (e != null) {
                e.onClosed();
            } else {
                pool.remove(key, ctx.channel());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Exchange e = exchange;
            if (e != null) {
                e.error = cause;
            }
            log.debug("auth service {}:{}: {}", key.host(), key.port(), cause.toString());
            ctx.close();
        }
    }

    /** One check, from connecting (or taking an idle connection) to calling {@code done}. */
    private final class Exchange {
        final LoopConnections pool;
        final ExternalAuthRequest request;
        final Consumer<ExternalAuthResult> done;
        final Key key;
        Channel channel;
        ConnectionHandler handler;
        SslHandler tls;
        boolean reused;
        boolean finished;
        boolean informational; // inside a 1xx interim response, which is skipped
        HttpResponse response;
        long lastReadNanos;
        ScheduledFuture<?> readTimer;
        Throwable error;

        Exchange(LoopConnections pool, ExternalAuthRequest request, Consumer<ExternalAuthResult> done) {
            this.pool = pool;
            this.request = request;
            this.done = done;
            this.key = new Key(request.https(), request.url().getHost().toLowerCase(Locale.ROOT), request.port());
        }

        void start(boolean mayReuse) {
            if (mayReuse && request.keepalive() > 0) {
                Channel ch = pool.acquire(key);
                if (ch != null) {
                    reused = true;
                    attach(ch, (ConnectionHandler) ch.pipeline().get("auth"));
                    handler.cancelIdleTimer();
                    send();
                    return;
                }
            }
            reused = false;
            connect();
        }

        private void attach(Channel ch, ConnectionHandler h) {
            channel = ch;
            handler = h;
            h.exchange = this;
        }

        private void connect() {
            int timeoutMillis = UpstreamPool.connectTimeoutMillis(request.connectTimeout());
            ConnectionHandler h = new ConnectionHandler(pool, key);
            handler = h;
            h.exchange = this;
            tls = null;
            ChannelFuture f = UpstreamPool.bootstrap(pool.loop, channelClass, resolver, timeoutMillis)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (key.https()) {
                                // SNI = the URL's host (proxy_ssl_server_name on)
                                tls = sslContext.get().newHandler(ch.alloc(), key.host(), key.port());
                                // NGINX counts the handshake under proxy_connect_timeout
                                tls.setHandshakeTimeoutMillis(timeoutMillis);
                                sendServerName(tls.engine(), key.host());
                                ch.pipeline().addLast("tls", tls);
                            }
                            ch.pipeline().addLast("codec", new HttpClientCodec(new HttpDecoderConfig()
                                    .setMaxInitialLineLength(8192)
                                    .setMaxHeaderSize(64 * 1024)
                                    .setMaxChunkSize(64 * 1024), false, false));
                            ch.pipeline().addLast("auth", h);
                        }
                    })
                    .connect(address());
            channel = f.channel();
            // set by initChannel, which ran already: registering from the channel's own loop is synchronous
            SslHandler handshaking = tls;
            f.addListener((ChannelFuture cf) -> {
                if (!cf.isSuccess()) {
                    error = cf.cause();
                    fail("connect");
                } else if (handshaking != null) {
                    handshaking.handshakeFuture().addListener(hf -> {
                        if (hf.isSuccess()) {
                            send();
                        } else {
                            error = hf.cause();
                            fail("TLS handshake");
                        }
                    });
                } else {
                    send();
                }
            });
        }

        private InetSocketAddress address() {
            String host = key.host();
            String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            byte[] ip = NetUtil.createByteArrayFromIpAddressString(literal);
            if (ip != null) {
                try {
                    return new InetSocketAddress(InetAddress.getByAddress(ip), key.port());
                } catch (UnknownHostException e) {
                    // cannot happen for a 4- or 16-byte address; resolve below
                }
            }
            return InetSocketAddress.createUnresolved(host, key.port());
        }

        private void send() {
            if (finished) {
                return;
            }
            HttpHeaders headers = request.headers().copy();
            if (!headers.contains(HttpHeaderNames.HOST)) {
                headers.set(HttpHeaderNames.HOST, request.url().getHost());
            }
            // no body: neither Content-Length nor Transfer-Encoding (proxy_pass_request_body off)
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
            if (request.keepalive() > 0) {
                headers.remove(HttpHeaderNames.CONNECTION); // proxy_set_header Connection ""
            } else {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE); // NGINX's default
            }
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), request.target(),
                    Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE);
            lastReadNanos = System.nanoTime();
            scheduleReadTimer(request.readTimeout().toNanos());
            Channel ch = channel;
            ch.writeAndFlush(req).addListener(wf -> {
                if (!wf.isSuccess() && ch == channel) { // not for a connection already given up
                    error = wf.cause();
                    onClosed();
                }
            });
        }

        private void scheduleReadTimer(long delayNanos) {
            readTimer = pool.loop.schedule(this::checkReadTimeout, delayNanos, TimeUnit.NANOSECONDS);
        }

        /** proxy_read_timeout: the longest pause between two reads, not a deadline for the whole answer. */
        private void checkReadTimeout() {
            if (finished) {
                return;
            }
            long left = request.readTimeout().toNanos() - (System.nanoTime() - lastReadNanos);
            if (left > 0) {
                scheduleReadTimer(left);
            } else {
                fail("read timeout after " + request.readTimeout().toMillis() + " ms");
            }
        }

        void onMessage(HttpObject msg) {
            if (finished) {
                return;
            }
            lastReadNanos = System.nanoTime();
            if (msg.decoderResult().isFailure()) {
                error = msg.decoderResult().cause();
                fail("malformed response");
                return;
            }
            if (msg instanceof HttpResponse r) {
                int code = r.status().code();
                if (code == 101) {
                    fail("unexpected 101 Switching Protocols");
                    return;
                }
                if (code >= 100 && code < 200) {
                    informational = true;
                } else {
                    response = r;
                }
            }
            if (msg instanceof LastHttpContent) {
                if (informational) {
                    informational = false;
                } else if (response != null) {
                    succeed();
                }
            }
            // body chunks are dropped (the handler releases them): only status and headers matter
        }

        void onClosed() {
            if (finished) {
                return;
            }
            if (reused && response == null && !informational) {
                // the service closed an idle connection as we used it: NGINX retries such a
                // cached connection, and a bodiless check is always safe to repeat
                cancelReadTimer();
                handler.exchange = null;
                channel.close();
                error = null;
                start(false);
                return;
            }
            fail(response == null ? "connection closed before a response" : "connection closed mid-response");
        }

        private void succeed() {
            finished = true;
            cancelReadTimer();
            handler.exchange = null;
            ExternalAuthResult result = new ExternalAuthResult(response.status().code(), response.headers());
            handler.served++;
            if (request.keepalive() > 0 && HttpUtil.isKeepAlive(response) && !closed
                    && handler.served < request.keepaliveRequests() && channel.isActive()) {
                pool.release(key, channel, handler, request.keepalive(), request.keepaliveTimeout());
            } else {
                channel.close();
            }
            deliver(done, result);
        }

        private void fail(String why) {
            if (finished) {
                return;
            }
            finished = true;
            cancelReadTimer();
            if (handler != null) {
                handler.exchange = null;
            }
            if (channel != null) {
                channel.close();
            }
            if (log.isDebugEnabled()) {
                log.debug("external auth {} failed: {}{}", request.url(), why, error != null ? " (" + error + ")" : "");
            }
            deliver(done, ExternalAuthResult.FAILED);
        }

        private void cancelReadTimer() {
            if (readTimer != null) {
                readTimer.cancel(false);
                readTimer = null;
            }
        }
    }

    /**
     * Resolves host names on a few shared threads, because the JDK's resolver blocks: Netty's
     * default would run it on the event loop. Each loop is bound to one resolver thread; the
     * connect itself still happens on the loop.
     */
    private static final class OffLoopResolverGroup extends AddressResolverGroup<InetSocketAddress> {
        private final EventExecutorGroup threads;

        OffLoopResolverGroup(EventExecutorGroup threads) {
            this.threads = threads;
        }

        @Override
        protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
            return new DefaultNameResolver(threads.next()).asAddressResolver();
        }
    }
}
