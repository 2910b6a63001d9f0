package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Upstream and client failures: retries, 502, 504, 400, aborted responses (SPEC §6.4). */
class ProxyErrorsTest {
    static final String HOST = "errors.example.com";
    static TestBackend live;
    static final RouteTableHolder routes = new RouteTableHolder();
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        live = TestBackend.start("live-1", "127.0.0.2");
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).meterRegistry(registry).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        live.close();
    }

    private static void serve(Endpoint... endpoints) {
        serve(RouteOptions.DEFAULTS, endpoints);
    }

    private static void serve(RouteOptions options, Endpoint... endpoints) {
        routes.publish(table(host(HOST, prefix("/", "default/errors", backend("default-errors-80", endpoints), options))));
    }

    private static RawHttpClient.Response get(String uri) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange("GET " + uri + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
        }
    }

    private static double connectErrors() {
        var c = registry.find("sluice_upstream_connect_errors").tag("backend", "default-errors-80").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aDeadEndpointIsSkippedAndTheRequestSucceedsOnTheLiveOne() {
        Endpoint dead = TestBackend.deadEndpoint("127.0.0.3");
        serve(dead, live.endpoint());
        double errorsBefore = connectErrors();

        for (int i = 0; i < 4; i++) {
            RawHttpClient.Response r = get("/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("pod").asText()).isEqualTo("live-1");
        }
        // round robin hit the dead endpoint first for half of the requests
        assertThat(connectErrors() - errorsBefore).isEqualTo(2);
    }

    @Test
    void onlyDeadEndpointsGive502AfterTheConfiguredTries() {
        Endpoint dead1 = TestBackend.deadEndpoint("127.0.0.3");
        Endpoint dead2 = TestBackend.deadEndpoint("127.0.0.4");
        serve(dead1, dead2);
        double errorsBefore = connectErrors();

        RawHttpClient.Response r = get("/");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.text()).contains("502 Bad Gateway");
        assertThat(r.header("Server")).isNull();
        assertThat(connectErrors() - errorsBefore).isEqualTo(3); // proxy-next-upstream-tries 3

        serve(RouteOptions.DEFAULTS.withNextUpstreamTries(1), dead1, dead2);
        errorsBefore = connectErrors();
        assertThat(get("/").status()).isEqualTo(502);
        assertThat(connectErrors() - errorsBefore).isEqualTo(1);

        // proxy-next-upstream-tries: 0 (unlimited) tries each endpoint once, then gives up
        serve(RouteOptions.DEFAULTS.withNextUpstreamTries(Integer.MAX_VALUE), dead1, dead2);
        errorsBefore = connectErrors();
        assertThat(get("/").status()).isEqualTo(502);
        assertThat(connectErrors() - errorsBefore).isEqualTo(2);
    }

    @Test
    void aSlowUpstreamGives504AfterTheReadTimeout() {
        // a read timeout far above the delay of the "slow but not too slow" answer, so a loaded
        // machine does not turn that answer into a 504
        serve(RouteOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofMillis(1500)),
                live.endpoint());

        RawHttpClient.Response r = get("/?hang=1");
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.text()).contains("504 Gateway Time-out");
        // a slow but not too slow answer is fine: the timeout is between reads, not for the whole response
        assertThat(get("/?delayMs=100").status()).isEqualTo(200);
    }

    @Test
    void upstreamClosingMidResponseClosesTheClientConnection() {
        serve(live.endpoint());
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("GET /?abort=200000 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(org.assertj.core.api.Assertions.catchThrowable(c::readCounting))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("body bytes missing");
        }
        // the proxy keeps serving
        assertThat(get("/").status()).isEqualTo(200);
    }

    @Test
    void malformedRequestLineGives400AndClose() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GARBAGE\r\n\r\n");
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void tooLargeHeadersGive431AndTooLongUriGives414() {
        serve(live.endpoint());
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            String big = "x".repeat(40 * 1024);
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\nX-Big: " + big + "\r\n\r\n").status())
                    .isEqualTo(431);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status())
                    .isEqualTo(414);
        }
    }

    @Test
    void anUpstreamThatStopsReadingTheBodyGives504AfterTheSendTimeout() throws Exception {
        try (ServerSocket stalled = new ServerSocket()) {
            stalled.bind(new InetSocketAddress("127.0.0.6", 0));
            serve(RouteOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(60))
                    .withMaxBodySize(0), Endpoint.of("127.0.0.6", stalled.getLocalPort()));
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                long total = 256L * 1024 * 1024;
                c.send("PUT / HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: " + total + "\r\n\r\n");
                startDaemon(() -> {
                    try {
                        c.sendPatternBody(total, false);
                    } catch (UncheckedIOException e) {
                        // the proxy closes the connection after its answer
                    }
                });
                try (Socket upstream = stalled.accept()) {
                    assertThat(upstream.isConnected()).isTrue(); // connected, and never reads
                    RawHttpClient.Response r = c.read();
                    assertThat(r.status()).isEqualTo(504);
                    assertThat(r.header("Connection")).isEqualTo("close");
                }
            }
        }
    }

    @Test
    void requestsWithoutHostWithTwoHostsOrAnUnknownTransferEncodingAreRejected() {
        serve(live.endpoint());
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\n\r\n").status()).isEqualTo(400);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status()).isEqualTo(400);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("POST / HTTP/1.1\r\nHost: " + HOST
                    + "\r\nTransfer-Encoding: gzip\r\n\r\n");
            assertThat(r.status()).isEqualTo(501);
            assertThat(c.closedByServer()).isTrue();
        }
        // HTTP/1.0 needs no Host: it goes to the catch-all
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.0\r\n\r\n").status()).isEqualTo(404);
        }
    }

    static List<String> transports() {
        return Transport.available().stream().map(Transport::name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transports")
    void aPooledConnectionClosedWhileIdleIsNotReused(String transportName, @TempDir Path dir) throws Exception {
        Transport transport = Transport.available().stream().filter(t -> t.name().equals(transportName)).findFirst()
                .orElseThrow();
        Path log = dir.resolve("access.log");
        // an upstream that answers one request per connection, claims keep-alive, then closes
        try (ServerSocket flaky = new ServerSocket()) {
            flaky.bind(new InetSocketAddress("127.0.0.5", 0));
            AtomicInteger accepted = new AtomicInteger();
            startDaemon(() -> {
                while (!flaky.isClosed()) {
                    try (Socket s = flaky.accept()) {
                        accepted.incrementAndGet();
                        readHead(s.getInputStream());
                        s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            Endpoint upstream = Endpoint.of("127.0.0.5", flaky.getLocalPort());
            RouteTableHolder own = new RouteTableHolder();
            own.publish(table(host(HOST, prefix("/", "default/errors", backend("default-errors-80", upstream),
                    RouteOptions.DEFAULTS))));
            try (GatewayServer gateway = GatewayServer.builder().routes(own).bindAddress("127.0.0.1").httpPort(0)
                    .httpsPort(-1).eventLoops(1).transport(transport).accessLog(AccessLog.file(log)).build()) {
                gateway.start();
                try (RawHttpClient c = RawHttpClient.connect(gateway.httpPort())) {
                    assertThat(c.exchange("GET /first HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
                }
                // the pool notices the upstream closing its idle connection and drops it
                await().atMost(Duration.ofSeconds(10)).until(() -> accepted.get() == 1 && gateway.idleUpstreamConnections() == 0);
                try (RawHttpClient c = RawHttpClient.connect(gateway.httpPort())) {
                    assertThat(c.exchange("GET /second HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
                }
                assertThat(accepted.get()).isEqualTo(2);
            } // shutdown flushes the access log
            List<String> lines = Files.readAllLines(log);
            assertThat(lines).hasSize(2);
            JsonNode second = new ObjectMapper().readTree(lines.get(1));
            assertThat(second.get("uri").asText()).isEqualTo("/second");
            // one attempt on a new connection, not a failed one on the stale connection and a retry
            assertThat(second.get("upstream_addr").asText()).isEqualTo(upstream.toString());
            assertThat(second.get("upstream_status").asText()).isEqualTo("200");
        }
    }

    @Test
    void aPooledConnectionThatDiesOnReuseIsRetriedOnceOnAFreshOne() throws Exception {
        // an upstream that answers the first request of a connection and drops the connection on
        // the second one without answering: the proxy cannot know before it sends
        try (ServerSocket flaky = new ServerSocket()) {
            flaky.bind(new InetSocketAddress("127.0.0.5", 0));
            AtomicInteger accepted = new AtomicInteger();
            startDaemon(() -> {
                while (!flaky.isClosed()) {
                    try {
                        Socket s = flaky.accept();
                        accepted.incrementAndGet();
                        startDaemon(() -> {
                            try (s) {
                                int bodyLength = readRequest(s.getInputStream());
                                s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: "
                                        + Integer.toString(bodyLength).length() + "\r\n\r\n" + bodyLength)
                                        .getBytes(StandardCharsets.US_ASCII));
                                readHead(s.getInputStream()); // the second request: close without a word
                            } catch (IOException e) {
                                // done
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            // one try only: the fresh-connection retry is not an "attempt"
            serve(RouteOptions.DEFAULTS.withNextUpstreamTries(1), Endpoint.of("127.0.0.5", flaky.getLocalPort()));

            String post = "POST / HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 0\r\n\r\n";
            String put = "PUT / HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 5\r\n\r\nhello";
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                assertThat(c.exchange(post).status()).isEqualTo(200);
                assertThat(c.exchange(post).status()).isEqualTo(200);
                assertThat(accepted.get()).isEqualTo(2);
                // a small body that already went out on the dead connection is sent again
                RawHttpClient.Response r = c.exchange(put);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("5");
            }
            assertThat(accepted.get()).isEqualTo(3);
        }
    }

    private static void startDaemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
    }

    @Test
    void clientDisconnectClosesTheUpstreamConnection() throws Exception {
        try (ServerSocket upstream = new ServerSocket()) {
            upstream.bind(new InetSocketAddress("127.0.0.6", 0));
            serve(Endpoint.of("127.0.0.6", upstream.getLocalPort()));
            Socket client = new Socket("127.0.0.1", server.httpPort());
            client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            try (Socket s = upstream.accept()) {
                readHead(s.getInputStream());
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf".getBytes(StandardCharsets.US_ASCII));
                client.close();
                s.setSoTimeout(5000);
                // the proxy closes its side instead of keeping a half-read connection
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.metrics().activeConnections() == 0);
    }

    /** Reads a request head and its Content-Length body; returns the body length. */
    private static int readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while (!head.toString().endsWith("\r\n\r\n") && (c = in.read()) != -1) {
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return in.readNBytes(length).length;
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        int c;
        while (matched < 4 && (c = in.read()) != -1) {
            matched = (c == '\r' || c == '\n') ? matched + 1 : 0;
        }
    }
}
