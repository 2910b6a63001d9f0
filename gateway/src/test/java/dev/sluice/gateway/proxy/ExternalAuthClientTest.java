package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The external auth client against real auth services on loopback. */
class ExternalAuthClientTest {
    private static EventLoopGroup group;
    private static ExternalAuthClient client;
    private TestAuthServer server;

    @BeforeAll
    static void startClient() {
        group = new NioEventLoopGroup(2);
        client = new ExternalAuthClient(NioSocketChannel.class);
    }

    @AfterAll
    static void stopClient() {
        client.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private TestAuthServer server(boolean tls) throws InterruptedException {
        server = new TestAuthServer(tls);
        return server;
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static HttpHeaders headers(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    /** Runs a check from {@code loop} and asserts that {@code done} ran once, on that loop. */
    private static ExternalAuthResult check(EventLoop loop, ExternalAuthRequest req) throws Exception {
        CompletableFuture<ExternalAuthResult> result = new CompletableFuture<>();
        AtomicInteger calls = new AtomicInteger();
        loop.execute(() -> client.check(loop, req, r -> {
            calls.incrementAndGet();
            if (!loop.inEventLoop()) {
                result.completeExceptionally(new AssertionError("done ran off the event loop"));
            }
            result.complete(r);
        }));
        ExternalAuthResult r = result.get(10, TimeUnit.SECONDS);
        Thread.sleep(20); // a second call would come right after the first
        assertThat(calls).hasValue(1);
        return r;
    }

    private static ExternalAuthResult check(ExternalAuthRequest req) throws Exception {
        return check(group.next(), req);
    }

    @Test
    void sendsTheSubrequestHeadersTheMethodAndNoBody() throws Exception {
        server(false);
        HttpHeaders sent = ExternalAuthHeaders.subrequest(
                headers("Host", "shop.example.com", "Cookie", "s=1", "Content-Length", "5", "Content-Type", "text/plain"),
                "http", "shop.example.com", "/cart?id=7", "PUT", "10.0.0.7", "rid-9",
                url("/verify?x=1"), "POST", null, Map.of("X-Tenant", "blue"));

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/verify?x=1"), HttpMethod.POST, sent,
                Duration.ofSeconds(2), Duration.ofSeconds(2)));

        assertThat(r.status()).isEqualTo(200);
        assertThat(server.received).hasSize(1);
        TestAuthServer.Received got = server.received.get(0);
        assertThat(got.method()).isEqualTo("POST");
        assertThat(got.uri()).isEqualTo("/verify?x=1");
        assertThat(got.bodyBytes()).isZero();
        HttpHeaders h = got.headers();
        assertThat(h.contains("Content-Length")).isFalse();
        assertThat(h.contains("Transfer-Encoding")).isFalse();
        assertThat(h.getAll("Connection")).containsExactly("close"); // no auth-keepalive
        assertThat(h.getAll("Host")).containsExactly("127.0.0.1");
        assertThat(h.getAll("Cookie")).containsExactly("s=1");
        assertThat(h.getAll("Content-Type")).containsExactly("text/plain");
        assertThat(h.getAll("X-Original-URL")).containsExactly("http://shop.example.com/cart?id=7");
        assertThat(h.getAll("X-Original-Method")).containsExactly("PUT");
        assertThat(h.getAll("X-Original-URI")).containsExactly("/cart?id=7");
        assertThat(h.getAll("X-Scheme")).containsExactly("http");
        assertThat(h.getAll("X-Sent-From")).containsExactly("nginx-ingress-controller");
        assertThat(h.getAll("X-Real-IP")).containsExactly("10.0.0.7");
        assertThat(h.getAll("X-Forwarded-For")).containsExactly("10.0.0.7");
        assertThat(h.getAll("X-Request-ID")).containsExactly("rid-9");
        assertThat(h.getAll("X-Auth-Request-Redirect")).containsExactly("/cart?id=7");
        assertThat(h.getAll("X-Tenant")).containsExactly("blue");
    }

    @Test
    void defaultsToGetAndSlashForAUrlWithoutPath() throws Exception {
        server(false);
        ExternalAuthResult r = check(new ExternalAuthRequest(url(""), headers()));

        assertThat(r.status()).isEqualTo(200);
        assertThat(server.received.get(0).method()).isEqualTo("GET");
        assertThat(server.received.get(0).uri()).isEqualTo("/");
        assertThat(server.received.get(0).headers().get("Host")).isEqualTo("127.0.0.1"); // added when missing
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 202, 401, 403, 500})
    void passesTheStatusAndResponseHeadersBack(int status) throws Exception {
        server(false).respond = req -> TestAuthServer.Answer.of(status,
                "X-Auth-User", "alice", "Set-Cookie", "a=1; Path=/", "Set-Cookie", "b=2");

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/auth"), headers()));

        assertThat(r.status()).isEqualTo(status);
        assertThat(r.answered()).isTrue();
        assertThat(r.allowed()).isEqualTo(status / 100 == 2);
        assertThat(r.headers().getAll("X-Auth-User")).containsExactly("alice");
        assertThat(r.headers().getAll("Set-Cookie")).containsExactly("a=1; Path=/", "b=2");
    }

    @Test
    void aLargeBodyIsReadAndDropped() throws Exception {
        server(false).respond = req -> new TestAuthServer.Answer(401, List.of("X-Why", "big"), 1 << 20);

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/auth"), headers()));

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers().get("X-Why")).isEqualTo("big");
    }

    @Test
    void unreachableServiceFails() throws Exception {
        int port = TestBackend.deadEndpoint("127.0.0.1").port(); // held, never listening: refused
        ExternalAuthResult r = check(new ExternalAuthRequest(URI.create("http://127.0.0.1:" + port + "/auth"), headers()));

        assertThat(r).isEqualTo(ExternalAuthResult.FAILED);
        assertThat(r.status()).isZero();
        assertThat(r.answered()).isFalse();
    }

    @Test
    void readTimeoutFails() throws Exception {
        server(false).silent = true;
        long start = System.nanoTime();

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/auth"), HttpMethod.GET, headers(),
                Duration.ofSeconds(1), Duration.ofMillis(200)));

        assertThat(r.status()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(180), Duration.ofSeconds(3));
        await().atMost(Duration.ofSeconds(2)).until(() -> server.closedConnections.get() == 1);
    }

    @Test
    void malformedResponseFails() throws Exception {
        server(false).raw = "NOT HTTP AT ALL\r\n\r\n";

        assertThat(check(new ExternalAuthRequest(url("/auth"), headers())).status()).isZero();
    }

    @Test
    void connectionClosedBeforeAnAnswerFails() throws Exception {
        server(false).raw = "";

        assertThat(check(new ExternalAuthRequest(url("/auth"), headers())).status()).isZero();
    }

    @Test
    void responseDelimitedByCloseIsComplete() throws Exception {
        server(false).raw = "HTTP/1.1 403 Forbidden\r\nX-Reason: nope\r\n\r\nsome body until close";

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/auth"), headers()));

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers().get("X-Reason")).isEqualTo("nope");
    }

    @Test
    void interimResponsesAreSkipped() throws Exception {
        server(false).raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-User: bob\r\n\r\n";

        ExternalAuthResult r = check(new ExternalAuthRequest(url("/auth"), headers()));

        assertThat(r.status()).isEqualTo(204);
        assertThat(r.headers().get("X-User")).isEqualTo("bob");
    }

    @Test
    void httpsWithASelfSignedCertificateAndSni() throws Exception {
        server(true);
        // a host name, so it is resolved (off the loop) and sent as SNI
        URI https = URI.create("https://localhost:" + server.port() + "/auth");

        ExternalAuthResult r = check(new ExternalAuthRequest(https, headers()));

        assertThat(r.status()).isEqualTo(200);
        assertThat(server.sniNames).containsExactly("localhost");
        assertThat(server.received.get(0).headers().get("Host")).isEqualTo("localhost");
    }

    @Test
    void httpsToAPlainServiceFails() throws Exception {
        server(false);
        URI https = URI.create("https://127.0.0.1:" + server.port() + "/auth");

        assertThat(check(new ExternalAuthRequest(https, HttpMethod.GET, headers(), Duration.ofSeconds(1),
                Duration.ofSeconds(1))).status()).isZero();
    }

    @Test
    void withoutKeepaliveEveryCheckUsesANewConnection() throws Exception {
        server(false);
        EventLoop loop = group.next();
        for (int i = 0; i < 3; i++) {
            assertThat(check(loop, new ExternalAuthRequest(url("/auth"), headers())).status()).isEqualTo(200);
        }
        assertThat(server.connections).hasValue(3);
        assertThat(server.received).extracting(TestAuthServer.Received::connection).containsExactly(1, 2, 3);
        await().atMost(Duration.ofSeconds(2)).until(() -> server.closedConnections.get() == 3);
    }

    @Test
    void keepaliveReusesIdleConnectionsPerEventLoop() throws Exception {
        server(false);
        ExternalAuthRequest req = new ExternalAuthRequest(url("/auth"), headers()).withKeepalive(2, Duration.ofSeconds(30));
        EventLoop loop = group.next();
        for (int i = 0; i < 3; i++) {
            assertThat(check(loop, req).status()).isEqualTo(200);
        }
        assertThat(server.connections).hasValue(1);
        assertThat(server.received.get(0).headers().contains("Connection")).isFalse();
        assertThat(idle(loop)).isEqualTo(1);

        // another loop has its own connections
        EventLoop other = otherLoop(loop);
        assertThat(check(other, req).status()).isEqualTo(200);
        assertThat(server.connections).hasValue(2);
    }

    @Test
    void keepaliveKeepsAtMostTheConfiguredNumberOfIdleConnections() throws Exception {
        server(false);
        ExternalAuthRequest req = new ExternalAuthRequest(url("/auth"), headers()).withKeepalive(1, Duration.ofSeconds(30));
        EventLoop loop = group.next();
        // two checks in flight at once need two connections; only one may stay idle
        CompletableFuture<ExternalAuthResult> a = new CompletableFuture<>();
        CompletableFuture<ExternalAuthResult> b = new CompletableFuture<>();
        loop.execute(() -> {
            client.check(loop, req, a::complete);
            client.check(loop, req, b::complete);
        });
        assertThat(a.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(b.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(server.connections).hasValue(2);
        await().atMost(Duration.ofSeconds(2)).until(() -> server.closedConnections.get() == 1);
        assertThat(idle(loop)).isEqualTo(1);
    }

    @Test
    void idleConnectionsCloseAfterTheKeepaliveTimeout() throws Exception {
        server(false);
        EventLoop loop = group.next();
        ExternalAuthRequest req = new ExternalAuthRequest(url("/auth"), headers()).withKeepalive(4, Duration.ofMillis(200));

        assertThat(check(loop, req).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(3)).until(() -> server.closedConnections.get() == 1);
        await().atMost(Duration.ofSeconds(1)).until(() -> idle(loop) == 0);
    }

    @Test
    void keepaliveRequestsLimitsChecksPerConnection() throws Exception {
        server(false);
        EventLoop loop = group.next();
        ExternalAuthRequest base = new ExternalAuthRequest(url("/auth"), headers());
        ExternalAuthRequest req = new ExternalAuthRequest(base.url(), base.method(), base.headers(),
                base.connectTimeout(), base.readTimeout(), 4, Duration.ofSeconds(30), 2);
        for (int i = 0; i < 4; i++) {
            assertThat(check(loop, req).status()).isEqualTo(200);
        }
        assertThat(server.received).extracting(TestAuthServer.Received::connection).containsExactly(1, 1, 2, 2);
    }

    @Test
    void aReusedConnectionClosedByTheServiceIsRetriedOnANewOne() throws Exception {
        server(false).closeOnSecondRequest = true;
        EventLoop loop = group.next();
        ExternalAuthRequest req = new ExternalAuthRequest(url("/auth"), headers()).withKeepalive(2, Duration.ofSeconds(30));

        assertThat(check(loop, req).status()).isEqualTo(200);
        assertThat(check(loop, req).status()).isEqualTo(200);
        assertThat(server.received).extracting(TestAuthServer.Received::connection).containsExactly(1, 1, 2);
    }

    @Test
    void aCheckStartedOffTheLoopStillCompletesOnIt() throws Exception {
        server(false);
        EventLoop loop = group.next();
        CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
        client.check(loop, new ExternalAuthRequest(url("/auth"), headers()), r -> onLoop.complete(loop.inEventLoop()));
        assertThat(onLoop.get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aClosedClientFailsChecksAtOnce() throws Exception {
        server(false);
        ExternalAuthClient closed = new ExternalAuthClient(NioSocketChannel.class);
        closed.close();
        EventLoop loop = group.next();
        CompletableFuture<ExternalAuthResult> r = new CompletableFuture<>();
        closed.check(loop, new ExternalAuthRequest(url("/auth"), headers()), r::complete);
        assertThat(r.get(5, TimeUnit.SECONDS)).isEqualTo(ExternalAuthResult.FAILED);
        assertThat(server.connections).hasValue(0);
    }

    private static int idle(EventLoop loop) throws Exception {
        return loop.submit(() -> client.idleCount(loop)).get(5, TimeUnit.SECONDS);
    }

    private static EventLoop otherLoop(EventLoop loop) {
        EventLoop next = group.next();
        while (next == loop) {
            next = group.next();
        }
        return next;
    }
}
