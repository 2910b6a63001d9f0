package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Idle keep-alive connections to upstream endpoints, owned by one event loop.
 *
 * <p>Every method runs on that loop (connections made here are registered on it, and requests
 * that use them are handled on it), so nothing is locked or handed between threads — the
 * per-worker {@code keepalive} cache of NGINX. Connections are reused last-in first-out (the
 * warmest one), at most {@link #MAX_IDLE_PER_ENDPOINT} are kept per endpoint, and an idle one is
 * closed after {@link #IDLE_TIMEOUT} (NGINX's {@code keepalive_timeout 60s} for upstreams) or as
 * soon as the upstream closes it.
 *
 * <p>Connections are pooled by {@link UpstreamKey}: endpoint and TLS settings. A TLS connection
 * is handed to its exchange only once the handshake has succeeded; the handshake counts as part
 * of connecting ({@code proxy-connect-timeout} bounds it, as NGINX's {@code proxy_connect_timeout}
 * bounds {@code SSL_connect}), so a failed handshake or verification is retried on the next
 * endpoint like a refused connect.
 */
final class UpstreamPool implements Upstreams {
    /** ingress-nginx's {@code upstream-keepalive-connections} (320 per worker). */
    static final int MAX_IDLE_PER_ENDPOINT = 320;
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

    private final EventLoop loop;
    private final Transport transport;
    private final UpstreamTlsContexts tlsContexts;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Map<UpstreamKey, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Map<Endpoint, InetSocketAddress> addresses = new HashMap<>();
    /** The last key made per endpoint: a request to the same endpoint with the same settings shares it. */
    private final Map<Endpoint, UpstreamKey> keys = new HashMap<>();
    private boolean closed;

    /**
     * @param resolver resolves host name endpoints (ExternalName Services) without blocking the loop,
     *                 on every new connection (its cache honours the DNS TTLs)
     */
    UpstreamPool(EventLoop loop, Transport transport, UpstreamTlsContexts tlsContexts,
            AddressResolverGroup<InetSocketAddress> resolver) {
        this.loop = loop;
        this.transport = transport;
        this.tlsContexts = tlsContexts;
        this.resolver = resolver;
    }

    EventLoop loop() {
        return loop;
    }

    @Override
    public UpstreamKey key(Endpoint endpoint, UpstreamTls tls, int responseHeaderLimit) {
        UpstreamKey last = keys.get(endpoint);
        if (last != null && last.endpoint() == endpoint && last.responseHeaderLimit() == responseHeaderLimit
                && (last.tls() == tls || (tls != null && tls.equals(last.tls())))) {
            return last;
        }
        UpstreamKey key = new UpstreamKey(endpoint, tls, responseHeaderLimit);
        if (keys.size() > 10_000) {
            keys.clear(); // endpoints churn with Pods; keep the cache bounded
        }
        keys.put(endpoint, key);
        return key;
    }

    @Override
    public Channel acquire(UpstreamKey key) {
        ArrayDeque<Channel> q = idle.get(key);
        if (q == null) {
            return null;
        }
        Channel ch;
        while ((ch = q.pollLast()) != null) {
            if (ch.isActive()) {
                return ch;
            }
            ch.close();
        }
        return null;
    }

    /**
     * Opens a new connection on this loop; the caller attaches its exchange when it completes (for
     * TLS: when the handshake has completed).
     */
    @Override
    public ChannelFuture connect(UpstreamKey key, Duration connectTimeout) {
        Endpoint endpoint = key.endpoint();
        InetSocketAddress address = addresses.get(endpoint);
        if (address == null) {
            address = resolve(endpoint);
            if (addresses.size() > 10_000) {
                addresses.clear(); // endpoints churn with Pods; keep the cache bounded
            }
            addresses.put(endpoint, address);
        }
        int timeoutMillis = connectTimeoutMillis(connectTimeout);
        SslContext ssl = null;
        RuntimeException tlsError = null;
        if (key.tls() != null) {
            try {
                ssl = tlsContexts.get(key.tls());
            } catch (RuntimeException e) {
                tlsError = e;
            }
        }
        SslContext tlsContext = ssl;
        Bootstrap b = bootstrap(loop, transport.socketChannel(), resolver, timeoutMillis)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tlsContext != null) {
                            ch.pipeline().addLast("tls", tlsHandler(ch, tlsContext, key, timeoutMillis));
                        }
                        initPipeline(ch.pipeline(), UpstreamPool.this, key);
                    }
                });
        if (tlsError != null) {
            // never connect without the TLS the location asked for: fail like a refused connect
            ChannelFuture registered = b.register();
            registered.channel().close();
            return registered.channel().newFailedFuture(new javax.net.ssl.SSLException(
                    "no TLS context for " + key.tls() + ": " + tlsError.getMessage(), tlsError));
        }
        ChannelFuture connected = b.connect(address);
        if (tlsContext == null) {
            return connected;
        }
        ChannelPromise ready = connected.channel().newPromise();
        connected.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
                return;
            }
            f.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(hs -> {
                if (hs.isSuccess()) {
                    ready.trySuccess();
                } else {
                    ready.tryFailure(hs.cause());
                    f.channel().close();
                }
            });
        });
        return ready;
    }

    /**
     * The TLS client handler of a new connection: made for the Pod's address and port (what the
     * JDK caches sessions by, so pooled and new connections to a Pod resume), SNI exactly as
     * {@code proxy-ssl-server-name} asks (none unless on, even for a host name endpoint), the
     * handshake bounded by the connect timeout.
     */
    /** A connect timeout as Netty's option takes it: milliseconds, at least 1. */
    static int connectTimeoutMillis(Duration connectTimeout) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    }

    /**
     * The settings every outgoing connection of the proxy shares (upstreams over HTTP/1.1 and
     * HTTP/2, the external auth service): this loop, no Nagle delay, TCP keep-alive, the connect
     * timeout, host names resolved without blocking the loop.
     */
    static Bootstrap bootstrap(EventLoop loop, Class<? extends SocketChannel> channel,
            AddressResolverGroup<InetSocketAddress> resolver, int connectTimeoutMillis) {
        return new Bootstrap()
                .group(loop)
                .channel(channel)
                .resolver(resolver)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
    }

    private static SslHandler tlsHandler(Channel ch, SslContext context, UpstreamKey key, int timeoutMillis) {
        SslHandler h = context.newHandler(ch.alloc(), key.endpoint().address(), key.endpoint().port());
        SSLEngine engine = h.engine();
        SSLParameters params = engine.getSSLParameters();
        String sni = key.tls().sniName();
        params.setServerNames(sni != null && !NetUtil.isValidIpV4Address(sni) && !NetUtil.isValidIpV6Address(sni)
                ? List.of(new SNIHostName(sni)) : List.of());
        engine.setSSLParameters(params);
        h.setHandshakeTimeoutMillis(timeoutMillis);
        return h;
    }

    /**
     * The handlers of every upstream connection after TLS (if any): idle close, HTTP/1.1 codec,
     * {@link UpstreamHandler}.
     */
    static void initPipeline(ChannelPipeline p, Upstreams owner, UpstreamKey key) {
        p.addLast("idle", new IdleTimeoutHandler(0, IDLE_TIMEOUT.toNanos()));
        p.addLast("codec", new UpstreamHttpCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(key.responseHeaderLimit())
                .setMaxChunkSize(64 * 1024)
                .setHeadersFactory(FlatHttpHeaders.VALIDATED)
                .setTrailersFactory(FlatHttpHeaders.TRAILERS)));
        p.addLast("upstream", new UpstreamHandler(owner, key));
    }

    @Override
    public void release(UpstreamKey key, Channel ch) {
        if (closed || !ch.isActive()) {
            ch.close();
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(key, e -> new ArrayDeque<>());
        if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        q.addLast(ch);
        ch.read(); // notice the upstream closing it while idle
    }

    @Override
    public void remove(UpstreamKey key, Channel ch) {
        ArrayDeque<Channel> q = idle.get(key);
        if (q != null) {
            q.remove(ch);
            if (q.isEmpty()) {
                idle.remove(key);
            }
        }
    }

    /** How many idle connections the pool holds (tests, metrics). */
    int idleCount() {
        int n = 0;
        for (ArrayDeque<Channel> q : idle.values()) {
            n += q.size();
        }
        return n;
    }

    /** Closes every idle connection and refuses new ones; runs on the loop. */
    void close() {
        closed = true;
        for (ArrayDeque<Channel> q : idle.values()) {
            for (Channel ch : q.toArray(new Channel[0])) {
                ch.close();
            }
        }
        idle.clear();
    }

    static InetSocketAddress resolve(Endpoint endpoint) {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(endpoint.address());
        try {
            if (ip != null) {
                // an IP literal: no DNS lookup on the event loop
                return new InetSocketAddress(InetAddress.getByAddress(ip), endpoint.port());
            }
        } catch (UnknownHostException e) {
            // cannot happen for a 4- or 16-byte address; fall through to resolution
        }
        // A host name (an ExternalName Service): the pool's asynchronous resolver looks it up per connection.
        return InetSocketAddress.createUnresolved(endpoint.address(), endpoint.port());
    }
}
