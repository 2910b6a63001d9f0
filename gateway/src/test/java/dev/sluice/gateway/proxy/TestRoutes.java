package dev.sluice.gateway.proxy;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Short hand for building route tables by hand in proxy tests. */
public final class TestRoutes {
    private TestRoutes() {}

    public static Backend backend(String name, TestBackend... pods) {
        return Backend.of(name, Arrays.stream(pods).map(TestBackend::endpoint).toList());
    }

    public static Backend backend(String name, Endpoint... endpoints) {
        return Backend.of(name, List.of(endpoints));
    }

    public static Route prefix(String path, String ingress, Backend backend) {
        return new Route(new PathMatcher.Prefix(path), ingress, backend, RouteOptions.DEFAULTS);
    }

    public static Route prefix(String path, String ingress, Backend backend, RouteOptions options) {
        return new Route(new PathMatcher.Prefix(path), ingress, backend, options);
    }

    public static Route exact(String path, String ingress, Backend backend) {
        return new Route(new PathMatcher.Exact(path), ingress, backend, RouteOptions.DEFAULTS);
    }

    /** A host in normal (non-regex) mode with the built-in 404 fallback. */
    public static HostRoutes host(String name, Route... routes) {
        return HostRoutes.of(name, List.of(routes), false, Route.notFound(), null);
    }

    /** A host in regex mode (needed for rewrites). */
    public static HostRoutes regexHost(String name, Route... routes) {
        return HostRoutes.of(name, List.of(routes), true, Route.notFound(), null);
    }

    /** A table of named hosts and a catch-all that answers 404. */
    public static RouteTable table(HostRoutes... hosts) {
        return tableWithCatchAll(host(""), hosts);
    }

    public static RouteTable tableWithCatchAll(HostRoutes catchAll, HostRoutes... hosts) {
        Map<String, HostRoutes> exact = new HashMap<>();
        Map<String, HostRoutes> wildcards = new HashMap<>();
        for (HostRoutes h : hosts) {
            if (h.host().startsWith("*.")) {
                wildcards.put(h.host().substring(2), h);
            } else {
                exact.put(h.host(), h);
            }
        }
        return new RouteTable(exact, wildcards, catchAll);
    }
}
