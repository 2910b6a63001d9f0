package dev.sluice.gateway.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data plane's Micrometer meters: ingress-nginx's per-request metrics
 * ({@link RequestMetrics}) and Sluice's own for what ingress-nginx lacks.
 *
 * <ul>
 *   <li>{@code sluice_upstream_connect_errors} (counter): tag {@code backend}; failed or timed-out
 *       connects to an endpoint (each one may be followed by a retry).</li>
 *   <li>{@code sluice_active_connections} (gauge): open client connections.</li>
 *   <li>{@code sluice_proxy_protocol_errors} (counter; {@code _total}): connections closed
 *       because their PROXY protocol header was malformed or missing ({@code reason="invalid"})
 *       or did not arrive before the keep-alive timeout ({@code reason="timeout"}); only with
 *       {@code --enable-proxy-protocol}.</li>
 * </ul>
 *
 * <p>Meters are looked up in per-event-loop caches, so the request path does no registry
 * lookup and takes no lock once a combination of labels has been seen.
 */
public final class ProxyMetrics {
    private final MeterRegistry registry;
    private final AtomicLong activeConnections = new AtomicLong();
    private final Counter proxyProtocolInvalid;
    private final Counter proxyProtocolTimeout;
    private final Counter mirrorCompleted;
    private final Counter mirrorDropped;
    private final Counter mirrorFailed;
    private final RequestMetrics requests;
    private final FastThreadLocal<Map<String, Counter>> connectErrors = new FastThreadLocal<>() {
        @Override
        protected Map<String, Counter> initialValue() {
            return new HashMap<>();
        }
    };

    /** ingress-nginx's default metric configuration. */
    public ProxyMetrics(MeterRegistry registry) {
        this(registry, MetricsConfig.DEFAULTS);
    }

    public ProxyMetrics(MeterRegistry registry, MetricsConfig config) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.requests = new RequestMetrics(registry, config);
        Gauge.builder("sluice_active_connections", activeConnections, AtomicLong::get)
                .description("open client connections")
                .register(registry);
        // registered up front so that an alert on the rate sees 0, not a missing series
        proxyProtocolInvalid = proxyProtocolErrors("invalid");
        proxyProtocolTimeout = proxyProtocolErrors("timeout");
        mirrorCompleted = mirrorRequests("completed");
        mirrorDropped = mirrorRequests("dropped");
        mirrorFailed = mirrorRequests("failed");
    }

    private Counter mirrorRequests(String result) {
        return Counter.builder("sluice_mirror_requests")
                .description("request copies sent to mirror-target: completed, dropped over the copy buffer, failed")
                .tag("result", result)
                .register(registry);
    }

    /** Counts one request copy the mirror answered in full ({@code mirror-target}). */
    public void mirrorCompleted() {
        mirrorCompleted.increment();
    }

    /** Counts one request copy dropped because the copies' buffer was full (a slow or unreachable mirror). */
    public void mirrorDropped() {
        mirrorDropped.increment();
    }

    /** Counts one request copy that failed: connect error, mirror closed or stalled, request cut short. */
    public void mirrorFailed() {
        mirrorFailed.increment();
    }

    private Counter proxyProtocolErrors(String reason) {
        return Counter.builder("sluice_proxy_protocol_errors")
                .description("client connections closed for a malformed, missing or late PROXY protocol header")
                .tag("reason", reason)
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void connectionOpened() {
        activeConnections.incrementAndGet();
    }

    public void connectionClosed() {
        activeConnections.decrementAndGet();
    }

    public long activeConnections() {
        return activeConnections.get();
    }

    /** ingress-nginx's per-request metrics. */
    public RequestMetrics requests() {
        return requests;
    }

    /** Counts one connection closed because its PROXY protocol header was malformed or missing. */
    public void proxyProtocolInvalid() {
        proxyProtocolInvalid.increment();
    }

    /** Counts one connection closed because its PROXY protocol header did not arrive in time. */
    public void proxyProtocolTimeout() {
        proxyProtocolTimeout.increment();
    }

    /** Counts one failed or timed-out connect to an endpoint of {@code backend}. */
    public void connectError(String backend) {
        Map<String, Counter> cache = connectErrors.get();
        Counter c = cache.get(backend);
        if (c == null) {
            c = Counter.builder("sluice_upstream_connect_errors")
                    .description("failed or timed-out connects to upstream endpoints")
                    .tag("backend", backend)
                    .register(registry);
            cache.put(backend, c);
        }
        c.increment();
    }

}
