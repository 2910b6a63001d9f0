package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.regexHost;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.re2j.Pattern;
import dev.sluice.gateway.balance.AffinityCanaryBehavior;
import dev.sluice.gateway.balance.AffinityConfig;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.CanaryRule;
import dev.sluice.gateway.balance.CyclingDraw;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Rewrite;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Canary releases and load balancing through a real {@link GatewayServer} to real backends on
 * 127.0.0.x (SPEC §5, §6): which pod serves, the sticky cookie on the wire, retries staying on the
 * chosen side, and the canary metric tag.
 */
class CanaryProxyTest {
    static final String HOST = "shop.example.com";
    static TestBackend v1a;
    static TestBackend v1b;
    static TestBackend v2a;
    static TestBackend v2b;
    static TestBackend v2c;
    static final RouteTableHolder routes = new RouteTableHolder();
    /** The canary weight draw of every request: exhaustive, so weighted splits are exact. */
    static final CyclingDraw DRAW = new CyclingDraw();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        v1a = TestBackend.start("v1-a", "127.0.0.2");
        v1b = TestBackend.start("v1-b", "127.0.0.3");
        v2a = TestBackend.start("v2-a", "127.0.0.4");
        v2b = TestBackend.start("v2-b", "127.0.0.5");
        v2c = TestBackend.start("v2-c", "127.0.0.6");
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(2).canaryDraw(() -> DRAW).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        for (TestBackend b : List.of(v1a, v1b, v2a, v2b, v2c)) {
            b.close();
        }
    }

    static Backend v1() {
        return backend("shop-user-v1-80", v1a, v1b);
    }

    static Backend v2() {
        return backend("shop-user-v2-80", v2a, v2b);
    }

    static CanaryRule rule(String header, String values, String pattern, String cookie, int weight, int total) {
        return new CanaryRule(header, values == null ? java.util.List.of() : java.util.List.of(values.split("\\|\\|")), pattern == null ? null : Pattern.compile(pattern),
                cookie, weight, total);
    }

    /** Publishes {@code /} of {@link #HOST}: mainline → canary with the rule. */
    static void serve(Backend mainline, BalancerSpec mainSpec, Backend canary, BalancerSpec canarySpec, CanaryRule rule,
            AffinityCanaryBehavior behavior, String affinityPath) {
        TrafficSplit split = TrafficSplit.of(Upstream.of(mainline, mainSpec), canary, canarySpec, rule, behavior);
        routes.publish(table(host(HOST,
                new Route(new PathMatcher.Prefix("/"), "shop/user", split, RouteOptions.DEFAULTS, affinityPath))));
    }

    static void serve(CanaryRule rule) {
        serve(v1(), BalancerSpec.DEFAULT, v2(), BalancerSpec.DEFAULT, rule, null, null);
    }

    static RawHttpClient.Response get(RawHttpClient c, String uri, String... headers) {
        StringBuilder sb = new StringBuilder("GET " + uri + " HTTP/1.1\r\nHost: " + HOST + "\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return c.exchange(sb.append("\r\n").toString());
    }

    static String pod(String uri, String... headers) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = get(c, uri, headers);
            assertThat(r.status()).as("status").isEqualTo(200);
            return r.json().get("pod").asText();
        }
    }

    /** How many of {@code n} requests (one keep-alive connection) a v2 pod served. */
    static int canaryCount(int n, String... headers) {
        int canary = 0;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (int i = 0; i < n; i++) {
                RawHttpClient.Response r = get(c, "/", headers);
                assertThat(r.status()).isEqualTo(200);
                if (r.json().get("pod").asText().startsWith("v2")) {
                    canary++;
                }
            }
        }
        return canary;
    }

    @Test
    void headerAlwaysNeverAndOtherValues() {
        serve(rule("X-Canary", null, null, "beta", 0, 100));
        assertThat(pod("/", "X-Canary: always")).startsWith("v2");
        assertThat(pod("/", "x-canary: always")).startsWith("v2");
        assertThat(pod("/", "X-Canary: never", "Cookie: beta=always")).startsWith("v1");
        assertThat(pod("/", "X-Canary: other", "Cookie: beta=always")).startsWith("v2");
        assertThat(pod("/", "Cookie: beta=never")).startsWith("v1");
        assertThat(pod("/", "Cookie: a=b; beta=always")).startsWith("v2");
        assertThat(pod("/")).startsWith("v1");
    }

    @Test
    void headerValueListAndPattern() {
        serve(rule("X-Ver", "v2||beta", null, null, 0, 100));
        assertThat(pod("/", "X-Ver: v2")).startsWith("v2");
        assertThat(pod("/", "X-Ver: beta")).startsWith("v2");
        assertThat(pod("/", "X-Ver: always")).startsWith("v1");
        assertThat(pod("/", "X-Ver: V2")).startsWith("v1");

        serve(rule("X-User", null, "^(alice|bob)$", null, 0, 100));
        assertThat(pod("/", "X-User: bob")).startsWith("v2");
        assertThat(pod("/", "X-User: carol")).startsWith("v1");
    }

    @Test
    void weightZeroHundredAndTotal() {
        serve(rule(null, null, null, null, 0, 100));
        assertThat(canaryCount(50)).isZero();
        serve(rule(null, null, null, null, 100, 100));
        assertThat(canaryCount(50)).isEqualTo(50);
        serve(rule(null, null, null, null, 1000, 1000));
        assertThat(canaryCount(50)).isEqualTo(50);
        serve(rule(null, null, null, null, 0, 1000));
        assertThat(canaryCount(50)).isZero();
    }

    @Test
    void weightedSplitsSendExactlyWeightOfEveryTotalRequests() {
        // each of `total` requests draws a different value of 1..total (CyclingDraw): exactly
        // `weight` of them are at most the weight and go to the canary
        for (int[] wt : new int[][] {{50, 100}, {30, 100}, {1, 100}, {99, 100}, {300, 1000}, {3, 7}}) {
            serve(rule(null, null, null, null, wt[0], wt[1]));
            DRAW.reset();
            assertThat(canaryCount(wt[1])).as("canary requests of %d at %d/%d", wt[1], wt[0], wt[1]).isEqualTo(wt[0]);
        }
    }

    @Test
    void forcedCanaryIsServedWhenTheMainlineHasNoEndpoints() {
        serve(Backend.of("shop-user-v1-80", List.of()), BalancerSpec.DEFAULT, v2(), BalancerSpec.DEFAULT,
                rule("X-Canary", null, null, null, 0, 100), null, null);
        assertThat(pod("/", "X-Canary: always")).startsWith("v2");
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(get(c, "/").status()).isEqualTo(503);
        }
    }

    @Test
    void retriesStayOnTheCanary() {
        Backend canary = backend("shop-user-v2-80", TestBackend.deadEndpoint("127.0.0.7"), v2a.endpoint());
        serve(v1(), BalancerSpec.DEFAULT, canary, BalancerSpec.DEFAULT, rule("X-Canary", null, null, null, 0, 100),
                null, null);
        for (int i = 0; i < 10; i++) {
            assertThat(pod("/" + i, "X-Canary: always")).isEqualTo("v2-a");
        }
    }

    @Test
    void mainlineRewriteAppliesToCanaryTraffic() {
        TrafficSplit split = TrafficSplit.of(Upstream.of(v1(), BalancerSpec.DEFAULT), v2(), BalancerSpec.DEFAULT,
                rule("X-Canary", null, null, null, 0, 100), null);
        Route r = new Route(PathMatcher.Regex.compile("/api(/|$)(.*)"), "shop/user", split,
                RouteOptions.DEFAULTS.withRewrite(Rewrite.of("/api(/|$)(.*)", "/$2"), null), null);
        routes.publish(table(regexHost(HOST, r)));
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            JsonNode canary = get(c, "/api/items?x=1", "X-Canary: always").json();
            assertThat(canary.get("pod").asText()).startsWith("v2");
            assertThat(canary.get("uri").asText()).isEqualTo("/items?x=1");
            JsonNode main = get(c, "/api/items?x=1").json();
            assertThat(main.get("pod").asText()).startsWith("v1");
            assertThat(main.get("uri").asText()).isEqualTo("/items?x=1");
        }
    }

    @Test
    void stickyCanaryKeepsAClientOnTheSideItFirstGot() {
        BalancerSpec sticky = BalancerSpec.cookieAffinity(AffinityConfig.defaults());
        serve(v1(), sticky, v2(), BalancerSpec.DEFAULT, rule(null, null, null, null, 50, 100),
                AffinityCanaryBehavior.STICKY, "/");
        Set<String> sides = new HashSet<>();
        for (int client = 0; client < 20; client++) {
            String cookie;
            String first;
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                RawHttpClient.Response r = get(c, "/");
                first = r.json().get("pod").asText();
                cookie = r.header("Set-Cookie");
            }
            assertThat(cookie).as("both sides issue the sticky cookie").startsWith("INGRESSCOOKIE=");
            sides.add(first.substring(0, 2));
            String pair = cookie.substring(0, cookie.indexOf(';'));
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                for (int i = 0; i < 10; i++) {
                    RawHttpClient.Response r = get(c, "/", "Cookie: " + pair);
                    assertThat(r.json().get("pod").asText()).as("client %d", client).isEqualTo(first);
                    assertThat(r.header("Set-Cookie")).isNull();
                }
            }
        }
        assertThat(sides).as("at 50 %% twenty clients meet both sides").containsExactlyInAnyOrder("v1", "v2");
    }

    @Test
    void legacyCanaryIssuesNoCookieAndSplitsPerRequest() {
        BalancerSpec sticky = BalancerSpec.cookieAffinity(AffinityConfig.defaults());
        serve(v1(), sticky, v2(), BalancerSpec.DEFAULT, rule("X-Canary", null, null, null, 0, 100),
                AffinityCanaryBehavior.LEGACY, "/");
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response canary = get(c, "/", "X-Canary: always");
            assertThat(canary.json().get("pod").asText()).startsWith("v2");
            assertThat(canary.header("Set-Cookie")).isNull();
            RawHttpClient.Response main = get(c, "/");
            assertThat(main.json().get("pod").asText()).startsWith("v1");
            assertThat(main.header("Set-Cookie")).startsWith("INGRESSCOOKIE=");
            // a mainline sticky cookie pins to the mainline before the header is looked at (SPEC §5.3 step 1)
            String pair = main.header("Set-Cookie").substring(0, main.header("Set-Cookie").indexOf(';'));
            assertThat(get(c, "/", "X-Canary: always", "Cookie: " + pair).json().get("pod").asText())
                    .startsWith("v1");
        }
    }

    @Test
    void affinityCookieAttributesOnTheWire() {
        AffinityConfig cfg = AffinityConfig.builder().cookieName("route").maxAgeSeconds(3600L)
                .sameSite(AffinityConfig.SameSite.LAX).build();
        routes.publish(table(host(HOST, new Route(new PathMatcher.Prefix("/shop"), "shop/user",
                TrafficSplit.of(Upstream.of(v1(), BalancerSpec.cookieAffinity(cfg))), RouteOptions.DEFAULTS, "/shop"),
                new Route(new PathMatcher.Prefix("/"), "shop/other",
                        TrafficSplit.of(Upstream.of(v1(), BalancerSpec.cookieAffinity(cfg))), RouteOptions.DEFAULTS,
                        null))));
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            String cookie = get(c, "/shop/cart").header("Set-Cookie");
            assertThat(cookie).startsWith("route=").contains("; Max-Age=3600", "; Path=/shop", "; HttpOnly",
                    "; SameSite=Lax").doesNotContain("Secure");
            // a location whose Ingress did not declare affinity sets no cookie (SPEC §6.3)
            assertThat(get(c, "/other").header("Set-Cookie")).isNull();
        }
    }

    @Test
    void upstreamHashByRequestUriIsStable() {
        Backend three = backend("shop-user-v2-80", v2a, v2b, v2c);
        routes.publish(table(host(HOST, new Route(new PathMatcher.Prefix("/"), "shop/user",
                TrafficSplit.of(Upstream.of(three, BalancerSpec.hashBy("$request_uri"))), RouteOptions.DEFAULTS,
                null))));
        String first = pod("/item/42");
        for (int i = 0; i < 50; i++) {
            assertThat(pod("/item/42")).isEqualTo(first);
        }
        Map<String, Integer> spread = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            spread.merge(pod("/item/" + i), 1, Integer::sum);
        }
        assertThat(spread).hasSize(3);
    }

    @Test
    void metricsCarryTheCanaryTag() throws Exception {
        // its own server and registry: the shared server may still be recording the previous test's last request
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        RouteTableHolder ownRoutes = new RouteTableHolder();
        try (GatewayServer s = GatewayServer.builder().routes(ownRoutes).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(-1).eventLoops(1).meterRegistry(own).build()) {
            s.start();
            ownRoutes.publish(table(host(HOST, new Route(new PathMatcher.Prefix("/"), "shop/user",
                    TrafficSplit.of(Upstream.of(v1(), BalancerSpec.DEFAULT), v2(), BalancerSpec.DEFAULT,
                            rule("X-Canary", null, null, null, 0, 100), null),
                    RouteOptions.DEFAULTS, null))));
            try (RawHttpClient c = RawHttpClient.connect(s.httpPort())) {
                assertThat(get(c, "/", "X-Canary: always").status()).isEqualTo(200);
                assertThat(get(c, "/", "X-Canary: always").status()).isEqualTo(200);
                assertThat(get(c, "/").status()).isEqualTo(200);
            }
            // recorded when the exchange finishes, just after the client has the response
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                // ingress-nginx's canary label: the canary upstream's name, empty for mainline traffic
                assertThat(count(own, "shop-user-v2-80")).isEqualTo(2);
                assertThat(count(own, "")).isEqualTo(1);
            });
            // the service label stays the location's (mainline) Service, as ingress-nginx's $service_name
            assertThat(own.find("nginx_ingress_controller_requests").counters())
                    .allSatisfy(c -> assertThat(c.getId().getTag("service")).isEqualTo("shop-user-v1-80"));
        }
    }

    private static double count(SimpleMeterRegistry r, String canary) {
        return r.find("nginx_ingress_controller_requests").tag("canary", canary).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    @Test
    void accessLogMarksCanaryRequests(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        RouteTableHolder own = new RouteTableHolder();
        try (GatewayServer s = GatewayServer.builder().routes(own).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).accessLog(AccessLog.file(file)).build()) {
            s.start();
            own.publish(table(host(HOST, new Route(new PathMatcher.Prefix("/"), "shop/user",
                    TrafficSplit.of(Upstream.of(v1(), BalancerSpec.DEFAULT), v2(), BalancerSpec.DEFAULT,
                            rule("X-Canary", null, null, null, 0, 100), null),
                    RouteOptions.DEFAULTS, null))));
            try (RawHttpClient c = RawHttpClient.connect(s.httpPort())) {
                get(c, "/", "X-Canary: always");
                get(c, "/");
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode canary = json.readTree(lines.get(0));
        assertThat(canary.get("canary").asBoolean()).isTrue();
        assertThat(canary.get("service").asText()).isEqualTo("shop-user-v2-80");
        JsonNode main = json.readTree(lines.get(1));
        assertThat(main.get("canary").asBoolean()).isFalse();
        assertThat(main.get("service").asText()).isEqualTo("shop-user-v1-80");
    }
}
