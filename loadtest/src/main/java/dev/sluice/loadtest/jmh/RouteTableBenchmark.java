package dev.sluice.loadtest.jmh;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RoutingDecision;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link RouteTable#decide} over 10,000 hosts with three Prefix paths each (/, /api, /static)
 * and one backend per path: the cost of routing one request in a large table.
 *
 * <p>Requests cycle over 1,024 pre-built (host, path) pairs spread over the whole table. Every
 * answer is checked against the route it must be (same source and backend name), so a table
 * that answers fast but wrong fails the benchmark instead of reporting a number.
 *
 * <p>Run (never part of {@code mvn verify}):
 * <pre>
 * mvn -q -o -pl loadtest -am -Pjmh -DskipTests package
 * java -jar loadtest/target/benchmarks.jar RouteTableBenchmark -f 1 -wi 3 -i 5
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RouteTableBenchmark {
    private static final int HOSTS = 10_000;
    private static final String[] PATHS = {"/", "/api", "/static"};
    private static final int QUERIES = 1024;

    private RouteTable table;
    private String[] hosts;
    private String[] uris;
    private String[] expectedBackend;
    private int next;

    @Setup(Level.Trial)
    public void build() {
        Map<String, HostRoutes> byHost = new HashMap<>();
        for (int h = 0; h < HOSTS; h++) {
            String host = "app-" + h + ".example.com";
            List<Route> routes = new java.util.ArrayList<>();
            for (String p : PATHS) {
                Backend backend = Backend.of(backendName(h, p), List.of(Endpoint.of("10.0." + (h % 250) + "." + (1 + p.length()), 8080)));
                routes.add(new Route(new PathMatcher.Prefix(p), "ns/ing-" + h, backend, RouteOptions.DEFAULTS));
            }
            byHost.put(host, HostRoutes.of(host, routes, false, Route.notFound(), null));
        }
        table = new RouteTable(byHost, Map.of(), HostRoutes.of("", List.of(), false, Route.notFound(), null));
        hosts = new String[QUERIES];
        uris = new String[QUERIES];
        expectedBackend = new String[QUERIES];
        for (int i = 0; i < QUERIES; i++) {
            int h = (int) ((i * 7919L) % HOSTS);
            String p = PATHS[i % PATHS.length];
            hosts[i] = "app-" + h + ".example.com";
            uris[i] = (p.equals("/") ? "/index.html" : p + "/item/" + i) + "?q=" + i;
            expectedBackend[i] = backendName(h, p);
        }
        for (int i = 0; i < QUERIES; i++) {
            check(i, table.decide(hosts[i], uris[i], "http"));
        }
    }

    private static String backendName(int h, String path) {
        return "ns-svc" + h + (path.equals("/") ? "-root" : path.replace('/', '-')) + "-80";
    }

    private void check(int i, RoutingDecision d) {
        if (!(d instanceof RoutingDecision.Forward f) || !f.backend().name().equals(expectedBackend[i])) {
            throw new IllegalStateException("wrong route for " + hosts[i] + uris[i] + ": " + d
                    + " (want backend " + expectedBackend[i] + ")");
        }
    }

    /** One routing decision, verified. */
    @Benchmark
    public RoutingDecision decide() {
        int i = next;
        next = (i + 1) & (QUERIES - 1);
        RoutingDecision d = table.decide(hosts[i], uris[i], "http");
        check(i, d);
        return d;
    }
}
