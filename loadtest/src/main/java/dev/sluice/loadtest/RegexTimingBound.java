package dev.sluice.loadtest;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RoutingDecision;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The timing bound for catastrophic regexes in Ingress paths: routing a request through a table
 * whose regex-mode host has paths that make a backtracking engine exponential
 * ({@code (a+)+$}, {@code (a|aa)*b}, {@code (.*a){12}$}) costs time linear in the path length
 * with re2j (the request line, and so the path, is at most 8 KiB). Prints a Markdown table for
 * {@code docs/benchmarks.md}.
 *
 * <pre>{@code
 * java -cp <loadtest classpath> dev.sluice.loadtest.RegexTimingBound
 * }</pre>
 */
public final class RegexTimingBound {
    static final String HOST = "regex.example";
    static final List<String> PATHS = List.of("/(a+)+$", "/(a|aa)*b", "/(.*a){12}$");

    private RegexTimingBound() {
    }

    public static void main(String[] args) {
        Backend backend = Backend.of("default-regex-80", List.of(new Endpoint("127.0.0.1", 8080)));
        List<Route> routes = new ArrayList<>();
        for (String p : PATHS) {
            routes.add(new Route(PathMatcher.Regex.compile(p), "default/regex", backend, RouteOptions.DEFAULTS));
        }
        RouteTable table = new RouteTable(Map.of(HOST, HostRoutes.of(HOST, routes, true, Route.notFound(), null)),
                Map.of(), HostRoutes.of("", List.of(), false, Route.notFound(), null));
        System.out.println("| path length (chars) | re2j: decide() median µs | µs per 1,000 chars |");
        System.out.println("|---|---|---|");
        for (int n : new int[] {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000}) {
            String uri = "/" + "a".repeat(n) + "!";
            long[] samples = new long[25];
            for (int warm = 0; warm < 5; warm++) {
                decide(table, uri);
            }
            for (int i = 0; i < samples.length; i++) {
                long t = System.nanoTime();
                decide(table, uri);
                samples[i] = System.nanoTime() - t;
            }
            Arrays.sort(samples);
            double us = samples[samples.length / 2] / 1000.0;
            System.out.printf("| %,d | %.0f | %.1f |%n", n, us, us / (n / 1000.0));
        }
    }

    private static void decide(RouteTable table, String uri) {
        RoutingDecision d = table.decide(HOST, uri, "http");
        if (!(d instanceof RoutingDecision.Respond r) || r.status() != 404) {
            throw new IllegalStateException("no path may match " + uri.length() + " chars: " + d);
        }
    }
}
