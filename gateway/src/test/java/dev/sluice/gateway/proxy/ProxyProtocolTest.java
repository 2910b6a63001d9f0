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
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.access.UrlTemplate;
import dev.sluice.gateway.access.SourceRanges;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --enable-proxy-protocol} through a real server: the PROXY header (v1 text, v2 binary,
 * before TLS on the HTTPS listener) names the client for the forwarded headers, source ranges,
 * the auth subrequest and the access log; a connection without a valid header is closed unanswered.
 */
class ProxyProtocolTest {
    static final String REQUEST = "GET / HTTP/1.1\r\nHost: pp.test\r\n\r\n";
    static final String V1 = "PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n";

    static TestBackend web;
    static TestAuthServer auth;
    static final RouteTableHolder routes = new RouteTableHolder();
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("web-1", "127.0.0.2");
        auth = new TestAuthServer(false);
        Backend b = backend("default-web-80", web);
        routes.publish(table(host("pp.test",
                prefix("/", "default/app", b),
                prefix("/allow", "default/allow", b, RouteOptions.DEFAULTS.withAccess(
                        new AccessPolicy.Guarded(null, SourceRanges.parse("203.0.113.0/24"), null, null, false))),
                prefix("/auth", "default/auth", b, RouteOptions.DEFAULTS.withAccess(new AccessPolicy.Guarded(
                        null, null, null,
                        new ExternalAuth(UrlTemplate.of(URI.create("http://127.0.0.1:" + auth.port() + "/check")), null, null, "rd",
                                List.of(), null, Map.of(), null, Map.of(), false, 0, 1000, Duration.ofSeconds(60)),
                        false))))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).meterRegistry(registry).proxyProtocol(true).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        web.close();
        auth.close();
    }

    private static RawHttpClient.Response send(String raw) {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static RawHttpClient.Response send(byte[] raw) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.send(raw).timeout(5000).read();
        }
    }

    private static byte[] concat(byte[] a, String b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b.getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    /**
     * A v2 header by hand: the 12-byte signature, version 2 + command, family + transport, the
     * address block's length, then source and destination address and port.
     */
    static byte[] v2(boolean local, String source, String destination, int sourcePort, int destinationPort)
            throws IOException {
        byte[] src = InetAddress.getByName(source).getAddress();
        byte[] dst = InetAddress.getByName(destination).getAddress();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        out.write(local ? 0x20 : 0x21); // version 2, LOCAL / PROXY
        out.write(src.length == 4 ? 0x11 : 0x21); // AF_INET / AF_INET6, STREAM
        int length = 2 * src.length + 4;
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.writeBytes(src);
        out.writeBytes(dst);
        out.write(sourcePort >> 8);
        out.write(sourcePort & 0xFF);
        out.write(destinationPort >> 8);
        out.write(destinationPort & 0xFF);
        return out.toByteArray();
    }

    private static double invalidHeaders() {
        return registry.get("sluice_proxy_protocol_errors").tag("reason", "invalid").counter().count();
    }

    /** Asserts that the server closes the connection without having sent a single byte. */
    private static void assertClosedUnanswered(RawHttpClient c) throws IOException {
        c.timeout(5000);
        InputStream in = c.socket().getInputStream();
        int first;
        try {
            first = in.read();
        } catch (java.net.SocketException reset) {
            first = -1; // a reset is a close too
        }
        assertThat(first).as("no HTTP answer, just a close").isEqualTo(-1);
    }

    @Test
    void v1HeaderNamesTheClientForTheForwardedHeaders() {
        RawHttpClient.Response r = send(V1 + REQUEST);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-forwarded-for")).isEqualTo("203.0.113.7");
        assertThat(r.echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
    }

    @Test
    void theHeaderCountsForEveryRequestOfTheConnection() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(V1);
            assertThat(c.exchange(REQUEST).echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
            assertThat(c.exchange(REQUEST).echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
        }
    }

    @Test
    void aHeaderThatArrivesAloneIsFollowedByAReadForTheRequest() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(V1);
            Thread.sleep(200); // its own segment: the request is not in the read that brought the header
            RawHttpClient.Response r = c.timeout(3000).exchange(REQUEST);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
        }
    }

    @Test
    void aHeaderSplitAcrossSegmentsIsReassembled() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("PROXY TCP4 203.0.11");
            Thread.sleep(100);
            c.send("3.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n");
            Thread.sleep(100);
            RawHttpClient.Response r = c.timeout(3000).exchange("Host: pp.test\r\n\r\n");
            assertThat(r.echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
        }
    }

    @Test
    void v2BinaryHeaderWithIpv4() throws Exception {
        RawHttpClient.Response r = send(concat(v2(false, "203.0.113.9", "10.0.0.1", 40000, 80), REQUEST));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-forwarded-for")).isEqualTo("203.0.113.9");
        assertThat(r.echoedHeader("x-real-ip")).isEqualTo("203.0.113.9");
    }

    @Test
    void v2BinaryHeaderWithIpv6IsWrittenLikeNginx() throws Exception {
        RawHttpClient.Response r = send(concat(v2(false, "2001:db8:0:0:0:0:0:7", "2001:db8::1", 40000, 80), REQUEST));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-forwarded-for")).isEqualTo("2001:db8::7");
        assertThat(r.echoedHeader("x-real-ip")).isEqualTo("2001:db8::7");
    }

    @Test
    void onTheTlsListenerTheHeaderComesBeforeTheHandshake() {
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "pp.test", null,
                V1.getBytes(StandardCharsets.US_ASCII))) {
            RawHttpClient.Response r = c.exchange(REQUEST);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("x-forwarded-proto")).isEqualTo("https");
            assertThat(r.echoedHeader("x-real-ip")).isEqualTo("203.0.113.7");
            assertThat(r.echoedHeader("x-forwarded-for")).isEqualTo("203.0.113.7");
        }
    }

    @Test
    void aTlsHandshakeWithoutTheHeaderIsRejected() {
        double before = invalidHeaders();

        assertThatThrownBy(() -> RawHttpClient.connectTls(server.httpsPort(), "pp.test")).isInstanceOf(Exception.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> invalidHeaders() == before + 1);
    }

    @Test
    void sourceRangesJudgeTheAddressFromTheHeader() {
        assertThat(send(V1 + "GET /allow HTTP/1.1\r\nHost: pp.test\r\n\r\n").status()).isEqualTo(200);
        assertThat(send("PROXY TCP4 198.51.100.7 10.0.0.1 56324 443\r\nGET /allow HTTP/1.1\r\nHost: pp.test\r\n\r\n")
                .status()).isEqualTo(403);
        // the TCP peer (127.0.0.1) is not in the list either: the header's address is what counts
        assertThat(send("PROXY UNKNOWN\r\nGET /allow HTTP/1.1\r\nHost: pp.test\r\n\r\n").status()).isEqualTo(403);
    }

    @Test
    void theAuthSubrequestNamesTheClientFromTheHeader() {
        auth.received.clear();

        assertThat(send(V1 + "GET /auth HTTP/1.1\r\nHost: pp.test\r\n\r\n").status()).isEqualTo(200);
        assertThat(auth.received).singleElement().satisfies(s -> {
            assertThat(s.headers().get("x-real-ip")).isEqualTo("203.0.113.7");
            assertThat(s.headers().get("x-forwarded-for")).isEqualTo("203.0.113.7");
        });
    }

    @Test
    void unknownAndLocalKeepTheTcpPeer() throws Exception {
        RawHttpClient.Response unknown = send("PROXY UNKNOWN\r\n" + REQUEST);
        assertThat(unknown.status()).isEqualTo(200);
        assertThat(unknown.echoedHeader("x-real-ip")).isEqualTo("127.0.0.1");

        // a balancer's health check: LOCAL, addresses (if any) are to be ignored
        RawHttpClient.Response local = send(concat(v2(true, "203.0.113.9", "10.0.0.1", 40000, 80), REQUEST));
        assertThat(local.status()).isEqualTo(200);
        assertThat(local.echoedHeader("x-real-ip")).isEqualTo("127.0.0.1");
    }

    @Test
    void aRequestWithoutTheHeaderIsClosedUnansweredAndCounted() throws Exception {
        double before = invalidHeaders();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(REQUEST);
            assertClosedUnanswered(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> invalidHeaders() == before + 1);
    }

    @Test
    void aMalformedHeaderIsClosedUnansweredAndCounted() throws Exception {
        double before = invalidHeaders();
        for (String bad : List.of("PROXY TCP4 999.0.113.7 10.0.0.1 56324 443\r\n" + REQUEST,
                "PROXY TCP6 203.0.113.7 10.0.0.1 56324 443\r\n" + REQUEST,
                "PROXY TCP4 203.0.113.7 10.0.0.1\r\n" + REQUEST,
                "PROXY " + "x".repeat(200) + "\r\n" + REQUEST)) {
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                c.send(bad);
                assertClosedUnanswered(c);
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> invalidHeaders() == before + 4);
    }

    @Test
    void aHeaderThatNeverArrivesIsClosedByTheKeepAliveTimeout() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (GatewayServer quick = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(-1).eventLoops(1).meterRegistry(meters).proxyProtocol(true)
                .keepAliveTimeout(Duration.ofMillis(300)).build()) {
            quick.start();
            try (RawHttpClient c = RawHttpClient.connect(quick.httpPort())) {
                c.send("PROXY TCP4 "); // a start, never finished
                long t0 = System.nanoTime();
                assertClosedUnanswered(c);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
            }
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    meters.get("sluice_proxy_protocol_errors").tag("reason", "timeout").counter().count() == 1);
        }
    }

    @Test
    void theAccessLogShowsTheClientFromTheHeader(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        try (GatewayServer logged = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(-1).eventLoops(1).proxyProtocol(true).accessLog(AccessLog.file(file)).build()) {
            logged.start();
            try (RawHttpClient c = RawHttpClient.connect(logged.httpPort())) {
                assertThat(c.send(V1).exchange(REQUEST).status()).isEqualTo(200);
            }
        } // shutdown flushes the log
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1);
        JsonNode entry = new ObjectMapper().readTree(lines.get(0));
        assertThat(entry.get("remote_addr").asText()).isEqualTo("203.0.113.7");
    }

    @Test
    void withTheFlagOffAProxyLineIsJustABadRequest() {
        try (GatewayServer plain = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(-1).eventLoops(1).build()) {
            plain.start();
            try (RawHttpClient c = RawHttpClient.connect(plain.httpPort())) {
                assertThat(c.exchange(V1 + REQUEST).status()).isEqualTo(400);
            }
            try (RawHttpClient c = RawHttpClient.connect(plain.httpPort())) {
                RawHttpClient.Response r = c.exchange(REQUEST);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoedHeader("x-real-ip")).isEqualTo("127.0.0.1");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
