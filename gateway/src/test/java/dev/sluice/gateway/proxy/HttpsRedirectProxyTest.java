package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificates;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTPS redirect and HSTS over the real listeners (SPEC §7 {@code ssl-redirect}, §10.3): an
 * {@code http} request for a TLS host gets 308 to {@code https://}; every HTTPS response, proxied
 * or local, carries exactly one {@code Strict-Transport-Security} header, Sluice's; plain HTTP
 * responses carry none.
 */
class HttpsRedirectProxyTest {
    private static final String HSTS = "max-age=31536000; includeSubDomains";
    private static TestBackend pod;
    private static GatewayServer server;

    @BeforeAll
    static void start() throws InterruptedException {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(host("secure.test", prefix("/", "default/secure", backend("secure", pod))),
                host("plain.test", prefix("/", "default/plain", backend("plain", pod))))
                // secure.test has TLS configured with the default certificate (e.g. Secret missing)
                .withTls(new TlsCertificates(Map.of(), Set.of("secure.test"), null)));
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
    void httpRequestsForATlsHostAreRedirectedWith308WithoutPortAndTrailingSlash() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /dir/ HTTP/1.1\r\nHost: secure.test:" + server.httpPort()
                    + "\r\n\r\n");
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.reason()).isEqualTo("Permanent Redirect");
            assertThat(r.header("location")).isEqualTo("https://secure.test/dir");
            assertThat(r.headers("strict-transport-security")).isEmpty();

            RawHttpClient.Response root = c.exchange("GET /?a=b HTTP/1.1\r\nHost: secure.test\r\n\r\n");
            assertThat(root.status()).isEqualTo(308);
            assertThat(root.header("location")).isEqualTo("https://secure.test/?a=b");
            assertThat(pod.requestsReceived()).isEqualTo(before);
        }
    }

    @Test
    void httpRequestsForHostsWithoutTlsAreProxiedWithoutHsts() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /x?hsts=max-age%3D5 HTTP/1.1\r\nHost: plain.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers("strict-transport-security")).containsExactly("max-age=5"); // the upstream's
            RawHttpClient.Response missing = c.exchange("GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n");
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.headers("strict-transport-security")).isEmpty();
        }
    }

    @Test
    void httpsResponsesCarryExactlyOneHstsHeaderReplacingTheUpstreams() {
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "secure.test")) {
            RawHttpClient.Response r = c.exchange("GET /x?hsts=max-age%3D86400%3B%20preload HTTP/1.1\r\n"
                    + "Host: secure.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("x-forwarded-proto")).isEqualTo("https");
            assertThat(r.headers("strict-transport-security")).containsExactly(HSTS);

            RawHttpClient.Response plain = c.exchange("GET /y HTTP/1.1\r\nHost: plain.test\r\n\r\n");
            assertThat(plain.status()).isEqualTo(200);
            assertThat(plain.headers("strict-transport-security")).containsExactly(HSTS);

            RawHttpClient.Response local = c.exchange("GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n");
            assertThat(local.status()).isEqualTo(404);
            assertThat(local.headers("strict-transport-security")).containsExactly(HSTS);
        }
    }
}
