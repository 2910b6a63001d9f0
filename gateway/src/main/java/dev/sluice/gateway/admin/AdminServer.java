package dev.sluice.gateway.admin;

import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server on {@code --healthz-port} (10254, ingress-nginx's health and metrics
 * port). It is not on the proxy path, so it keeps things simple: one event-loop thread and whole
 * requests ({@link HttpObjectAggregator}).
 *
 * <ul>
 *   <li>{@code GET /healthz}: 200 {@code ok} while the process is alive (liveness).
 *   <li>{@code GET /readyz}: 200 {@code ok} once the first route table is published
 *       ({@link RouteTableHolder#isPublished()}), the extra condition holds (e.g. informers
 *       synced) and the server is not draining; else 503 with the reason (readiness).
 *   <li>{@code GET /metrics}: Prometheus text exposition of the registry, including JVM and
 *       process meters registered here.
 *   <li>{@code GET /routes}: the live route table as JSON (see {@link RoutesJson}).
 * </ul>
 *
 * {@code HEAD} is accepted wherever {@code GET} is; other methods get 405, other paths 404.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final String bindAddress;
    private final int requestedPort;
    private final RouteTableHolder holder;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier extraReady;
    private volatile boolean draining;

    private EventLoopGroup group;
    private Channel serverChannel;
    private JvmGcMetrics gcMetrics;

    /**
     * @param bindAddress address to listen on; {@code null} or empty = all interfaces
     * @param port        TCP port; 0 = a free port (see {@link #port()})
     * @param holder      the live route table (readiness and {@code /routes})
     * @param registry    the registry scraped on {@code /metrics}
     * @param extraReady  a further readiness condition, e.g. "informer caches synced"
     *                    ({@code () -> true} when there is none)
     */
    public AdminServer(String bindAddress, int port, RouteTableHolder holder, PrometheusMeterRegistry registry,
            BooleanSupplier extraReady) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        this.bindAddress = bindAddress;
        this.requestedPort = port;
        this.holder = Objects.requireNonNull(holder, "holder");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.extraReady = Objects.requireNonNull(extraReady, "extraReady");
    }

    /**
     * Binds the port. The JVM and process meters are registered at the first scrape of
     * {@code /metrics} ({@link #jvmMeters()}), not here: the management beans they read cost some
     * 40 ms of start-up CPU.
     *
     * @throws IllegalStateException if the port cannot be bound (the cause says why)
     */
    public synchronized void start() {
        if (serverChannel != null) {
            throw new IllegalStateException("already started");
        }
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("sluice-admin", true));
        AdminHandler handler = new AdminHandler(this);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(handler);
                    }
                });
        InetSocketAddress address = bindAddress == null || bindAddress.isEmpty()
                ? new InetSocketAddress(requestedPort)
                : new InetSocketAddress(bindAddress, requestedPort);
        try {
            serverChannel = bootstrap.bind(address).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            group = null;
            throw new IllegalStateException("admin server cannot listen on " + address + ": " + e.getMessage(), e);
        }
        log.info("admin server (/healthz /readyz /metrics /routes) listening on {}", serverChannel.localAddress());
    }

    /** The bound port (the real one when 0 was asked for); -1 before {@link #start()}. */
    public int port() {
        Channel ch = serverChannel;
        return ch == null ? -1 : ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** While draining, {@code /readyz} answers 503 so load balancers stop sending new traffic. */
    public void setDraining(boolean draining) {
        this.draining = draining;
    }

    /** Whether {@code /readyz} answers 200 right now. */
    public boolean isReady() {
        return notReadyReason() == null;
    }

    /** Why the process is not ready, or {@code null} when it is. */
    String notReadyReason() {
        if (draining) {
            return "draining: shutting down";
        }
        if (!holder.isPublished()) {
            return "no route table published yet";
        }
        if (!extraReady.getAsBoolean()) {
            return "sources not synced yet";
        }
        return null;
    }

    RouteTableHolder holder() {
        return holder;
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Registers the JVM and process meters (memory, GC, threads, classes, CPU, uptime) once; the
     * GC meters count the pauses from then on.
     */
    synchronized void jvmMeters() {
        if (gcMetrics != null) {
            return;
        }
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Closes the port and stops the event loop. Idempotent. */
    @Override
    public synchronized void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
            serverChannel = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
        if (gcMetrics != null) {
            gcMetrics.close();
            gcMetrics = null;
        }
    }
}
