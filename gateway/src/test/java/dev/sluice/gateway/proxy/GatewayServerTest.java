package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.sluice.gateway.request.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import io.netty.handler.ssl.SslContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's lifecycle and its listeners: ports, TLS, graceful shutdown, meters and the access log. */
class GatewayServerTest {
    static final String HOST = "app.example.com";
    static TestBackend web;
    static final RouteTableHolder routes = new RouteTableHolder();

    @BeforeAll
    static void startBackend() {
        web = TestBackend.start("web-1", "127.0.0.2");
        routes.publish(table(host(HOST, prefix("/", "default/app", backend("default-web-80", web)))));
    }

    @AfterAll
    static void stopBackend() {
        web.close();
    }

    private static GatewayServer.Builder builder() {
        return GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(0).eventLoops(2);
    }

    @Test
    void httpsListenerServesTheFakeCertificateAndForwardsWithHttpsScheme() throws Exception {
        try (GatewayServer server = builder().build()) {
            server.start();
            assertThat(server.httpsPort()).isPositive().isNotEqualTo(server.httpPort());
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), HOST)) {
                X509Certificate cert = (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
                assertThat(cert.getSubjectX500Principal().getName()).contains("CN=" + FakeCertificate.COMMON_NAME);
                assertThat(((SSLSocket) c.socket()).getSession().getProtocol()).isIn("TLSv1.2", "TLSv1.3");

                RawHttpClient.Response r = c.exchange("GET /secure HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoedHeader("x-forwarded-proto")).isEqualTo("https");
                assertThat(r.echoedHeader("x-forwarded-scheme")).isEqualTo("https");
                assertThat(r.echoedHeader("x-forwarded-port")).isEqualTo("443");
                // keep-alive over TLS
                assertThat(c.exchange("GET /again HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
            }
            // no SNI at all: still the default certificate, and unknown hosts get 404
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), null)) {
                assertThat(c.exchange("GET / HTTP/1.1\r\nHost: unknown.example.com\r\n\r\n").status()).isEqualTo(404);
            }
        }
    }

    @Test
    void sniCertificatesHookChoosesTheContextByServerName() throws Exception {
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        SniCertificates recording = name -> {
            asked.add(String.valueOf(name));
            return FakeCertificate.serverContext();
        };
        try (GatewayServer server = builder().sniCertificates(recording).build()) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "App.Example.COM")) {
                assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
            }
            assertThat(asked).containsExactly("app.example.com");
        }
    }

    @Test
    void aHandshakeBeforeItsContextIsReadyWaitsForItInsteadOfFailing() throws Exception {
        // the listener is up before the TLS provider, the default certificate and the contexts of
        // TLS Secrets are (they are built once a table is published): a client that connects in
        // between is served late, not refused and not given another certificate
        java.util.concurrent.CompletableFuture<SslContext> context = new java.util.concurrent.CompletableFuture<>();
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        SniCertificates late = new SniCertificates() {
            @Override
            public SslContext forServerName(String serverName) {
                throw new AssertionError("a handshake must not block its event loop on a context");
            }

            @Override
            public java.util.concurrent.CompletableFuture<SslContext> contextFor(String serverName) {
                asked.add(serverName);
                return context;
            }
        };
        try (GatewayServer server = builder().sniCertificates(late).build()) {
            server.start();
            java.util.concurrent.FutureTask<Integer> request = new java.util.concurrent.FutureTask<>(() -> {
                try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), HOST)) {
                    return c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status();
                }
            });
            Thread client = new Thread(request);
            client.start();
            client.join(300);
            assertThat(request).isNotDone(); // the handshake is waiting
            assertThat(asked).containsExactly(HOST);

            context.complete(FakeCertificate.serverContext());

            assertThat(request.get(10, TimeUnit.SECONDS)).isEqualTo(200);
        }
    }

    @Test
    void startFailsClearlyWhenThePortIsTaken() throws Exception {
        try (GatewayServer first = builder().httpsPort(-1).build()) {
            first.start();
            GatewayServer second = builder().httpPort(first.httpPort()).httpsPort(-1).build();
            assertThatThrownBy(second::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("HTTP listener")
                    .hasMessageContaining(":" + first.httpPort())
                    .hasMessageContaining("in use");
            second.close(); // a server whose start failed can still be closed (callers use try-with-resources)
        }
    }

    @Test
    void gracefulShutdownLetsTheRequestInFlightFinish() throws Exception {
        // an upstream that answers only when the test lets it: the request is in flight for as
        // long as the test needs, however slow the machine
        CountDownLatch arrived = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        try (ServerSocket upstream = new ServerSocket()) {
            upstream.bind(new InetSocketAddress("127.0.0.7", 0));
            Thread t = new Thread(() -> {
                try (Socket s = upstream.accept()) {
                    InputStream in = s.getInputStream();
                    int matched = 0;
                    int c;
                    while (matched < 4 && (c = in.read()) != -1) {
                        matched = (c == '\r' || c == '\n') ? matched + 1 : 0;
                    }
                    arrived.countDown();
                    answer.await();
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    in.read(); // until the proxy closes
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            });
            t.setDaemon(true);
            t.start();
            RouteTableHolder own = new RouteTableHolder();
            own.publish(table(host(HOST, prefix("/", "default/app", backend("default-web-80", web))),
                    host("slow.example.com", prefix("/", "default/slow", backend("default-slow-80",
                            Endpoint.of("127.0.0.7", upstream.getLocalPort()))))));
            GatewayServer server = builder().routes(own).httpsPort(-1).build();
            server.start();
            int port = server.httpPort();
            try (RawHttpClient slow = RawHttpClient.connect(port); RawHttpClient idle = RawHttpClient.connect(port)) {
                assertThat(idle.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
                slow.send("GET /slow HTTP/1.1\r\nHost: slow.example.com\r\n\r\n");
                assertThat(arrived.await(30, TimeUnit.SECONDS)).as("the request reached the upstream").isTrue();

                CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> server.shutdown(Duration.ofSeconds(60)));

                // the idle keep-alive connection is closed at once, the listener stops accepting
                assertThat(idle.timeout(30_000).closedByServer()).isTrue();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class));
                assertThat(shutdown).as("shutdown waits for the request in flight").isNotDone();
                answer.countDown();
                // the request in flight still gets its full answer, with Connection: close
                RawHttpClient.Response r = slow.timeout(30_000).read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("slow");
                assertThat(r.header("Connection")).isEqualTo("close");
                assertThat(slow.closedByServer()).isTrue();
                shutdown.get(30, TimeUnit.SECONDS);
            } finally {
                answer.countDown();
                server.close();
            }
        }
    }

    @Test
    void shutdownForceClosesWhatIsStillRunningAfterTheGracePeriod() throws Exception {
        GatewayServer server = builder().httpsPort(-1).build();
        server.start();
        try (RawHttpClient hung = RawHttpClient.connect(server.httpPort())) {
            hung.send("GET /?hang=1 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.metrics().activeConnections() == 1);
            server.shutdown(Duration.ofMillis(200));
            assertThat(hung.closedByServer()).isTrue();
        }
    }

    @Test
    void aRequestBodyThatStopsArrivingGets408() throws Exception {
        try (GatewayServer server = builder().httpsPort(-1).clientBodyTimeout(Duration.ofMillis(300)).build()) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                c.send("POST / HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 100\r\n\r\nonly a part");
                RawHttpClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(408);
                assertThat(c.closedByServer()).isTrue();
            }
        }
    }

    @Test
    void idleKeepAliveConnectionsAreClosedAfterTheKeepAliveTimeout() throws Exception {
        // a keep-alive timeout far longer than a client needs to send its first request on a
        // loaded machine, and a response twice as slow as it
        try (GatewayServer server = builder().httpsPort(-1).keepAliveTimeout(Duration.ofSeconds(1)).build()) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                // a slow response is not cut by the keep-alive timeout
                assertThat(c.exchange("GET /?delayMs=2000 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status())
                        .isEqualTo(200);
                assertThat(c.timeout(5000).closedByServer()).isTrue();
            }
        }
    }

    @Test
    void requestsAreCountedAndTimedWithBoundedTags() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (GatewayServer server = builder().httpsPort(-1).meterRegistry(registry).build()) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                c.exchange("GET / HTTP/1.1\r\nHost: APP.example.com:31234\r\n\r\n");
                c.exchange("GET / HTTP/1.1\r\nHost: random-1.example.org\r\n\r\n");
                c.exchange("GET / HTTP/1.1\r\nHost: random-2.example.org\r\n\r\n");
                assertThat(registry.get("sluice_active_connections").gauge().value()).isEqualTo(1);
            }
            // ingress-nginx's names and labels: the host as configured, never the Host header's spelling
            String requests = "nginx_ingress_controller_requests";
            await().atMost(Duration.ofSeconds(5)).until(() -> registry.get(requests)
                    .tags("status", "404").counter().count() == 2);
            assertThat(registry.get(requests).tags("status", "200", "host", HOST, "namespace", "default",
                    "ingress", "app", "service", "default-web-80", "path", "/", "method", "GET", "canary", "")
                    .counter().count()).isEqualTo(2);
            assertThat(registry.get(requests).tags("status", "404", "host", "_", "ingress", "", "namespace", "",
                    "service", "", "path", "").counter().count()).isEqualTo(2);
            assertThat(registry.get("nginx_ingress_controller_request_duration_seconds")
                    .tags("status", "200", "host", HOST).summary().count()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> registry.get("sluice_active_connections").gauge().value() == 0);
        }
    }

    @Test
    void accessLogWritesOneJsonObjectPerRequest(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        RawHttpClient.Response hello;
        try (GatewayServer server = builder().httpsPort(-1).accessLog(AccessLog.file(file)).build()) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                hello = c.exchange("GET /hello?x=1 HTTP/1.1\r\nHost: " + HOST + "\r\nX-Request-ID: rid-1\r\n\r\n");
                c.exchange("GET /missing HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n");
            }
        } // shutdown flushes the log
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode ok = json.readTree(lines.get(0));
        assertThat(ok.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(ok.get("remote_addr").asText()).isEqualTo("127.0.0.1");
        assertThat(ok.get("method").asText()).isEqualTo("GET");
        assertThat(ok.get("uri").asText()).isEqualTo("/hello?x=1");
        assertThat(ok.get("host").asText()).isEqualTo(HOST);
        assertThat(ok.get("status").asInt()).isEqualTo(200);
        // the response body bytes, as the client counted them
        assertThat(hello.bodyLength()).isPositive();
        assertThat(ok.get("bytes_sent").asLong()).isEqualTo(hello.bodyLength());
        assertThat(ok.get("request_time").isNumber()).isTrue();
        assertThat(ok.get("upstream_addr").asText()).isEqualTo(web.endpoint().toString());
        assertThat(ok.get("upstream_status").asText()).isEqualTo("200");
        assertThat(ok.get("upstream_response_time").asText()).matches("\\d+\\.\\d{3}");
        assertThat(ok.get("request_id").asText()).isEqualTo("rid-1");
        assertThat(ok.get("ingress").asText()).isEqualTo("default/app");
        assertThat(ok.get("service").asText()).isEqualTo("default-web-80");
        assertThat(ok.get("canary").asBoolean()).isFalse();

        JsonNode missing = json.readTree(lines.get(1));
        assertThat(missing.get("status").asInt()).isEqualTo(404);
        assertThat(missing.get("bytes_sent").asLong()).isEqualTo(147); // NGINX's 404 page with "sluice"
        assertThat(missing.get("upstream_addr").isNull()).isTrue();
        assertThat(missing.get("ingress").isNull()).isTrue();
    }
}
