package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Host and path lookup of a hand-built table: request in, routing decision out. */
class RouteTableTest {

    private static Backend backend(String name) {
        return Backend.of(name, List.of(Endpoint.of("127.0.0.2", 8080)));
    }

    private static Route exact(String path, String name) {
        return new Route(new PathMatcher.Exact(path), "default/" + name, backend(name), RouteOptions.DEFAULTS);
    }

    private static Route prefix(String path, String name) {
        return new Route(new PathMatcher.Prefix(path), "default/" + name, backend(name), RouteOptions.DEFAULTS);
    }

    private static Route regex(String path, String name) {
        return new Route(PathMatcher.Regex.compile(path), "default/" + name, backend(name), RouteOptions.DEFAULTS);
    }

    private static RouteTable table(HostRoutes... hosts) {
        Map<String, HostRoutes> exact = new java.util.HashMap<>();
        Map<String, HostRoutes> wild = new java.util.HashMap<>();
        HostRoutes catchAll = RouteTable.EMPTY.catchAll();
        for (HostRoutes h : hosts) {
            if (h.host().isEmpty()) {
                catchAll = h;
            } else if (h.host().startsWith("*.")) {
                wild.put(h.host().substring(2), h);
            } else {
                exact.put(h.host(), h);
            }
        }
        return new RouteTable(exact, wild, catchAll);
    }

    private static HostRoutes host(String name, Route... routes) {
        return HostRoutes.of(name, List.of(routes), false, Route.notFound(), null);
    }

    private static HostRoutes regexHost(String name, Route... routes) {
        return HostRoutes.of(name, List.of(routes), true, Route.notFound(), null);
    }

    /** The backend name that serves the request, or "status:N" for a local answer. */
    private static String serve(RouteTable t, String host, String uri) {
        RoutingDecision d = t.decide(host, uri, "http");
        if (d instanceof RoutingDecision.Forward f) {
            return f.backend().name();
        }
        return "status:" + ((RoutingDecision.Respond) d).status();
    }

    @Test
    void prefixMatchesWholePathElementsOnly() {
        RouteTable t = table(host("a.test", prefix("/aaa", "aaa")));
        assertThat(serve(t, "a.test", "/aaa")).isEqualTo("aaa");
        assertThat(serve(t, "a.test", "/aaa/")).isEqualTo("aaa");
        assertThat(serve(t, "a.test", "/aaa/cccc")).isEqualTo("aaa");
        assertThat(serve(t, "a.test", "/aaacccc")).isEqualTo("status:404");
        assertThat(serve(t, "a.test", "/AAA")).as("case-sensitive outside regex mode").isEqualTo("status:404");
    }

    @Test
    void longestPrefixWinsAndExactBeatsPrefix() {
        RouteTable t = table(host("a.test", prefix("/", "root"), prefix("/aaa", "aaa"), prefix("/aaa/bbb", "bbb"),
                exact("/aaa", "exact-aaa")));
        assertThat(serve(t, "a.test", "/aaa/bbb")).isEqualTo("bbb");
        assertThat(serve(t, "a.test", "/aaa/ccc")).isEqualTo("aaa");
        assertThat(serve(t, "a.test", "/aaa")).isEqualTo("exact-aaa");
        assertThat(serve(t, "a.test", "/ccc")).isEqualTo("root");
    }

    @Test
    void trailingSlashPrefixRedirectsTheBarePath() {
        RouteTable t = table(host("a.test", prefix("/foo/", "foo")));
        RoutingDecision d = t.decide("a.test", "/foo?x=1", "http");
        assertThat(d).isEqualTo(new RoutingDecision.Respond(301, "http://a.test/foo/?x=1", "trailing slash"));
        assertThat(serve(t, "a.test", "/foo/bar")).isEqualTo("foo");
    }

    @Test
    void prefixWithoutSlashWinsOverTheTrailingSlashRedirect() {
        RouteTable t = table(host("a.test", prefix("/foo/", "slash"), prefix("/foo", "bare")));
        assertThat(serve(t, "a.test", "/foo")).isEqualTo("bare");
        assertThat(serve(t, "a.test", "/foo/x")).isEqualTo("slash");
    }

    @Test
    void hostsIgnoreCasePortAndTrailingDot() {
        RouteTable t = table(host("plain.test", prefix("/", "plain")), host("", prefix("/", "catch-all")));
        assertThat(serve(t, "PLAIN.test:8080", "/")).isEqualTo("plain");
        assertThat(serve(t, "plain.test.", "/")).isEqualTo("plain");
        assertThat(serve(t, "other.test", "/")).isEqualTo("catch-all");
        assertThat(serve(t, null, "/")).isEqualTo("catch-all");
    }

    @Test
    void wildcardCoversExactlyOneLabelAndExactHostsWin() {
        RouteTable t = table(host("*.foo.com", prefix("/", "wild")), host("www.foo.com", prefix("/", "www")),
                host("", prefix("/", "catch-all")));
        assertThat(serve(t, "a.foo.com", "/")).isEqualTo("wild");
        assertThat(serve(t, "A.Foo.Com", "/")).isEqualTo("wild");
        assertThat(serve(t, "www.foo.com", "/")).isEqualTo("www");
        assertThat(serve(t, "a.b.foo.com", "/")).isEqualTo("catch-all");
        assertThat(serve(t, "foo.com", "/")).isEqualTo("catch-all");
    }

    @Test
    void namedHostNeverFallsBackToCatchAllPaths() {
        RouteTable t = table(host("named.test", prefix("/a", "a")), host("", prefix("/b", "b")));
        assertThat(serve(t, "named.test", "/b")).isEqualTo("status:404");
        assertThat(serve(t, "unknown.test", "/b")).isEqualTo("b");
    }

    @Test
    void regexModeIsCaseInsensitiveAnchoredAtStartFirstMatchInNginxOrder() {
        RouteTable t = table(regexHost("r.test", regex("/foo/bar/bar", "plain"), regex("/foo/bar/[A-Z0-9]{3}", "re"),
                regex("/id/[0-9]+$", "id")));
        // documented pitfall: the longer regex is tried first
        assertThat(serve(t, "r.test", "/foo/bar/bar")).isEqualTo("re");
        assertThat(serve(t, "r.test", "/FOO/BAR/XYZ")).isEqualTo("re");
        assertThat(serve(t, "r.test", "/id/123")).isEqualTo("id");
        assertThat(serve(t, "r.test", "/id/123a")).isEqualTo("status:404");
    }

    @Test
    void regexOrderSortsEqualLengthsInReverseByteOrder() {
        HostRoutes h = regexHost("r.test", regex("/aa", "x"), regex("/ab", "y"), regex("/a.+", "z"), regex("/", "root"));
        List<String> order = new ArrayList<>();
        h.routes().forEach(r -> order.add(r.matcher().path()));
        // longer strings first ("/a.+" has 4 characters), then reverse byte order
        assertThat(order).containsExactly("/a.+", "/ab", "/aa", "/");
    }

    @Test
    void exactStaysExactInRegexMode() {
        RouteTable t = table(regexHost("r.test", exact("/admin", "admin"), regex("/", "root")));
        assertThat(serve(t, "r.test", "/admin")).isEqualTo("admin");
        assertThat(serve(t, "r.test", "/admin/x")).isEqualTo("root");
    }

    @Test
    void rewriteReplacesTheWholeUriKeepsQueryAndSetsForwardedPrefix() {
        Route r = new Route(PathMatcher.Regex.compile("/something(/|$)(.*)"), "default/rw", backend("rw"),
                RouteOptions.DEFAULTS.withRewrite(Rewrite.of("/something(/|$)(.*)", "/$2"), "/something"));
        RouteTable t = table(regexHost("rw.test", r));
        assertThat(upstreamUri(t, "/something")).isEqualTo("/");
        assertThat(upstreamUri(t, "/something/")).isEqualTo("/");
        assertThat(upstreamUri(t, "/something/new?a=1")).isEqualTo("/new?a=1");
        assertThat(upstreamUri(t, "/SOMETHING/Deep/Path")).isEqualTo("/Deep/Path");
        assertThat(upstreamUri(t, "/something/a%20b")).isEqualTo("/a%20b");
        assertThat(upstreamUri(t, "/something/a%2Fb")).isEqualTo("/a/b");
        assertThat(serve(t, "rw.test", "/somethingelse/x")).isEqualTo("status:404");
        RoutingDecision.Forward f = (RoutingDecision.Forward) t.decide("rw.test", "/something/x", "http");
        assertThat(f.forwardedPrefix()).isEqualTo("/something");
    }

    @Test
    void rawUriIsForwardedUnchangedWithoutRewrite() {
        RouteTable t = table(host("a.test", prefix("/a", "a")));
        RoutingDecision.Forward f = (RoutingDecision.Forward) t.decide("a.test", "/a%2Fb//c?x=1&y=%20", "http");
        assertThat(f.upstreamUri()).isEqualTo("/a%2Fb//c?x=1&y=%20");
        assertThat(f.forwardedPrefix()).isNull();
    }

    @Test
    void matchingUsesTheNormalisedPath() {
        RouteTable t = table(host("a.test", prefix("/a/b", "ab")));
        assertThat(serve(t, "a.test", "/a//b")).isEqualTo("ab");
        assertThat(serve(t, "a.test", "/a/./x/../b/c")).isEqualTo("ab");
        assertThat(serve(t, "a.test", "/a%2Fb")).isEqualTo("ab");
        assertThat(serve(t, "a.test", "/../etc")).isEqualTo("status:400");
        assertThat(serve(t, "a.test", "/a%zz")).isEqualTo("status:400");
    }

    @Test
    void rewriteToAbsoluteUrlRedirects() {
        Route r = new Route(PathMatcher.Regex.compile("/old(/|$)(.*)"), "default/rd", backend("rd"),
                RouteOptions.DEFAULTS.withRewrite(Rewrite.of("/old(/|$)(.*)", "https://new.test/$2"), null));
        RoutingDecision d = table(regexHost("rd.test", r)).decide("rd.test", "/old/x?q=1", "http");
        assertThat(d).usingRecursiveComparison().ignoringFields("route")
                .isEqualTo(new RoutingDecision.Respond(302, "https://new.test/x?q=1", "rewrite-target redirect"));
        assertThat(((RoutingDecision.Respond) d).route()).isNotNull(); // the location answers: its metric labels
    }

    @Test
    void appRootRedirectsOnlyTheRoot() {
        HostRoutes h = HostRoutes.of("approot.bar.com", List.of(prefix("/", "root")), false, Route.notFound(), "/foo");
        RouteTable t = table(h);
        assertThat(t.decide("approot.bar.com", "/", "http"))
                .isEqualTo(new RoutingDecision.Respond(302, "http://approot.bar.com/foo", "app-root"));
        assertThat(serve(t, "approot.bar.com", "/bar")).isEqualTo("root");
    }

    @Test
    void backendWithoutEndpointsAnswers503AndBuiltInDefaultAnswers404() {
        Route empty = new Route(new PathMatcher.Prefix("/"), "default/e", Backend.of("default-e-80", List.of()),
                RouteOptions.DEFAULTS);
        Route missing = new Route(new PathMatcher.Prefix("/m"), "default/m",
                Backend.unavailable("default-m-80", "service default/m not found"), RouteOptions.DEFAULTS);
        RouteTable t = table(host("a.test", empty, missing));
        assertThat(t.decide("a.test", "/", "http")).isInstanceOfSatisfying(RoutingDecision.Respond.class,
                r -> assertThat(r.status()).isEqualTo(503));
        // the location answers: it travels with the answer for the metrics' ingress/service labels
        assertThat(t.decide("a.test", "/m", "http")).isEqualTo(
                new RoutingDecision.Respond(503, null, "service default/m not found", null, null, missing));
        assertThat(serve(RouteTable.EMPTY, "x", "/")).isEqualTo("status:404");
    }

    @Test
    void equalTablesCompareEqualSoUnchangedRebuildsAreNotRepublished() {
        RouteTable a = table(regexHost("r.test", regex("/x.+", "x"), prefix("/", "root")));
        RouteTable b = table(regexHost("r.test", prefix("/", "root"), regex("/x.+", "x")));
        assertThat(a).isEqualTo(b);
        assertThat(a.hashCode()).isEqualTo(b.hashCode());
    }

    @Test
    void roundRobinIsStrictRotation() {
        List<Endpoint> endpoints = List.of(Endpoint.of("127.0.0.2", 1), Endpoint.of("127.0.0.3", 1),
                Endpoint.of("127.0.0.4", 1));
        Backend b = Backend.of("b", endpoints);
        // the first pick is random (NGINX starts each worker at a random peer); from there, the list order
        int start = endpoints.indexOf(b.pick());
        assertThat(start).isNotNegative();
        for (int i = 1; i < 600; i++) {
            assertThat(b.pick()).as("pick %d", i).isEqualTo(endpoints.get((start + i) % 3));
        }
    }

    private static String upstreamUri(RouteTable t, String uri) {
        RoutingDecision d = t.decide("rw.test", uri, "http");
        assertThat(d).isInstanceOf(RoutingDecision.Forward.class);
        return ((RoutingDecision.Forward) d).upstreamUri();
    }
}
