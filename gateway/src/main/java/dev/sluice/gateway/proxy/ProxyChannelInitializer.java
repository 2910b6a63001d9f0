package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Promise;
import dev.sluice.gateway.route.ListenerSettings;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * Builds the pipeline of an accepted client connection:
 * {@code idle → [proxy-protocol → proxy-protocol-source] → http (StrictHttpServerCodec) → proxy
 * (ProxyHandler)} on the plain listener, and on the TLS listener
 * {@code idle → [proxy-protocol …] → tls (SNI) → alpn}, where {@link AlpnHandler} puts either
 * the same HTTP/1.1 handlers or the HTTP/2 ones ({@link Http2Connection#install}) in its place
 * once the handshake has chosen the protocol.
 *
 * <p>With the PROXY protocol on, its header precedes everything else on the connection, the TLS
 * ClientHello included, so its decoder comes first (after the idle timer, which bounds a header
 * that never arrives); see {@link ProxyProtocolHandler}.
 *
 * <p>Limits follow NGINX's defaults: request line up to 8 KiB (longer → 414), request headers
 * up to 32 KiB in total and 8 KiB per line ({@code large_client_header_buffers 4 8k}; larger →
 * 431, see {@link RequestChecks}); obsolete line folding → 400 ({@link StrictHttpServerCodec}); a
 * connection with no request in flight is closed after {@link #KEEP_ALIVE_TIMEOUT} without traffic
 * ({@code keepalive_timeout 75s}); a request body that stops arriving for
 * {@link #CLIENT_BODY_TIMEOUT} gets 408 ({@code client_body_timeout 60s}); a request head not
 * complete {@link #CLIENT_HEADER_TIMEOUT} after it started closes the connection
 * ({@code client_header_timeout 60s}, {@link ClientHeaderDeadline}); connections over the
 * {@link ConnectionCaps} are closed on accept.
 */
final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {
    static final int MAX_INITIAL_LINE = 8 * 1024;
    static final int MAX_HEADER_SIZE = 32 * 1024;
    static final int MAX_CHUNK_SIZE = 64 * 1024;
    static final Duration KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(75);
    static final Duration CLIENT_BODY_TIMEOUT = Duration.ofSeconds(60);
    static final Duration CLIENT_HEADER_TIMEOUT = Duration.ofSeconds(60);
    /** Connect timeout of SSL passthrough connections (ingress-nginx's TCP proxy dials with the default 5 s). */
    static final int PASSTHROUGH_CONNECT_TIMEOUT_MILLIS = 5000;

    private final ServerContext server;
    private final SniCertificates certificates; // null on the plain HTTP listener
    private final boolean proxyProtocol;
    private final Class<? extends SocketChannel> passthroughChannel; // null: no SSL passthrough
    private final long clientBodyTimeoutNanos;
    private boolean h2c; // plain listener only; set before the listener binds
    private long clientHeaderTimeoutNanos = CLIENT_HEADER_TIMEOUT.toNanos(); // set before the listener binds
    private ConnectionCaps caps; // shared by both listeners; null: no caps
    private final long keepAliveTimeoutNanos;

    ProxyChannelInitializer(ServerContext server, SniCertificates certificates, boolean proxyProtocol,
            Duration clientBodyTimeout, Duration keepAliveTimeout) {
        this(server, certificates, proxyProtocol, null, clientBodyTimeout, keepAliveTimeout);
    }

    /**
     * @param passthroughChannel the socket channel class for SSL passthrough connections (the
     *                           HTTPS listener with {@code --enable-ssl-passthrough}), or {@code null}
     */
    ProxyChannelInitializer(ServerContext server, SniCertificates certificates, boolean proxyProtocol,
            Class<? extends SocketChannel> passthroughChannel, Duration clientBodyTimeout, Duration keepAliveTimeout) {
        this.server = server;
        this.certificates = certificates;
        this.proxyProtocol = proxyProtocol;
        this.passthroughChannel = passthroughChannel;
        this.clientBodyTimeoutNanos = clientBodyTimeout.toNanos();
        this.keepAliveTimeoutNanos = keepAliveTimeout.toNanos();
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (caps != null && !caps.admit(ch)) {
            ch.close(); // over a connection cap: not a byte read
            return;
        }
        server.clients().add(ch);
        ChannelPipeline p = ch.pipeline();
        // the global ConfigMap's listener keys apply from the next connection on, without a restart
        ListenerSettings settings = server.routes().current().settings().listener();
        long keepAlive = settings.keepAliveTimeout() != null ? settings.keepAliveTimeout().toNanos()
                : keepAliveTimeoutNanos;
        p.addLast("idle", new IdleTimeoutHandler(clientBodyTimeoutNanos(), keepAlive));
        if (proxyProtocol || settings.proxyProtocol()) {
            p.addLast("proxy-protocol", ProxyProtocolHandler.newDecoder());
            p.addLast("proxy-protocol-source", new ProxyProtocolHandler(server.metrics()));
        }
        if (certificates != null && passthroughChannel != null) {
            p.addLast("passthrough", new PassthroughHandler(server.routes(), passthroughChannel,
                    PASSTHROUGH_CONNECT_TIMEOUT_MILLIS));
        }
        if (certificates != null) {
            p.addLast("tls", new SniHandler(sniMapping(certificates)));
            p.addLast("alpn", new AlpnHandler(this));
        } else if (h2c) {
            p.addLast("h2c", new PriorKnowledgeHandler(this));
        } else {
            addHttp1(p, false);
        }
    }

    /** The HTTP/1.1 handlers: codec with NGINX's limits, then the proxy. */
    void addHttp1(ChannelPipeline p, boolean https) {
        // client-header-timeout and large-client-header-buffers of the global ConfigMap, for
        // connections opened after a change
        ListenerSettings settings = server.routes().current().settings().listener();
        ClientHeaderDeadline deadline = new ClientHeaderDeadline(settings.clientHeaderTimeout() != null
                ? settings.clientHeaderTimeout().toNanos() : clientHeaderTimeoutNanos);
        p.addLast("header-deadline", deadline);
        p.addLast("http", new StrictHttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(settings.maxRequestLine() > 0 ? settings.maxRequestLine() : MAX_INITIAL_LINE)
                .setMaxHeaderSize(settings.maxHeaderSize() > 0 ? settings.maxHeaderSize() : MAX_HEADER_SIZE)
                .setMaxChunkSize(MAX_CHUNK_SIZE)
                .setHeadersFactory(FlatHttpHeaders.VALIDATED)
                .setTrailersFactory(FlatHttpHeaders.TRAILERS)));
        p.addLast("proxy", new ProxyHandler(server, https).headerDeadline(deadline));
    }

    /**
     * The HTTP/2 handlers of a TLS connection that chose {@code h2}; {@code proxied} is the
     * connection's PROXY protocol source, {@code null} without one.
     */
    void addHttp2(ChannelPipeline p, ProxyProtocolHandler.ClientAddress proxied) {
        Http2Connection.install(p, server, true, proxied, clientBodyTimeoutNanos());
    }

    ServerContext server() {
        return server;
    }

    /** The client body timeout of a new connection: the global ConfigMap's, else the listener's. */
    long clientBodyTimeoutNanos() {
        Duration configured = server.routes().current().settings().listener().clientBodyTimeout();
        return configured != null ? configured.toNanos() : clientBodyTimeoutNanos;
    }

    /**
     * This initializer with {@code client_header_timeout} {@code headerTimeout} and the
     * connection caps {@code caps} (shared with the server's other listener; {@code null}: none).
     */
    ProxyChannelInitializer withClientLimits(Duration headerTimeout, ConnectionCaps caps) {
        this.clientHeaderTimeoutNanos = headerTimeout.toNanos();
        this.caps = caps != null && caps.capped() ? caps : null;
        return this;
    }

    /** This plain-HTTP initializer with h2c by prior knowledge ({@code --enable-h2c}) on or off. */
    ProxyChannelInitializer withH2c(boolean on) {
        h2c = on;
        return this;
    }

    /**
     * SNI names are matched lower-case without a trailing dot (SPEC §10.2). A handshake whose
     * context is not ready ({@link SniCertificates#contextFor}: the TLS provider still loading just
     * after start, a new certificate still being built) waits for it without holding up the event loop.
     */
    static AsyncMapping<String, SslContext> sniMapping(SniCertificates certificates) {
        return (name, promise) -> {
            String n = name;
            if (n != null) {
                n = n.toLowerCase(Locale.ROOT);
                if (n.endsWith(".")) {
                    n = n.substring(0, n.length() - 1);
                }
                if (n.isEmpty()) {
                    n = null;
                }
            }
            CompletableFuture<SslContext> context;
            try {
                context = certificates.contextFor(n);
            } catch (RuntimeException | LinkageError e) { // the TLS provider failed to load: this handshake fails
                return promise.setFailure(e);
            }
            if (context.isDone()) {
                complete(context, promise);
            } else {
                context.whenComplete((ok, failure) -> complete(context, promise));
            }
            return promise;
        };
    }

    private static void complete(CompletableFuture<SslContext> context, Promise<SslContext> promise) {
        try {
            promise.trySuccess(context.join());
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            promise.tryFailure(e.getCause() != null ? e.getCause() : e);
        }
    }
}
