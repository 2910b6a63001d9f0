package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.proxy.RawBackend.Answer;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Upstreams that misbehave after accepting a connection: never answer, answer half a head or
 * half a body, reset the connection mid-body, send a head no one can read, or close a pooled
 * keep-alive connection just as it is reused. Each time only that request fails (502, 504, or a
 * closed client connection once the response has started), or is retried when that is safe; the
 * next request is served, the proxy keeps no connection of the failed exchange on either side,
 * and Netty's leak detector at {@code PARANOID} reports no unreleased buffer (checked after every
 * test).
 *
 * <p>{@link ProxyErrorsTest} has the endpoint-level failures (refused connections, retries over
 * endpoints, the send timeout); this class is about a peer that breaks the protocol.
 */
class BrokenUpstreamsTest {
    static final String HOST = "broken.example.com";
    static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    static final RouteTableHolder routes = new RouteTableHolder();
    /** What the backend does for a path; the request number on its connection is passed as well. */
    static final Map<String, java.util.function.BiFunction<Integer, String, Answer>> behaviours = new ConcurrentHashMap<>();
    static LeakWatch leaks;
    static RawBackend upstream;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        leaks = LeakWatch.paranoid();
        upstream = RawBackend.start("127.0.0.2", (n, head) -> {
            String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
            var b = behaviours.get(path);
            return b != null ? b.apply(n, head) : Answer.keep(OK);
        });
        routes.publish(table(host(HOST, prefix("/", "default/broken", backend("default-broken-80", upstream.endpoint()),
                RouteOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(500))))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        upstream.close();
        leaks.close();
    }

    @AfterEach
    void nothingLeaksAndNothingIsLeftOpen() throws Exception {
        // no client connection survives its test, and upstream only pooled keep-alive connections remain
        await().atMost(Duration.ofSeconds(10)).until(() -> server.metrics().activeConnections() == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.openConnections() <= 1);
        assertThat(leaks.leaks()).isEmpty();
        behaviours.clear();
    }

    private static RawHttpClient.Response get(String path) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
        }
    }

    @Test
    void anUpstreamThatAcceptsAndNeverAnswersGives504WhileOtherRequestsAreServed() throws Exception {
        behaviours.put("/hang", (n, head) -> Answer.thenHang(""));
        CompletableFuture<RawHttpClient.Response> hanging = CompletableFuture.supplyAsync(() -> get("/hang"));
        // the same event loop serves others meanwhile
        assertThat(get("/fine").status()).isEqualTo(200);
        RawHttpClient.Response r = hanging.get(20, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(504);
        assertThat(get("/fine").status()).isEqualTo(200);
    }

    @Test
    void anUpstreamThatClosesWithoutAnswerOrInTheHeadGives502() {
        behaviours.put("/empty", (n, head) -> Answer.thenClose(""));
        behaviours.put("/half-head", (n, head) -> Answer.thenClose("HTTP/1.1 200 OK\r\nContent-Le"));
        assertThat(get("/empty").status()).isEqualTo(502);
        assertThat(get("/half-head").status()).isEqualTo(502);
        assertThat(get("/fine").status()).isEqualTo(200);
    }

    @Test
    void anUnreadableOrEnormousHeadGives502() {
        behaviours.put("/status", (n, head) -> Answer.keep("HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\nok"));
        behaviours.put("/huge", (n, head) -> Answer.keep("HTTP/1.1 200 OK\r\n"
                + ("X-Big: " + "b".repeat(8000) + "\r\n").repeat(128) + "Content-Length: 2\r\n\r\nok"));
        assertThat(get("/status").status()).isEqualTo(502);
        assertThat(get("/huge").status()).isEqualTo(502);
        assertThat(get("/fine").status()).isEqualTo(200);
    }

    @Test
    void halfABodyThenCloseOrResetEndsOnlyThatClientConnection() {
        behaviours.put("/half-body", (n, head) -> Answer.thenClose("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
                + "x".repeat(5000)));
        behaviours.put("/reset", (n, head) -> Answer.thenReset("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
                + "x".repeat(5000)));
        behaviours.put("/bad-chunk", (n, head) -> Answer.thenHang("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\nzz\r\n"));
        for (String path : new String[] {"/half-body", "/reset", "/bad-chunk"}) {
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                c.send("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                // the head went out already: the client sees a truncated body and a closed connection
                assertThat(catchThrowable(c::readCounting)).as(path).isNotNull();
                assertThat(c.closedByServer()).as(path).isTrue();
            }
            assertThat(get("/fine").status()).as("after " + path).isEqualTo(200);
        }
    }

    @Test
    void aKeepAliveConnectionClosedJustAsItIsReusedIsRetriedOnAFreshOneAndThePoolRecovers() {
        // every connection answers its first request and drops the second without a word
        behaviours.put("/flaky", (n, head) -> n == 0 ? Answer.keep(OK) : Answer.thenClose(""));
        int accepted = upstream.connectionsAccepted();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (int i = 0; i < 5; i++) {
                RawHttpClient.Response r = c.exchange("GET /flaky HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                assertThat(r.status()).as("request " + i).isEqualTo(200);
                assertThat(r.text()).isEqualTo("ok");
            }
        }
        // one fresh connection per request after the first: the dead one was never reused twice
        assertThat(upstream.connectionsAccepted() - accepted).isEqualTo(5);
        assertThat(get("/fine").status()).isEqualTo(200);
    }
}
