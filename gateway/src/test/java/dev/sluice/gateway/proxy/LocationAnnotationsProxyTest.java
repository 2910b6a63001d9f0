package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.LocationRedirect;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
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
                HostRoutes.wwwRedirect("www.example.test", "example.test")));
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
}
