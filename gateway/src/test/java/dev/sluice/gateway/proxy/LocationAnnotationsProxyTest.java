package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.CorsPolicy;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.LocationRedirect;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Location annotations over the real listener (SPEC §7): what the client sees on the wire and
 * that the backend is not asked when Sluice answers itself.
 */
class LocationAnnotationsProxyTest {
    private static TestBackend pod;
    private static GatewayServer server;

    @BeforeAll
    static void start() throws InterruptedException {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(
                host("moved.test", prefix("/", "default/moved", backend("moved", pod),
                        RouteOptions.DEFAULTS.withRedirect(new LocationRedirect(308, "https://new.example/home")))),
                host("example.test", prefix("/", "default/example", backend("example", pod))),
                HostRoutes.wwwRedirect("www.example.test", "example.test"),
                host("cors.test", prefix("/", "default/cors", backend("cors", pod),
                        RouteOptions.DEFAULTS.withCors(new CorsPolicy(List.of("https://app.test", "http://*.apps.test"),
                                CorsPolicy.DEFAULT_ALLOW_METHODS, CorsPolicy.DEFAULT_ALLOW_HEADERS, "X-Total", true,
                                600)))),
                host("any-cors.test", prefix("/", "default/any-cors", backend("any-cors", pod),
                        RouteOptions.DEFAULTS.withCors(CorsPolicy.DEFAULTS))),
                host("small.test", prefix("/", "default/small", backend("small", pod),
                        RouteOptions.DEFAULTS.withMaxBodySize(2048))),
                host("cors-empty.test", prefix("/", "default/cors-empty", backend("cors-empty", new Endpoint[0]),
                        RouteOptions.DEFAULTS.withCors(CorsPolicy.DEFAULTS)))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        pod.close();
    }

    @Test
    void aFixedRedirectAnswersWithItsCodeAndUrlWithoutAskingTheBackend() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /some/path?q=1 HTTP/1.1\r\nHost: moved.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("location")).isEqualTo("https://new.example/home");
            // the connection stays usable
            RawHttpClient.Response again = c.exchange("POST / HTTP/1.1\r\nHost: moved.test\r\nContent-Length: 3\r\n\r\nabc");
            assertThat(again.status()).isEqualTo(308);
        }
        assertThat(pod.requestsReceived()).isEqualTo(before);
    }

    @Test
    void theWwwTwinRedirectsWith308ToTheTargetHostWithTheServicePort() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /foo/ HTTP/1.1\r\nHost: www.example.test:" + server.httpPort()
                    + "\r\n\r\n");
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("location")).isEqualTo("http://example.test:80/foo");
        }
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "www.example.test")) {
            RawHttpClient.Response r = c.exchange("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("location")).isEqualTo("https://example.test:443");
        }
        assertThat(pod.requestsReceived()).isEqualTo(before);
    }

    @Test
    void anAcceptedPreflightIsAnsweredLocallyWith204AndTheCorsHeaders() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("OPTIONS /api HTTP/1.1\r\nHost: cors.test\r\n"
                    + "Origin: http://one.apps.test\r\nAccess-Control-Request-Method: PUT\r\n\r\n");
            assertThat(r.status()).isEqualTo(204);
            assertThat(r.header("access-control-allow-origin")).isEqualTo("http://one.apps.test");
            assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
            assertThat(r.header("access-control-allow-methods")).isEqualTo(CorsPolicy.DEFAULT_ALLOW_METHODS);
            assertThat(r.header("access-control-allow-headers")).isEqualTo(CorsPolicy.DEFAULT_ALLOW_HEADERS);
            assertThat(r.header("access-control-expose-headers")).isEqualTo("X-Total");
            assertThat(r.header("access-control-max-age")).isEqualTo("600");
            assertThat(r.header("content-type")).isEqualTo("text/plain charset=UTF-8");
            assertThat(r.header("content-length")).isNull(); // ingress-nginx: "0"; a 204 must not carry one
            assertThat(r.text()).isEmpty();
        }
        assertThat(pod.requestsReceived()).isEqualTo(before);
    }

    @Test
    void proxiedResponsesCarryTheCorsHeadersOnlyForAnAcceptedOrigin() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response ok = c.exchange("GET /x HTTP/1.1\r\nHost: cors.test\r\nOrigin: https://APP.test\r\n\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.headers("access-control-allow-origin")).containsExactly("https://APP.test");
            assertThat(ok.header("access-control-max-age")).isEqualTo("600");

            RawHttpClient.Response other = c.exchange("GET /x HTTP/1.1\r\nHost: cors.test\r\nOrigin: https://evil.test\r\n\r\n");
            assertThat(other.status()).isEqualTo(200);
            assertThat(other.headers("access-control-allow-origin")).isEmpty();
            assertThat(other.headers("access-control-allow-methods")).isEmpty();

            // not accepted: OPTIONS goes to the backend
            int before = pod.requestsReceived();
            RawHttpClient.Response options = c.exchange("OPTIONS /x HTTP/1.1\r\nHost: cors.test\r\n"
                    + "Origin: http://a.b.apps.test\r\n\r\n");
            assertThat(options.status()).isEqualTo(200);
            assertThat(options.headers("access-control-allow-origin")).isEmpty();
            assertThat(pod.requestsReceived()).isEqualTo(before + 1);

            // "*": on every response, even without Origin, and on local error answers of the location
            RawHttpClient.Response any = c.exchange("GET /x HTTP/1.1\r\nHost: any-cors.test\r\n\r\n");
            assertThat(any.status()).isEqualTo(200);
            assertThat(any.headers("access-control-allow-origin")).containsExactly("*");
            assertThat(any.header("access-control-expose-headers")).isNull();
            RawHttpClient.Response unavailable = c.exchange("GET /x HTTP/1.1\r\nHost: cors-empty.test\r\n\r\n");
            assertThat(unavailable.status()).isEqualTo(503);
            assertThat(unavailable.headers("access-control-allow-origin")).containsExactly("*");
        }
    }

    @Test
    void aContentLengthAboveProxyBodySizeAnswers413WithoutAskingTheBackend() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("POST /up HTTP/1.1\r\nHost: small.test\r\nContent-Length: 2049\r\n\r\n"
                    + "x".repeat(2049));
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.reason()).isEqualTo("Request Entity Too Large");
            // exactly the limit is proxied, on the same connection
            RawHttpClient.Response ok = c.exchange("POST /up HTTP/1.1\r\nHost: small.test\r\nContent-Length: 2048\r\n\r\n"
                    + "x".repeat(2048));
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.json().get("bodyBytes").asLong()).isEqualTo(2048);
        }
        assertThat(pod.requestsReceived()).isEqualTo(before + 1);
    }

    @Test
    void aChunkedBodyGrowingPastTheLimitAnswers413AndClosesBeforeTheResponseStarted() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /up HTTP/1.1\r\nHost: small.test\r\nTransfer-Encoding: chunked\r\n\r\n");
            c.sendPatternBody(4096, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.header("connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
        // a chunked body within the limit is proxied whole
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /up HTTP/1.1\r\nHost: small.test\r\nTransfer-Encoding: chunked\r\n\r\n");
            c.sendPatternBody(2048, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(2048);
        }
    }

    @Test
    void aChunkedBodyGrowingPastTheLimitAfterTheResponseStartedClosesTheConnection() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /up?early=1 HTTP/1.1\r\nHost: small.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "10\r\n0123456789abcdef\r\n");
            RawHttpClient.Response head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            boolean closed = false;
            try {
                c.sendPatternBody(4096, true);
            } catch (java.io.UncheckedIOException e) {
                closed = true; // the proxy closed before the client finished sending: the expected end, seen early
            }
            // the "early" chunk may still be unread; then EOF, without the response's last chunk
            for (int i = 0; i < 64 && !closed; i++) {
                closed = c.closedByServer();
            }
            assertThat(closed).isTrue();
        }
    }
}
