package dev.sluice.gateway.proxy;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * What every connection of one {@link GatewayServer} shares: the route table holder, the
 * per-event-loop upstream pools, meters, the access log and the set of client channels.
 * Immutable after start except the drain flag, which handlers read only when a connection opens.
 */
final class ServerContext {
    private final RouteTableHolder routes;
    private final Map<EventExecutor, UpstreamPool> pools;
    private final ProxyMetrics metrics;
    private final AccessLog accessLog;
    private final ChannelGroup clients;
    private final AccessGate access;
    private volatile boolean draining;

    ServerContext(RouteTableHolder routes, Map<EventExecutor, UpstreamPool> pools, ProxyMetrics metrics,
            AccessLog accessLog, ChannelGroup clients, AccessGate access) {
        this.routes = routes;
        this.pools = new IdentityHashMap<>(pools);
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

    /** The pool of {@code loop}: only ever used from that loop. */
    UpstreamPool pool(EventLoop loop) {
        UpstreamPool p = pools.get(loop);
        if (p == null) {
            throw new IllegalStateException("no upstream pool for " + loop);
        }
        return p;
    }

    Iterable<UpstreamPool> pools() {
        return pools.values();
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
