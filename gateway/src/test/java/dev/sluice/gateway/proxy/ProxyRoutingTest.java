package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.exact;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.regexHost;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Rewrite;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Requests through a real {@link GatewayServer} to real backends on 127.0.0.x: where they go. */
class ProxyRoutingTest {
    static TestBackend web1;
    static TestBackend web2;
    static TestBackend web3;
    static TestBackend api;
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web1 = TestBackend.start("web-1", "127.0.0.2");
        web2 = TestBackend.start("web-2", "127.0.0.3");
        web3 = TestBackend.start("web-3", "127.0.0.4");
        api = TestBackend.start("api-1", "127.0.0.5");
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(2).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        for (TestBackend b : List.of(web1, web2, web3, api)) {
            b.close();
        }
    }

    private static RawHttpClient.Response get(String host, String uri) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange("GET " + uri + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        }
    }

    @Test
    void routesByHostAndPath() {
        routes.publish(table(
                host("shop.example.com",
                        prefix("/", "shop/web", backend("shop-web-80", web1)),
                        prefix("/api", "shop/api", backend("shop-api-80", api))),
                host("blog.example.com", prefix("/", "blog/web", backend("blog-web-80", web2)))));

        assertThat(get("shop.example.com", "/").json().get("pod").asText()).isEqualTo("web-1");
        assertThat(get("shop.example.com", "/api/items").json().get("pod").asText()).isEqualTo("api-1");
        assertThat(get("SHOP.example.com:8080", "/api").json().get("pod").asText()).isEqualTo("api-1");
        assertThat(get("blog.example.com", "/api").json().get("pod").asText()).isEqualTo("web-2");
    }

    @Test
    void unknownHostOrPathIs404WithNginxStylePage() {
        routes.publish(table(host("shop.example.com", exact("/only", "shop/web", backend("shop-web-80", web1)))));

        RawHttpClient.Response unknownHost = get("other.example.com", "/");
        assertThat(unknownHost.status()).isEqualTo(404);
        assertThat(unknownHost.header("Content-Type")).isEqualTo("text/html");
        assertThat(unknownHost.text()).contains("<title>404 Not Found</title>");
        assertThat(unknownHost.header("Server")).isNull();

        assertThat(get("shop.example.com", "/other").status()).isEqualTo(404);
        assertThat(get("shop.example.com", "/only").status()).isEqualTo(200);
    }

    @Test
    void backendWithoutEndpointsIs503() {
        routes.publish(table(host("shop.example.com", prefix("/", "shop/web", Backend.of("shop-web-80", List.of())))));

        RawHttpClient.Response r = get("shop.example.com", "/");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("503 Service Temporarily Unavailable");
    }

    @Test
    void trailingSlashRedirectCarriesLocation() {
        routes.publish(table(host("shop.example.com", prefix("/docs/", "shop/docs", backend("shop-docs-80", web1)))));

        RawHttpClient.Response r = get("shop.example.com", "/docs");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.header("Location")).isEqualTo("http://shop.example.com/docs/");
        assertThat(r.text()).contains("301 Moved Permanently");
    }

    @Test
    void rawUriIsForwardedUnchangedWithoutRewrite() {
        routes.publish(table(host("shop.example.com", prefix("/", "shop/web", backend("shop-web-80", web1)))));

        assertThat(get("shop.example.com", "/a%2Fb//c?x=1&y=%20").json().get("uri").asText())
                .isEqualTo("/a%2Fb//c?x=1&y=%20");
    }

    @Test
    void rewrittenUriAndForwardedPrefixAreSent() {
        Route rewritten = new Route(PathMatcher.Regex.compile("/something(/|$)(.*)"), "shop/rewrite",
                backend("shop-web-80", web1),
                RouteOptions.DEFAULTS.withRewrite(Rewrite.of("/something(/|$)(.*)", "/$2"), "/something"));
        routes.publish(table(regexHost("shop.example.com", rewritten)));

        RawHttpClient.Response r = get("shop.example.com", "/something/new/path?q=1");
        assertThat(r.json().get("uri").asText()).isEqualTo("/new/path?q=1");
        assertThat(r.echoedHeader("X-Forwarded-Prefix")).isEqualTo("/something");
    }

    @Test
    void sequentialRequestsRotateStrictlyOverEndpoints() {
        routes.publish(table(host("shop.example.com", prefix("/", "shop/web", backend("shop-web-80", web1, web2, web3)))));

        List<String> pods = new ArrayList<>();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (int i = 0; i < 9; i++) {
                pods.add(c.exchange("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").json().get("pod").asText());
            }
        }
        // every window of three consecutive answers names each pod once
        for (int i = 0; i + 3 <= pods.size(); i++) {
            assertThat(pods.subList(i, i + 3)).containsExactlyInAnyOrder("web-1", "web-2", "web-3");
        }
    }

    @Test
    void concurrentRequestsFromAStandardClientAreEachAnsweredWithTheirOwnResponse() throws Exception {
        routes.publish(TestRoutes.tableWithCatchAll(
                host("", prefix("/", "default/catch-all", backend("default-web-80", web1, web2, web3)))));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            HttpRequest.Builder req = HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.httpPort() + "/item/" + i + "?n=" + i));
            futures.add(client.sendAsync(i % 2 == 0 ? req.GET().build()
                    : req.POST(HttpRequest.BodyPublishers.ofString("body-" + i)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        Map<String, Integer> perPod = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < futures.size(); i++) {
            HttpResponse<String> r = futures.get(i).get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode echo = json.readTree(r.body());
            assertThat(echo.get("uri").asText()).isEqualTo("/item/" + i + "?n=" + i);
            assertThat(echo.get("bodyBytes").asInt()).isEqualTo(i % 2 == 0 ? 0 : ("body-" + i).length());
            perPod.merge(echo.get("pod").asText(), 1, Integer::sum);
        }
        assertThat(perPod).containsOnlyKeys("web-1", "web-2", "web-3");
        assertThat(perPod.values()).allSatisfy(n -> assertThat(n).isBetween(66, 67));
    }

    @Test
    void aNewlyPublishedTableTakesEffectForTheNextRequest() {
        routes.publish(table(host("shop.example.com", prefix("/", "shop/web", backend("shop-web-80", web1)))));
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            String req = "GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n";
            assertThat(c.exchange(req).json().get("pod").asText()).isEqualTo("web-1");

            routes.publish(table(host("shop.example.com", prefix("/", "shop/web", backend("shop-web-80", web2)))));
            assertThat(c.exchange(req).json().get("pod").asText()).isEqualTo("web-2");

            routes.publish(table());
            assertThat(c.exchange(req).status()).isEqualTo(404);
        }
    }
}
