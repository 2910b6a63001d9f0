package dev.sluice.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.balance.AffinityCanaryBehavior;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.CanaryRule;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.CompressionPolicy;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Rewrite;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
    private final HttpClient client = HttpClient.newHttpClient();
    private final RouteTableHolder holder = new RouteTableHolder();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicBoolean synced = new AtomicBoolean(true);
    private AdminServer server;

    @BeforeEach
    void start() {
        server = new AdminServer("127.0.0.1", 0, holder, registry, synced::get);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void listensOnAFreePortWhenZeroIsAsked() {
        assertThat(server.port()).isPositive();
    }

    @Test
    void healthzAnswersOkEvenBeforeTheFirstTable() throws Exception {
        HttpResponse<String> r = get("/healthz");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
    }

    @Test
    void readyzWaitsForTheFirstPublishedTable() throws Exception {
        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        assertThat(get("/readyz").body()).contains("no route table published yet");

        holder.publish(RouteTable.EMPTY);

        HttpResponse<String> r = get("/readyz");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok");
    }

    @Test
    void readyzNeedsTheExtraCondition() throws Exception {
        holder.publish(RouteTable.EMPTY);
        synced.set(false);
        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        assertThat(get("/readyz").body()).contains("not synced");

        synced.set(true);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void readyzAnswers503WhileDrainingButHealthzStaysOk() throws Exception {
        holder.publish(RouteTable.EMPTY);
        server.setDraining(true);

        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        assertThat(get("/readyz").body()).contains("draining");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);

        server.setDraining(false);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void metricsArePrometheusTextWithJvmAndApplicationMeters() throws Exception {
        registry.counter("sluice_test_things").increment(3);

        HttpResponse<String> r = get("/metrics");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body())
                .contains("sluice_test_things_total 3.0")
                .contains("jvm_memory_used_bytes")
                .contains("jvm_gc_")
                .contains("process_uptime_seconds")
                .contains("system_cpu_count");
    }

    @Test
    void routesShowsTheLiveTableInMatchOrder() throws Exception {
        Backend users = Backend.of("default-user-service-v1-80",
                List.of(Endpoint.of("10.1.0.7", 80), Endpoint.of("10.1.0.8", 80)));
        Backend missing = Backend.unavailable("default-pay-service-v1-80", "service default/pay-service-v1 not found");
        Route exact = new Route(new PathMatcher.Exact("/login"), "shop/login", users, RouteOptions.DEFAULTS);
        Route prefix = new Route(new PathMatcher.Prefix("/user"), "shop/web", users, RouteOptions.DEFAULTS);
        Route longer = new Route(new PathMatcher.Prefix("/user/admin"), "shop/web", missing, RouteOptions.DEFAULTS);
        Route regex = new Route(PathMatcher.Regex.compile("/pay(/|$)(.*)"), "default/nginx-ingress", missing,
                RouteOptions.DEFAULTS.withRewrite(Rewrite.of("/pay(/|$)(.*)", "/$2"), null));
        Route catchAllFallback = new Route(new PathMatcher.Prefix("/"), "default/nginx-ingress", users, RouteOptions.DEFAULTS);
        RouteTable table = new RouteTable(
                Map.of("shop.example.com", HostRoutes.of("shop.example.com", List.of(prefix, exact, longer), false,
                        Route.notFound(), "/app")),
                Map.of("example.org", HostRoutes.of("*.example.org", List.of(), false, Route.notFound(), null)),
                HostRoutes.of("", List.of(regex), true, catchAllFallback, null))
                .withTls(new dev.sluice.gateway.route.TlsCertificates(Map.of("shop.example.com",
                        new dev.sluice.gateway.route.TlsCertificate("shop/shop-tls", "pem", "key")),
                        java.util.Set.of("*.example.org"), null));
        holder.publish(RouteTable.EMPTY);
        holder.publish(table);

        HttpResponse<String> r = get("/routes");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode json = new ObjectMapper().readTree(r.body());
        assertThat(json.get("generation").asLong()).isEqualTo(2);
        assertThat(json.get("hosts").fieldNames()).toIterable()
                .containsExactly("shop.example.com", "*.example.org", "_");

        JsonNode shop = json.get("hosts").get("shop.example.com");
        assertThat(shop.get("regexMode").asBoolean()).isFalse();
        assertThat(shop.get("appRoot").asText()).isEqualTo("/app");
        assertThat(shop.get("routes")).extracting(n -> n.get("path").asText())
                .containsExactly("/user/admin", "/login", "/user"); // HostRoutes' order, longest first
        JsonNode login = shop.get("routes").get(1);
        assertThat(login.get("match").asText()).isEqualTo("Exact");
        assertThat(login.get("source").asText()).isEqualTo("shop/login");
        assertThat(login.get("backend").asText()).isEqualTo("default-user-service-v1-80");
        assertThat(login.get("endpoints")).extracting(JsonNode::asText).containsExactly("10.1.0.7:80", "10.1.0.8:80");
        assertThat(login.get("rewriteTarget").isNull()).isTrue();
        assertThat(login.get("sslRedirect").asBoolean()).isTrue();
        assertThat(login.get("forceSslRedirect").asBoolean()).isFalse();
        assertThat(shop.get("tls").asText()).isEqualTo("shop/shop-tls");
        assertThat(json.get("hosts").get("*.example.org").get("tls").asText()).isEqualTo("default");
        assertThat(login.get("problem").isNull()).isTrue();
        JsonNode admin = shop.get("routes").get(0);
        assertThat(admin.get("match").asText()).isEqualTo("Prefix");
        assertThat(admin.get("endpoints")).isEmpty();
        assertThat(admin.get("problem").asText()).isEqualTo("service default/pay-service-v1 not found");
        JsonNode builtIn = shop.get("fallback");
        assertThat(builtIn.get("source").asText()).isEqualTo(Route.BUILT_IN);
        assertThat(builtIn.get("backend").isNull()).isTrue();

        JsonNode catchAll = json.get("hosts").get("_");
        assertThat(catchAll.get("regexMode").asBoolean()).isTrue();
        assertThat(catchAll.get("appRoot").isNull()).isTrue();
        assertThat(catchAll.get("tls").isNull()).isTrue();
        JsonNode pay = catchAll.get("routes").get(0);
        assertThat(pay.get("match").asText()).isEqualTo("Regex");
        assertThat(pay.get("path").asText()).isEqualTo("/pay(/|$)(.*)");
        assertThat(pay.get("rewriteTarget").asText()).isEqualTo("/$2");
        assertThat(catchAll.get("fallback").get("backend").asText()).isEqualTo("default-user-service-v1-80");
        assertThat(catchAll.get("fallback").get("source").asText()).isEqualTo("default/nginx-ingress");
    }

    @Test
    void routesShowsTheCanaryAttachedToALocation() throws Exception {
        Backend v1 = Backend.of("default-user-service-v1-80", List.of(Endpoint.of("10.1.0.7", 80)));
        Backend v2 = Backend.of("default-user-service-v2-80", List.of(Endpoint.of("10.1.0.9", 80)));
        CanaryRule rule = new CanaryRule("x-canary", List.of("v2", "beta"), null, "canary", 20, 1000);
        TrafficSplit split = TrafficSplit.of(Upstream.of(v1, BalancerSpec.DEFAULT), v2, BalancerSpec.DEFAULT, rule,
                AffinityCanaryBehavior.LEGACY);
        Route user = new Route(new PathMatcher.Prefix("/user"), "default/web", v1, RouteOptions.DEFAULTS).withSplit(split);
        holder.publish(new RouteTable(Map.of(), Map.of(),
                HostRoutes.of("", List.of(user), false, Route.notFound(), null)));

        JsonNode route = new ObjectMapper().readTree(get("/routes").body()).get("hosts").get("_").get("routes").get(0);

        assertThat(route.get("backend").asText()).isEqualTo("default-user-service-v1-80");
        JsonNode canary = route.get("canary");
        assertThat(canary.get("backend").asText()).isEqualTo("default-user-service-v2-80");
        assertThat(canary.get("endpoints")).extracting(JsonNode::asText).containsExactly("10.1.0.9:80");
        assertThat(canary.get("header").asText()).isEqualTo("x-canary");
        assertThat(canary.get("headerValues")).extracting(JsonNode::asText).containsExactly("v2", "beta");
        assertThat(canary.get("cookie").asText()).isEqualTo("canary");
        assertThat(canary.get("weight").asInt()).isEqualTo(20);
        assertThat(canary.get("weightTotal").asInt()).isEqualTo(1000);
        assertThat(canary.get("affinityCanaryBehavior").asText()).isEqualTo("LEGACY");
        assertThat(new ObjectMapper().readTree(get("/routes").body()).get("hosts").get("_").get("fallback")
                .get("canary").isNull()).isTrue();
    }

    @Test
    void routesShowsTheMirrorAndCompression() throws Exception {
        Backend web = Backend.of("default-web-80", List.of(Endpoint.of("10.1.0.7", 80)));
        Route mirrored = new Route(new PathMatcher.Prefix("/"), "default/web", web, RouteOptions.DEFAULTS
                .withMirror(MirrorTarget.parse("https://shadow.test:8443$request_uri", null, true)));
        holder.publish(new RouteTable(Map.of(), Map.of(),
                HostRoutes.of("", List.of(mirrored), false, Route.notFound(), null))
                .withCompression(new CompressionPolicy(true, 1, 256, CompressionPolicy.DEFAULT_GZIP_TYPES, false, 4,
                        20, CompressionPolicy.DEFAULT_BROTLI_TYPES)));

        JsonNode root = new ObjectMapper().readTree(get("/routes").body());

        assertThat(root.get("hosts").get("_").get("routes").get(0).get("mirror").asText())
                .isEqualTo("https://shadow.test:8443$request_uri");
        assertThat(root.get("compression").get("gzip").asBoolean()).isTrue();
        assertThat(root.get("compression").get("brotli").asBoolean()).isFalse();
    }

    @Test
    void headAnswersLikeGetWithoutABody() throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(uri("/healthz")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-length")).hasValue("2");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void otherMethodsAndPathsAreRefused() throws Exception {
        HttpResponse<String> post = client.send(
                HttpRequest.newBuilder(uri("/healthz")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");

        assertThat(get("/nope").statusCode()).isEqualTo(404);
        assertThat(get("/healthz?verbose=1").statusCode()).isEqualTo(200);
    }

    @Test
    void keepsTheConnectionOpenForSeveralRequests() throws Exception {
        // the JDK client reuses the connection; every answer on it must be complete
        for (int i = 0; i < 5; i++) {
            assertThat(get("/healthz").body()).isEqualTo("ok");
            assertThat(get("/routes").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void closeStopsListening() throws Exception {
        // its own loopback address, and no rebinding of the closed port (another process could
        // take it in between): after close, nothing answers there
        AdminServer own = new AdminServer("127.0.0.9", 0, holder, registry, synced::get);
        own.start();
        int port = own.port();
        try (java.net.Socket s = new java.net.Socket("127.0.0.9", port)) {
            assertThat(s.isConnected()).isTrue();
        }
        own.close();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new java.net.Socket("127.0.0.9", port).close())
                .isInstanceOf(java.net.ConnectException.class);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
