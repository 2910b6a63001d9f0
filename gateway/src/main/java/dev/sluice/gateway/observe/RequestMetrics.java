package dev.sluice.gateway.observe;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ingress-nginx's per-request metrics ({@code socket.go}'s collector): the same names, help
 * texts, labels and histogram buckets, so dashboards, alerts and Flagger's canary analysis read
 * Sluice as they read ingress-nginx.
 *
 * <ul>
 *   <li>{@code nginx_ingress_controller_requests} (counter)</li>
 *   <li>{@code …_request_duration_seconds}, {@code …_response_duration_seconds},
 *       {@code …_header_duration_seconds}, {@code …_connect_duration_seconds} (histograms,
 *       {@link MetricsConfig#timeBuckets()}); the last three only for requests that went upstream,
 *       as ingress-nginx observes them only when NGINX has an upstream time</li>
 *   <li>{@code …_request_size}, {@code …_response_size} (histograms,
 *       {@link MetricsConfig#lengthBuckets()}), {@code …_bytes_sent} (deprecated in ingress-nginx,
 *       kept; {@link MetricsConfig#sizeBuckets()})</li>
 * </ul>
 *
 * <p>Labels: {@code controller_class}, {@code controller_namespace}, {@code controller_pod}
 * (constant), {@code status}, {@code method}, {@code path} (the matched location's path, never the
 * request's), {@code namespace}, {@code ingress} (the Ingress name), {@code service} (the
 * location's Service name), {@code canary} (the canary upstream's name when the canary served,
 * else empty: Flagger selects canary traffic with {@code canary!=""}) and, with
 * {@code --metrics-per-host}, {@code host} (the matched virtual host: name, {@code *.suffix} or
 * {@code _}). Requests that matched no location have empty location labels. Every value comes from
 * the route table or a fixed list (methods outside the standard ones are {@code OTHER}), so the
 * number of series is bounded by the configuration.
 *
 * <p>Hot path: each event loop keeps its own cache from the matched {@link Route} (by identity)
 * to the meters of its label combinations, keyed by status and method as one {@code int}; a
 * request seen before costs map lookups and meter updates, no {@link Tags} and no string. The
 * caches are dropped when a new table is published ({@link #retain}), which also removes the
 * series of locations that no longer exist from the registry.
 */
public final class RequestMetrics {
    static final String REQUESTS = "requests";
    static final String REQUEST_DURATION = "request_duration_seconds";
    static final String RESPONSE_DURATION = "response_duration_seconds";
    static final String HEADER_DURATION = "header_duration_seconds";
    static final String CONNECT_DURATION = "connect_duration_seconds";
    static final String REQUEST_SIZE = "request_size";
    static final String RESPONSE_SIZE = "response_size";
    static final String BYTES_SENT = "bytes_sent";

    /** Methods that label as themselves; any other is {@code OTHER} (a client cannot add series). */
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
            "PATCH", "OTHER"};
    private static final int OTHER = METHODS.length - 1;
    private static final double NANOS_PER_SECOND = 1e9;

    private final MeterRegistry registry;
    private final MetricsConfig config;
    private final Tags constant;
    private volatile long generation;
    /**
     * Every label set registered, once however often the loops look it up again (event loops
     * add, the publishing thread removes).
     */
    private final Map<Tags, Registered> registered = new ConcurrentHashMap<>();
    private final FastThreadLocal<LoopCache> caches = new FastThreadLocal<>() {
        @Override
        protected LoopCache initialValue() {
            return new LoopCache();
        }
    };

    public RequestMetrics(MeterRegistry registry, MetricsConfig config) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.config = Objects.requireNonNull(config, "config");
        this.constant = Tags.of("controller_class", config.controllerClass(),
                "controller_namespace", config.controllerNamespace(), "controller_pod", config.controllerPod());
    }

    public MetricsConfig config() {
        return config;
    }

    /**
     * Whether requests are recorded at all ({@code --enable-metrics}); the proxy skips measuring
     * sizes and calling {@link #record} when not.
     */
    public boolean enabled() {
        return config.requestMetrics();
    }

    /**
     * Records one finished request. Times are nanoseconds, sizes bytes; a negative value means
     * "not measured" (no upstream attempt) and is not observed, as ingress-nginx skips NGINX's
     * {@code -}.
     *
     * @param route         the matched location, or {@code null} when none matched (bad request,
     *                      unknown path without a default backend, server-level redirects)
     * @param host          the matched virtual host's label ({@code _} for the catch-all); must come
     *                      from the route table
     * @param canary        the canary upstream's name when the canary served, else {@code ""}
     * @param method        the request method
     * @param status        the status sent to the client (499 when the client left first)
     */
    public void record(Route route, String host, String canary, String method, int status, long durationNanos,
            long requestBytes, long responseBytes, long connectNanos, long headerNanos, long upstreamNanos) {
        if (!config.requestMetrics()) {
            return;
        }
        Meters m = meters(route, host, canary, methodIndex(method), status);
        if (m.requests != null) {
            m.requests.increment();
        }
        observe(m.requestDuration, durationNanos / NANOS_PER_SECOND);
        if (upstreamNanos >= 0) {
            observe(m.responseDuration, upstreamNanos / NANOS_PER_SECOND);
        }
        if (headerNanos >= 0) {
            observe(m.headerDuration, headerNanos / NANOS_PER_SECOND);
        }
        if (connectNanos >= 0) {
            observe(m.connectDuration, connectNanos / NANOS_PER_SECOND);
        }
        if (requestBytes >= 0) {
            observe(m.requestSize, requestBytes);
        }
        if (responseBytes >= 0) {
            observe(m.responseSize, responseBytes);
            observe(m.bytesSent, responseBytes);
        }
    }

    private static void observe(DistributionSummary s, double value) {
        if (s != null && value >= 0) {
            s.record(value);
        }
    }

    private Meters meters(Route route, String host, String canary, int method, int status) {
        LoopCache cache = caches.get();
        long g = generation;
        if (cache.generation != g) {
            cache.routes.clear(); // a new table: its Route objects are new, the old ones must go
            cache.generation = g;
        }
        String hostKey = config.perHost() ? host : "";
        LocationMeters loc = cache.routes.get(route);
        LocationMeters first = loc;
        while (loc != null && !(loc.host.equals(hostKey) && loc.canary.equals(canary))) {
            loc = loc.next;
        }
        if (loc == null) {
            loc = new LocationMeters(hostKey, canary, first);
            cache.routes.put(route, loc); // newest first; a location rarely has more than two
        }
        int key = status * 16 + method;
        Meters m = loc.byStatusAndMethod.get(key);
        if (m == null) {
            m = register(route, loc.host, canary, METHODS[method], status);
            loc.byStatusAndMethod.put(key, m);
        }
        return m;
    }

    private Meters register(Route route, String host, String canary, String method, int status) {
        Tags tags = constant.and(locationTags(route)).and("canary", canary, "method", method,
                "status", config.statusClasses() ? (status / 100) + "xx" : Integer.toString(status));
        if (config.perHost()) {
            tags = tags.and("host", host);
        }
        Meters m = meters(tags); // Micrometer hands out the meters of a label set registered before
        registered.putIfAbsent(tags, new Registered(locationKey(route), config.perHost() ? host : null, m));
        return m;
    }

    private Meters meters(Tags tags) {
        return new Meters(
                config.records(REQUESTS) ? Counter.builder(MetricsConfig.PREFIX + REQUESTS)
                        .description("The total number of client requests").tags(tags).register(registry) : null,
                histogram(REQUEST_DURATION, "The request processing time in milliseconds", config.timeBuckets(), tags),
                histogram(RESPONSE_DURATION, "The time spent on receiving the response from the upstream server",
                        config.timeBuckets(), tags),
                histogram(HEADER_DURATION, "The time spent on receiving first header from the upstream server",
                        config.timeBuckets(), tags),
                histogram(CONNECT_DURATION, "The time spent on establishing a connection with the upstream server",
                        config.timeBuckets(), tags),
                histogram(REQUEST_SIZE, "The request length (including request line, header, and request body)",
                        config.lengthBuckets(), tags),
                histogram(RESPONSE_SIZE, "The response length (including request line, header, and request body)",
                        config.lengthBuckets(), tags),
                histogram(BYTES_SENT, "DEPRECATED The number of bytes sent to a client", config.sizeBuckets(), tags));
    }

    // the help texts are ingress-nginx's, "milliseconds" included (the values are seconds there too)
    private DistributionSummary histogram(String name, String help, double[] buckets, Tags tags) {
        if (!config.records(name)) {
            return null;
        }
        return DistributionSummary.builder(MetricsConfig.PREFIX + name)
                .description(help)
                .serviceLevelObjectives(buckets) // a classic Prometheus histogram with exactly these "le"s
                .tags(tags)
                .register(registry);
    }

    /** {@code namespace}, {@code ingress}, {@code service}, {@code path} of a location. */
    static Tags locationTags(Route route) {
        if (route == null || Route.BUILT_IN.equals(route.source())) {
            return Tags.of("namespace", "", "ingress", "", "service", "", "path", "");
        }
        String source = route.source();
        int slash = source.indexOf('/');
        Backend b = route.backend();
        String service = b == null ? "" : b.service() != null ? b.service() : b.name();
        return Tags.of("namespace", slash < 0 ? "" : source.substring(0, slash),
                "ingress", source.substring(slash + 1), "service", service, "path", route.matcher().path());
    }

    static int methodIndex(String method) {
        // a switch on the String: hashCode (cached in the String) and equals, no allocation
        switch (method) {
            case "GET": return 0;
            case "HEAD": return 1;
            case "POST": return 2;
            case "PUT": return 3;
            case "DELETE": return 4;
            case "CONNECT": return 5;
            case "OPTIONS": return 6;
            case "TRACE": return 7;
            case "PATCH": return 8;
            default: return OTHER;
        }
    }

    /**
     * Called with every table about to go live whose configuration may have changed: what
     * {@link #tableReplaced} does, and removes the series of locations the table no longer has
     * (by {@code namespace}, {@code ingress} and {@code path}; ingress-nginx removes the series
     * of deleted Ingresses) and, with {@code --metrics-per-host}, of hosts it no longer serves.
     * A request still finishing on the old table may register a removed series again; the next
     * configuration change removes it.
     */
    public void retain(RouteTable table) {
        tableReplaced();
        Set<List<String>> locations = new HashSet<>();
        Set<String> hosts = new HashSet<>();
        hosts.add("_");
        forEachHost(table, h -> {
            if (!h.host().isEmpty()) {
                hosts.add(h.host());
            }
            for (Route r : h.routes()) {
                locations.add(locationKey(r));
            }
        });
        // the label sets this class registered, not the whole registry: at 20,000 locations with
        // traffic that was 160,000 meters and ~250 ms of the publishing thread per configuration
        for (Iterator<Registered> it = registered.values().iterator(); it.hasNext(); ) {
            Registered r = it.next();
            boolean goneLocation = !r.location().get(1).isEmpty() && !locations.contains(r.location());
            boolean goneHost = r.host() != null && !hosts.contains(r.host());
            if (goneLocation || goneHost) {
                r.meters().remove(registry);
                it.remove();
            }
        }
    }

    /** How many label sets {@link #retain} keeps track of (tests). */
    int registeredLabelSets() {
        return registered.size();
    }

    /**
     * A new table is about to go live: the event loops' meter caches, keyed by the old table's
     * {@code Route} objects, start over at their next request. Publishing thread only.
     */
    public void tableReplaced() {
        generation++; // the publishing thread is the only writer
    }

    /**
     * The {@code namespace}, {@code ingress} and {@code path} tags {@link #locationTags} gives
     * {@code route}, without building its Tags (every location of the table, at every publish).
     */
    static List<String> locationKey(Route route) {
        if (route == null || Route.BUILT_IN.equals(route.source())) {
            return List.of("", "", "");
        }
        String source = route.source();
        int slash = source.indexOf('/');
        return List.of(slash < 0 ? "" : source.substring(0, slash), source.substring(slash + 1),
                route.matcher().path());
    }

    private static void forEachHost(RouteTable table, java.util.function.Consumer<HostRoutes> action) {
        table.hosts().values().forEach(action);
        table.wildcards().values().forEach(action);
        action.accept(table.catchAll());
    }

    /** One event loop's meters. */
    private static final class LoopCache {
        long generation = -1;
        final IdentityHashMap<Route, LocationMeters> routes = new IdentityHashMap<>();
    }

    /** The meters of one location for one host and canary label, by status and method. */
    private static final class LocationMeters {
        final String host;
        final String canary;
        final LocationMeters next;
        final IntObjectHashMap<Meters> byStatusAndMethod = new IntObjectHashMap<>(8);

        LocationMeters(String host, String canary, LocationMeters next) {
            this.host = host;
            this.canary = canary;
            this.next = next;
        }
    }

    /** The meters of one label set; a {@code null} meter is excluded. */
    private record Meters(Counter requests, DistributionSummary requestDuration, DistributionSummary responseDuration,
            DistributionSummary headerDuration, DistributionSummary connectDuration, DistributionSummary requestSize,
            DistributionSummary responseSize, DistributionSummary bytesSent) {

        void remove(MeterRegistry registry) {
            for (Meter m : new Meter[] {requests, requestDuration, responseDuration, headerDuration, connectDuration,
                    requestSize, responseSize, bytesSent}) {
                if (m != null) {
                    registry.remove(m);
                }
            }
        }
    }

    /**
     * A label set registered, by what {@link #retain} removes it for: its location key and,
     * with {@code --metrics-per-host}, its host (else {@code null}).
     */
    private record Registered(List<String> location, String host, Meters meters) {}
}
