package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code mirror-target}: every request is copied to the mirror with its body, and the mirror can
 * never delay or fail the real request — not when it is stuck, not when it is dead, not when it
 * stops reading.
 */
class MirrorProxyTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    static TestBackend web;
    static MirrorBackend mirror;
    static MirrorBackend stuck;
    static ServerSocket sink; // accepts nothing, reads nothing
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("web-1", "127.0.0.2");
        mirror = MirrorBackend.start("127.0.0.3");
        stuck = MirrorBackend.start("127.0.0.4");
        stuck.hold();
        sink = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.6"));
        Endpoint dead = TestBackend.deadEndpoint("127.0.0.7");
        RouteOptions unlimited = RouteOptions.DEFAULTS.withMaxBodySize(0);
        routes.publish(table(
                host("copied.example.com", route(unlimited.withMirror(MirrorTarget.parse(
                        mirror.url() + "/copy$request_uri", "shadow.example.com", true)))),
                host("headonly.example.com", route(unlimited.withMirror(MirrorTarget.parse(
                        mirror.url() + "/nobody$is_args$args", null, false)))),
                host("stuck.example.com", route(unlimited.withMirror(MirrorTarget.parse(
                        stuck.url() + "$request_uri", null, true)))),
                host("dead.example.com", route(unlimited.withMirror(MirrorTarget.parse(
                        "http://" + dead + "$request_uri", null, true)))),
                host("sink.example.com", route(unlimited.withMirror(MirrorTarget.parse(
                        "http://127.0.0.6:" + sink.getLocalPort() + "$request_uri", null, true))))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).meterRegistry(registry).build();
        server.start();
    }

    private static dev.sluice.gateway.route.Route route(RouteOptions options) {
        return prefix("/", "default/mirrored", backend("default-web-80", web), options);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        web.close();
        mirror.close();
        stuck.close();
        sink.close();
    }

    static double copies(String result) {
        var c = registry.find("sluice_mirror_requests").tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void theMirrorReceivesACopyWithTheBody() {
        int before = mirror.received().size();
        long n = 300_000;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /api/items?x=1 HTTP/1.1\r\nHost: copied.example.com\r\nContent-Length: " + n
                    + "\r\nX-Test: yes\r\n\r\n");
            c.sendPatternBody(n, false);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(n);
        }
        await().atMost(WAIT).until(() -> mirror.received().size() > before);
        MirrorBackend.Received copy = mirror.received().get(before);
        assertThat(copy.method()).isEqualTo("POST");
        assertThat(copy.uri()).isEqualTo("/copy/api/items?x=1");
        assertThat(copy.headers().get("Host")).isEqualTo("shadow.example.com");
        assertThat(copy.headers().get("X-Test")).isEqualTo("yes");
        assertThat(copy.headers().get("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(copy.headers().get("X-Forwarded-Host")).isEqualTo("copied.example.com");
        assertThat(copy.bodyBytes()).isEqualTo(n);
        assertThat(copy.bodyCrc32()).isEqualTo(TestBackend.patternCrc(n));
        await().atMost(WAIT).until(() -> copies("completed") >= 1);
    }

    @Test
    void chunkedBodiesAndGetsAreCopiedToo() {
        int before = mirror.received().size();
        long n = 100_000;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("PUT /chunked HTTP/1.1\r\nHost: copied.example.com\r\nTransfer-Encoding: chunked\r\n\r\n");
            c.sendPatternBody(n, true);
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.exchange("GET /next HTTP/1.1\r\nHost: copied.example.com\r\n\r\n").status()).isEqualTo(200);
        }
        await().atMost(WAIT).until(() -> mirror.received().size() >= before + 2);
        assertThat(mirror.received().subList(before, before + 2))
                .extracting(MirrorBackend.Received::method, MirrorBackend.Received::uri,
                        MirrorBackend.Received::bodyBytes)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("PUT", "/copy/chunked", n),
                        org.assertj.core.groups.Tuple.tuple("GET", "/copy/next", 0L));
    }

    @Test
    void withoutRequestBodyTheCopyHasNone() {
        int before = mirror.received().size();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /form?a=b HTTP/1.1\r\nHost: headonly.example.com\r\nContent-Length: 5000\r\n\r\n");
            c.sendPatternBody(5000, false);
            assertThat(c.read().json().get("bodyBytes").asLong()).isEqualTo(5000);
        }
        await().atMost(WAIT).until(() -> mirror.received().size() > before);
        MirrorBackend.Received copy = mirror.received().get(before);
        assertThat(copy.uri()).isEqualTo("/nobody?a=b");
        assertThat(copy.headers().get("Host")).isEqualTo("127.0.0.3");
        assertThat(copy.headers().contains("Content-Length")).isFalse();
        assertThat(copy.bodyBytes()).isZero();
    }

    /** The real request completes while the mirror, having received the whole copy, is still stuck. */
    @Test
    void aStuckMirrorNeverSlowsTheRealRequest() {
        int before = stuck.received().size();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (int i = 0; i < 3; i++) {
                c.send("POST /slow HTTP/1.1\r\nHost: stuck.example.com\r\nContent-Length: 20000\r\n\r\n");
                c.sendPatternBody(20000, false);
                RawHttpClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(20000);
                assertThat(stuck.answered()).as("the mirror has answered nothing").isZero();
            }
        }
        await().atMost(WAIT).until(() -> stuck.received().size() >= before + 3);
        assertThat(stuck.received()).allSatisfy(copy -> assertThat(copy.bodyBytes()).isEqualTo(20000));
        assertThat(stuck.answered()).isZero();
    }

    @Test
    void aDeadMirrorDoesNotFailTheRealRequest() {
        double failed = copies("failed");
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (int i = 0; i < 2; i++) {
                c.send("POST /x HTTP/1.1\r\nHost: dead.example.com\r\nContent-Length: 1000\r\n\r\n");
                c.sendPatternBody(1000, false);
                RawHttpClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().get("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(1000));
            }
        }
        await().atMost(WAIT).until(() -> copies("failed") >= failed + 2);
    }

    /**
     * A mirror that never reads: the copy falls behind, goes over the copy buffer and is dropped,
     * while the real upload streams through at full length.
     */
    @Test
    void aMirrorThatStopsReadingLosesItsCopyNotTheRequest() {
        double dropped = copies("dropped");
        long n = 48L * 1024 * 1024;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("PUT /upload HTTP/1.1\r\nHost: sink.example.com\r\nContent-Length: " + n + "\r\n\r\n");
            c.sendPatternBody(n, false);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(n);
            assertThat(r.json().get("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(n));
        }
        assertThat(copies("dropped")).isEqualTo(dropped + 1);
    }
}
