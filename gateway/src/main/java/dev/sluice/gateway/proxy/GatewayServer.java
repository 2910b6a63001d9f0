package dev.sluice.gateway.proxy;

import dev.sluice.gateway.stream.MultiAccept;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.MetricsConfig;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.stream.StreamServer;
import dev.sluice.gateway.stream.StreamService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane: an HTTP listener (default port 31234) and an HTTPS listener (default 31235)
 * that route every request through the live {@link dev.sluice.gateway.route.RouteTable} and
 * proxy it to an endpoint of the chosen backend, plus the TCP and UDP stream ports of the live
 * table ({@link StreamServer}), opened and closed as tables are published.
 *
 * <p>One group of {@code eventLoops} Netty event loops (native epoll on Linux, else NIO) accepts
 * connections and runs them; each upstream connection is opened on the event loop of the client
 * connection it serves and pooled per loop.
 *
 * <pre>{@code
 * GatewayServer server = GatewayServer.builder().routes(holder).httpPort(0).httpsPort(-1).build();
 * server.start();
 * int port = server.httpPort();
 * ...
 * server.shutdown(Duration.ofSeconds(30));
 * }</pre>
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

    private final RouteTableHolder routes;
    private final String bindAddress;
    private final int requestedHttpPort;
    private final int requestedHttpsPort;
    private final int eventLoops;
    private final ProxyMetrics metrics;
    private final AccessLog accessLog;
    private final SniCertificates certificates;
    private final Duration keepAliveTimeout;
    private final Duration clientBodyTimeout;
    private final Duration clientHeaderTimeout;
    private final int maxConnections;
    private final int maxConnectionsPerAddress;
    private final boolean proxyProtocol;
    private final boolean sslPassthrough;
    private final boolean h2c;
    private final Duration udpSessionTimeout;
    private final Transport transport;
    private final HostsFileEntriesResolver upstreamHosts;
    private final Supplier<? extends RandomGenerator> canaryDraw;

    private final Object lifecycle = new Object();
    private EventLoopGroup group;
    /** The stream ports' event loops: {@link #group}, or NIO loops of their own ({@link Transport#forStreams}). */
    private EventLoopGroup streamGroup;
    private ServerContext context;
    private Map<EventExecutor, UpstreamPool> pools;
    private AddressResolverGroup<InetSocketAddress> upstreamResolver;
    private Map<EventExecutor, Http2UpstreamPool> http2Pools;
    private Channel httpChannel;
    private Channel httpsChannel;
    private StreamServer streams;
    private int httpPort = -1;
    private int httpsPort = -1;
    private boolean stopped;

    private GatewayServer(Builder b) {
        this.routes = Objects.requireNonNull(b.routes, "routes");
        this.bindAddress = b.bindAddress;
        this.requestedHttpPort = b.httpPort;
        this.requestedHttpsPort = b.httpsPort;
        this.eventLoops = b.eventLoops > 0 ? b.eventLoops : Runtime.getRuntime().availableProcessors();
        this.metrics = new ProxyMetrics(b.meterRegistry != null ? b.meterRegistry : new SimpleMeterRegistry(),
                b.metricsConfig);
        // the loops' meter caches start over with every table (its Route objects are new); the
        // series of locations a new configuration drops go with it
        routes.beforePublish(t -> metrics.requests().tableReplaced());
        routes.beforeConfigurationChange(metrics.requests()::retain);
        this.accessLog = b.accessLog != null ? b.accessLog : AccessLog.off();
        this.certificates = b.certificates;
        this.keepAliveTimeout = b.keepAliveTimeout;
        this.clientBodyTimeout = b.clientBodyTimeout;
        this.clientHeaderTimeout = b.clientHeaderTimeout;
        this.maxConnections = b.maxConnections;
        this.maxConnectionsPerAddress = b.maxConnectionsPerAddress;
        this.proxyProtocol = b.proxyProtocol;
        this.sslPassthrough = b.sslPassthrough;
        this.h2c = b.h2c;
        this.udpSessionTimeout = b.udpSessionTimeout;
        this.transport = b.transport;
        this.upstreamHosts = b.upstreamHosts;
        this.canaryDraw = b.canaryDraw;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link GatewayServer}; only {@link #routes} is required. */
    public static final class Builder {
        private RouteTableHolder routes;
        private String bindAddress = "0.0.0.0";
        private int httpPort = 31234;
        private int httpsPort = 31235;
        private int eventLoops;
        private MeterRegistry meterRegistry;
        private MetricsConfig metricsConfig = MetricsConfig.DEFAULTS;
        private AccessLog accessLog;
        private SniCertificates certificates;
        private Duration keepAliveTimeout = ProxyChannelInitializer.KEEP_ALIVE_TIMEOUT;
        private Duration clientBodyTimeout = ProxyChannelInitializer.CLIENT_BODY_TIMEOUT;
        private Duration clientHeaderTimeout = ProxyChannelInitializer.CLIENT_HEADER_TIMEOUT;
        private int maxConnections;
        private int maxConnectionsPerAddress;
        private boolean proxyProtocol;
        private boolean sslPassthrough;
        private boolean h2c;
        private Duration udpSessionTimeout = StreamServer.UDP_SESSION_TIMEOUT;
        private Transport transport = Transport.detect();
        private HostsFileEntriesResolver upstreamHosts; // null: the system's, read when first needed
        private Supplier<? extends RandomGenerator> canaryDraw = ServerContext.DEFAULT_CANARY_DRAW;

        private Builder() {}

        /**
         * The socket implementation ({@code --transport}): {@code io_uring}, {@code epoll}, {@code nio},
         * or {@code auto} (default: the first of those that works here).
         *
         * @throws IllegalArgumentException if the name is unknown or that transport cannot run here
         */
        public Builder transport(String choice) {
            this.transport = Transport.select(Objects.requireNonNull(choice, "transport"));
            return this;
        }

        /** The live routing table (required). */
        public Builder routes(RouteTableHolder holder) {
            this.routes = Objects.requireNonNull(holder, "holder");
            return this;
        }

        /** Address both listeners bind to; default {@code 0.0.0.0} (all interfaces). */
        public Builder bindAddress(String address) {
            this.bindAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Plain HTTP port; default 31234, 0 picks a free port. */
        public Builder httpPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("http port out of range: " + port);
            }
            this.httpPort = port;
            return this;
        }

        /** HTTPS port; default 31235, 0 picks a free port, -1 disables the TLS listener. */
        public Builder httpsPort(int port) {
            if (port < -1 || port > 65535) {
                throw new IllegalArgumentException("https port out of range: " + port);
            }
            this.httpsPort = port;
            return this;
        }

        /** Number of event loops; default (or 0) = available processors. */
        public Builder eventLoops(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("event loops must be >= 0: " + n);
            }
            this.eventLoops = n;
            return this;
        }

        /** Where the {@code sluice_*} meters go; default a private {@code SimpleMeterRegistry}. */
        public Builder meterRegistry(MeterRegistry r) {
            this.meterRegistry = Objects.requireNonNull(r, "registry");
            return this;
        }

        /**
         * Labels, buckets and exclusions of ingress-nginx's request metrics
         * ({@code --metrics-per-host}, {@code --time-buckets}, …); default
         * {@link MetricsConfig#DEFAULTS}.
         */
        public Builder metricsConfig(MetricsConfig config) {
            this.metricsConfig = Objects.requireNonNull(config, "config");
            return this;
        }

        /** The JSON access log; default {@link AccessLog#off()}. The server closes it on shutdown. */
        public Builder accessLog(AccessLog log) {
            this.accessLog = Objects.requireNonNull(log, "log");
            return this;
        }

        /**
         * TLS certificate choice by SNI; default: {@link PublishedCertificates} (the certificates of
         * the live table, else the generated fake certificate).
         */
        public Builder sniCertificates(SniCertificates certificates) {
            this.certificates = Objects.requireNonNull(certificates, "certificates");
            return this;
        }

        /** How long an idle client keep-alive connection stays open; default 75 s ({@code keepalive_timeout}). */
        public Builder keepAliveTimeout(Duration timeout) {
            this.keepAliveTimeout = positive(timeout, "keepAliveTimeout");
            return this;
        }

        /**
         * How long a request body may pause before the request gets 408; default 60 s
         * ({@code client_body_timeout}).
         */
        public Builder clientBodyTimeout(Duration timeout) {
            this.clientBodyTimeout = positive(timeout, "clientBodyTimeout");
            return this;
        }

        /**
         * How long an HTTP/1.1 request head may take, from the connection's start or the first
         * byte of a keep-alive request, before the connection is closed; default 60 s
         * ({@code client_header_timeout}). Unlike the keep-alive timeout, bytes arriving do not
         * extend it.
         */
        public Builder clientHeaderTimeout(Duration timeout) {
            this.clientHeaderTimeout = positive(timeout, "clientHeaderTimeout");
            return this;
        }

        /**
         * At most {@code max} open client connections over both listeners (NGINX's
         * {@code worker_connections}); more are closed on accept. Default 0: no cap.
         */
        public Builder maxConnections(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxConnections must be >= 0: " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /**
         * At most {@code max} open client connections from one TCP peer address (before any PROXY
         * protocol header); more are closed on accept. Default 0: no cap.
         */
        public Builder maxConnectionsPerAddress(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxConnectionsPerAddress must be >= 0: " + max);
            }
            this.maxConnectionsPerAddress = max;
            return this;
        }

        /**
         * {@code --enable-ssl-passthrough}: the HTTPS listener reads each ClientHello's SNI name
         * first and pipes the connections of passthrough hosts unterminated; default off.
         */
        public Builder sslPassthrough(boolean on) {
            this.sslPassthrough = on;
            return this;
        }

        /**
         * {@code --enable-h2c}: the plain HTTP listener also serves HTTP/2 with prior knowledge
         * (a connection starting with the HTTP/2 preface); default off, as ingress-nginx.
         */
        public Builder h2c(boolean on) {
            this.h2c = on;
            return this;
        }

        /** How long a UDP stream session lives without a datagram either way; default 60 s. */
        public Builder udpSessionTimeout(Duration timeout) {
            this.udpSessionTimeout = positive(timeout, "udpSessionTimeout");
            return this;
        }

        /**
         * Whether every connection on both listeners must start with a PROXY protocol header (v1
         * or v2), whose source address then stands for the client ({@code --enable-proxy-protocol});
         * default off. Connections without a valid header are closed without an answer.
         */
        public Builder proxyProtocol(boolean on) {
            this.proxyProtocol = on;
            return this;
        }

        /** The socket implementation (tests run a test once per transport); default {@link Transport#detect()}. */
        Builder transport(Transport t) {
            this.transport = Objects.requireNonNull(t, "transport");
            return this;
        }

        /**
         * The source of the canary weight draw (tests inject a fixed or cycling one); default
         * {@link java.util.concurrent.ThreadLocalRandom#current()}. Called once per request on an
         * event loop: it must be thread-safe and should not allocate.
         */
        Builder canaryDraw(Supplier<? extends RandomGenerator> draw) {
            this.canaryDraw = Objects.requireNonNull(draw, "draw");
            return this;
        }

        /**
         * The names an upstream host name (an ExternalName Service) is looked up in before DNS;
         * default the system's hosts file, as the C library resolver does.
         */
        public Builder upstreamHosts(HostsFileEntriesResolver hosts) {
            this.upstreamHosts = Objects.requireNonNull(hosts, "hosts");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }

        public GatewayServer build() {
            return new GatewayServer(this);
        }
    }

    /**
     * Binds the listeners and starts serving.
     *
     * @throws IllegalStateException if a port cannot be bound (e.g. already in use) or the server
     *                               was started before
     */
    public void start() throws InterruptedException {
        synchronized (lifecycle) {
            if (group != null) {
                throw new IllegalStateException("already started");
            }
            group = transport.newGroup(eventLoops);
            pools = new HashMap<>();
            // one TLS context per distinct proxy-ssl-* settings, shared by every loop (sessions resume across loops)
            UpstreamTlsContexts tlsContexts = new UpstreamTlsContexts(routes);
            http2Pools = new HashMap<>();
            // host name endpoints (ExternalName) resolve asynchronously, one resolver and cache per
            // loop; made at the first upstream connection, not on the way to ready
            upstreamResolver = new LazyResolverGroup(() -> new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                    .datagramChannelType(transport.datagramChannel())
                    .socketChannelType(transport.socketChannel())
                    .hostsFileEntriesResolver(upstreamHosts != null ? upstreamHosts : HostsFileEntriesResolver.DEFAULT)));
            for (EventExecutor e : group) {
                pools.put(e, new UpstreamPool((EventLoop) e, transport, tlsContexts, upstreamResolver));
                http2Pools.put(e, new Http2UpstreamPool((EventLoop) e, transport, upstreamResolver));
            }
            ChannelGroup clients = new DefaultChannelGroup("sluice-clients", GlobalEventExecutor.INSTANCE);
            AccessGate access = new AccessGate(new ExternalAuthClient(transport.socketChannel()));
            routes.beforeConfigurationChange(access::retainZonesOf); // zones come from options, never endpoints
            context = new ServerContext(routes, pools, http2Pools, metrics, accessLog, clients, access, System::nanoTime);
            context.canaryDraw(canaryDraw);
            // the stream ports follow the published tables, on the same event loops where the transport allows
            Transport streamTransport = transport.forStreams();
            streamGroup = streamTransport == transport ? group : streamTransport.newGroup(eventLoops);
            StreamServer streamServer = new StreamServer(streamGroup, streamTransport.streamChannels(), bindAddress,
                    metrics.registry(), udpSessionTimeout);
            streams = streamServer;
            routes.beforePublish(table -> streamServer.apply(table.streams()));
            try {
                ConnectionCaps caps = new ConnectionCaps(maxConnections, maxConnectionsPerAddress);
                httpChannel = bind(transport, requestedHttpPort, new ProxyChannelInitializer(context, null, proxyProtocol, clientBodyTimeout, keepAliveTimeout)
                        .withH2c(h2c).withClientLimits(clientHeaderTimeout, caps), "HTTP");
                httpPort = ((InetSocketAddress) httpChannel.localAddress()).getPort();
                if (requestedHttpsPort >= 0) {
                    SniCertificates certs = certificates != null ? certificates : new PublishedCertificates(routes);
                    httpsChannel = bind(transport, requestedHttpsPort, new ProxyChannelInitializer(context, certs, proxyProtocol,
                            sslPassthrough ? transport.socketChannel() : null, clientBodyTimeout, keepAliveTimeout)
                            .withClientLimits(clientHeaderTimeout, caps), "HTTPS");
                    httpsPort = ((InetSocketAddress) httpsChannel.localAddress()).getPort();
                }
            } catch (RuntimeException | InterruptedException e) {
                if (httpChannel != null) {
                    httpChannel.close();
                }
                streamServer.close();
                group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                if (streamGroup != group) {
                    streamGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                }
                stopped = true; // nothing left for shutdown() to do
                accessLog.close();
                throw e;
            }
            if (httpsChannel != null && certificates == null) {
                // the TLS provider and the default certificate (a third of a second of CPU) are
                // prepared once the first table is live instead of on the way to it; a handshake
                // that comes sooner starts the preparation itself and waits for it
                if (routes.isPublished()) {
                    FakeCertificate.prepareInBackground();
                } else {
                    routes.beforePublish(table -> FakeCertificate.prepareInBackground());
                }
            }
            log.info("listening on {} HTTP port {}{}{} ({} event loops, {})", bindAddress, httpPort,
                    httpsChannel != null ? ", HTTPS port " + httpsPort : "",
                    proxyProtocol ? " (PROXY protocol required)" : "", eventLoops, transport.name());
            // a table published before this start has had no listener to open its stream ports
            streamServer.applyIfNothingApplied(routes.current().streams());
        }
    }

    private Channel bind(Transport transport, int port, ProxyChannelInitializer initializer, String what)
            throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, MultiAccept.allocator())
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(initializer);
        ChannelFuture f = b.bind(bindAddress, port).await();
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            String reason = cause instanceof BindException || String.valueOf(cause.getMessage()).contains("in use")
                    ? "already in use" : String.valueOf(cause.getMessage());
            throw new IllegalStateException("cannot bind the " + what + " listener to " + bindAddress + ":" + port
                    + ": " + reason, cause);
        }
        return f.channel();
    }

    /** The bound HTTP port (after {@link #start()}). */
    public int httpPort() {
        return httpPort;
    }

    /** The bound HTTPS port, or -1 when the TLS listener is disabled. */
    public int httpsPort() {
        return httpsPort;
    }

    /** The open client connections (for tests that inspect a connection's handlers). */
    Iterable<Channel> clientChannels() {
        synchronized (lifecycle) {
            return context == null ? List.of() : List.copyOf(context.clients());
        }
    }

    /** The open TCP and UDP stream ports and their bound port numbers (after {@link #start()}). */
    public Map<StreamService.Key, Integer> streamPorts() {
        synchronized (lifecycle) {
            return streams == null ? Map.of() : streams.listening();
        }
    }

    /**
     * How many idle keep-alive upstream connections the pools of all event loops hold (tests);
     * each pool is read on its own loop.
     */
    int idleUpstreamConnections() throws InterruptedException, java.util.concurrent.ExecutionException {
        int n = 0;
        for (UpstreamPool pool : pools.values()) {
            n += pool.loop().submit(pool::idleCount).get();
        }
        return n;
    }

    /** The meters this server records into. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /**
     * Stops accepting connections, lets requests in flight finish for up to {@code timeout}, then
     * closes everything. Responses started after this call carry {@code Connection: close};
     * idle keep-alive connections are closed at once, HTTP/2 connections get GOAWAY, WebSockets
     * and TCP streams go on until either side closes them or the timeout ends.
     */
    public void shutdown(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        synchronized (lifecycle) {
            if (group == null || stopped) {
                return;
            }
            stopped = true;
            context.startDraining();
            if (httpChannel != null) {
                httpChannel.close().awaitUninterruptibly();
            }
            if (httpsChannel != null) {
                httpsChannel.close().awaitUninterruptibly();
            }
            streams.stopListening();
            ChannelGroup clients = context.clients();
            ChannelGroupFuture allClosed = clients.newCloseFuture();
            for (Channel ch : clients) {
                ch.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
            }
            if (!timeout.isZero() && !allClosed.awaitUninterruptibly(timeout.toMillis())) {
                log.info("{} connections still open after the {} shutdown timeout: closing them", clients.size(), timeout);
            }
            clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            streams.close();
            for (UpstreamPool pool : pools.values()) {
                pool.loop().execute(pool::close);
            }
            for (Http2UpstreamPool pool : http2Pools.values()) {
                pool.loop().execute(pool::close);
            }
            if (streamGroup != group) {
                streamGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            streamGroup.terminationFuture().awaitUninterruptibly(10, TimeUnit.SECONDS);
            upstreamResolver.close();
            accessLog.close();
            context.access().close();
            log.info("stopped");
        }
    }

    /** {@link #shutdown(Duration)} without a grace period. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
