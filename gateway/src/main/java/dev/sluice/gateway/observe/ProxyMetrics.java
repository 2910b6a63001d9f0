package dev.sluice.gateway.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data plane's Micrometer meters.
 *
 * <ul>
 *   <li>{@code sluice_requests} (counter; Prometheus {@code sluice_requests_total}): tags
 *       {@code status} (the code sent to the client, e.g. {@code 200}, {@code 499} when the client
 *       left first), {@code host} (the virtual host that matched: the Ingress host name,
 *       {@code *.example.com}, or {@code _} for the catch-all — never the raw {@code Host}
 *       header, so cardinality stays bounded by the configuration), {@code ingress}
 *       ({@code namespace/name} or {@code none}), {@code backend} ({@code <ns>-<svc>-<port>} or
 *       {@code none}), {@code canary} ({@code true} when the location's canary backend served the
 *       request, else {@code false}).</li>
 *   <li>{@code sluice_request_duration} (timer; {@code _seconds}): same tags, with
 *       {@code status} reduced to its class ({@code 2xx} … {@code 5xx}).</li>
 *   <li>{@code sluice_upstream_connect_errors} (counter): tag {@code backend}; failed or timed-out
 *       connects to an endpoint (each one may be followed by a retry).</li>
 *   <li>{@code sluice_active_connections} (gauge): open client connections.</li>
 *   <li>{@code sluice_proxy_protocol_errors} (counter; {@code _total}): connections closed
 *       because their PROXY protocol header was malformed or missing ({@code reason="invalid"})
 *       or did not arrive before the keep-alive timeout ({@code reason="timeout"}); only with
 *       {@code --enable-proxy-protocol}.</li>
 * </ul>
 *
 * <p>Meters are looked up in a per-event-loop cache, so the request path does no registry
 * lookup and takes no lock once a combination of tags has been seen.
 */
public final class ProxyMetrics {
    /** Tag value for requests that matched no Ingress or backend. */
    public static final String NONE = "none";

    private final MeterRegistry registry;
    private final AtomicLong activeConnections = new AtomicLong();
    private final Counter proxyProtocolInvalid;
    private final Counter proxyProtocolTimeout;
    private final FastThreadLocal<Map<RequestKey, RequestMeters>> requestMeters = new FastThreadLocal<>() {
        @Override
        protected Map<RequestKey, RequestMeters> initialValue() {
            return new HashMap<>();
        }
    };
    private final FastThreadLocal<Map<String, Counter>> connectErrors = new FastThreadLocal<>() {
        @Override
        protected Map<String, Counter> initialValue() {
            return new HashMap<>();
        }
    };

    public ProxyMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        Gauge.builder("sluice_active_connections", activeConnections, AtomicLong::get)
                .description("open client connections")
                .register(registry);
        // registered up front so that an alert on the rate sees 0, not a missing series
        proxyProtocolInvalid = proxyProtocolErrors("invalid");
        proxyProtocolTimeout = proxyProtocolErrors("timeout");
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

    /** Counts and times one finished request. Tag values must come from the route table. */
    public void request(int status, String host, String ingress, String backend, boolean canary,
            long durationNanos) {
        RequestKey key = new RequestKey(status, host, ingress, backend, canary);
        Map<RequestKey, RequestMeters> cache = requestMeters.get();
        RequestMeters m = cache.get(key);
        if (m == null) {
            m = register(key);
            cache.put(key, m);
        }
        m.count.increment();
        m.duration.record(durationNanos, TimeUnit.NANOSECONDS);
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

    private RequestMeters register(RequestKey k) {
        Tags tags = Tags.of("host", k.host, "ingress", k.ingress, "backend", k.backend,
                "canary", k.canary ? "true" : "false");
        Counter count = Counter.builder("sluice_requests")
                .description("requests answered, by status")
                .tags(tags)
                .tag("status", Integer.toString(k.status))
                .register(registry);
        Timer duration = Timer.builder("sluice_request_duration")
                .description("time from the request head to the last response byte")
                .tags(tags)
                .tag("status", (k.status / 100) + "xx")
                .register(registry);
        return new RequestMeters(count, duration);
    }

    private record RequestKey(int status, String host, String ingress, String backend, boolean canary) {}

    private record RequestMeters(Counter count, Timer duration) {}
}
