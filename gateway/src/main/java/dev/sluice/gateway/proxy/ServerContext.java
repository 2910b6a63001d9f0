package dev.sluice.gateway.proxy;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * What every connection of one {@link GatewayServer} shares: the route table holder, the
 * per-event-loop upstream connections, meters, the access log and the set of client channels.
 * Immutable after start except the drain flag, which handlers read only when a connection opens.
 */
final class ServerContext {
    // one instance for every exchange: a method reference per request would allocate
    private static final LongSupplier SYSTEM_NANO_TIME = System::nanoTime;
    /** The canary weight draw of production: the per-thread generator, nothing allocated per request. */
    static final Supplier<? extends RandomGenerator> DEFAULT_CANARY_DRAW = ThreadLocalRandom::current;

    private final RouteTableHolder routes;
    private final Map<EventExecutor, Upstreams> upstreams;
    private final Map<EventExecutor, Http2UpstreamPool> http2Upstreams;
    private final LongSupplier nanoClock;
    private final ProxyMetrics metrics;
    private final AccessLog accessLog;
    private final ChannelGroup clients;
    private final AccessGate access;
    private volatile boolean draining;
    // set once by GatewayServer before any channel exists; read by exchanges on the event loops
    private Supplier<? extends RandomGenerator> canaryDraw = DEFAULT_CANARY_DRAW;

    ServerContext(RouteTableHolder routes, Map<EventExecutor, ? extends Upstreams> upstreams, ProxyMetrics metrics,
            AccessLog accessLog, ChannelGroup clients, AccessGate access) {
        this(routes, upstreams, metrics, accessLog, clients, access, SYSTEM_NANO_TIME);
    }

    /**
     * @param upstreams the upstream connections of each event loop (tests hand in fakes)
     * @param nanoClock the clock of the upstream send/read deadlines; tests move it with an
     *                  embedded event loop's time
     */
    ServerContext(RouteTableHolder routes, Map<EventExecutor, ? extends Upstreams> upstreams, ProxyMetrics metrics,
            AccessLog accessLog, ChannelGroup clients, AccessGate access, LongSupplier nanoClock) {
        this(routes, upstreams, Map.of(), metrics, accessLog, clients, access, nanoClock);
    }

    /**
     * @param http2Upstreams the HTTP/2 upstream connections of each event loop ({@code GRPC},
     *                       {@code GRPCS} locations)
     */
    ServerContext(RouteTableHolder routes, Map<EventExecutor, ? extends Upstreams> upstreams,
            Map<EventExecutor, Http2UpstreamPool> http2Upstreams, ProxyMetrics metrics,
            AccessLog accessLog, ChannelGroup clients, AccessGate access, LongSupplier nanoClock) {
        this.routes = routes;
        this.upstreams = new IdentityHashMap<>(upstreams);
        this.http2Upstreams = new IdentityHashMap<>(http2Upstreams);
        this.nanoClock = nanoClock;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.clients = clients;
        this.access = access;
    }

    /** Limits, source lists and authentication of protected locations. */
    AccessGate access() {
        return access;
    }

    RouteTableHolder routes() {
        return routes;
    }

    /** The source of the canary weight draw of each request. */
    RandomGenerator canaryDraw() {
        return canaryDraw.get();
    }

    /** Replaces the canary weight draw (tests); call before the listeners accept connections. */
    void canaryDraw(Supplier<? extends RandomGenerator> draw) {
        this.canaryDraw = draw;
    }

    /** The upstream connections of {@code loop}: only ever used from that loop. */
    Upstreams upstreams(EventLoop loop) {
        Upstreams u = upstreams.get(loop);
        if (u == null) {
            throw new IllegalStateException("no upstream pool for " + loop);
        }
        return u;
    }

    /** The HTTP/2 upstream connections of {@code loop}: only ever used from that loop. */
    Http2UpstreamPool http2Upstreams(EventLoop loop) {
        Http2UpstreamPool u = http2Upstreams.get(loop);
        if (u == null) {
            throw new IllegalStateException("no HTTP/2 upstream pool for " + loop);
        }
        return u;
    }

    /** The clock of {@link UpstreamTimeouts}: {@link System#nanoTime} outside tests. */
    LongSupplier nanoClock() {
        return nanoClock;
    }

    ProxyMetrics metrics() {
        return metrics;
    }

    AccessLog accessLog() {
        return accessLog;
    }

    ChannelGroup clients() {
        return clients;
    }

    boolean draining() {
        return draining;
    }

    void startDraining() {
        draining = true;
    }
}
