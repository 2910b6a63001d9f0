package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.gateway.route.RouteTableHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The headers the upstream sees and the client gets back (SPEC §8, {@code use-forwarded-headers:
 * false}), through a real server and backend.
 */
class ProxyHeadersTest {
    static TestBackend web;
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("web-1", "127.0.0.2");
        routes.publish(table(host("forwarded-headers", prefix("/", "default/fh", backend("default-web-80", web)))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        web.close();
    }

    private static RawHttpClient.Response send(String raw) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange(raw);
        }
    }

    @Test
    void incomingForwardedHeadersAreReplacedAndOriginalsKept() {
        // the ingress-nginx e2e "forwarded headers" case
        RawHttpClient.Response r = send("GET /path HTTP/1.1\r\n"
                + "Host: forwarded-headers\r\n"
                + "X-Forwarded-Port: 1234\r\n"
                + "X-Forwarded-Proto: myproto\r\n"
                + "X-Forwarded-For: 1.2.3.4\r\n"
                + "X-Forwarded-Host: myhost\r\n"
                + "\r\n");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("host")).isEqualTo("forwarded-headers");
        assertThat(r.echoedHeader("x-forwarded-port")).isEqualTo("80");
        assertThat(r.echoedHeader("x-forwarded-proto")).isEqualTo("http");
        assertThat(r.echoedHeader("x-forwarded-scheme")).isEqualTo("http");
        assertThat(r.echoedHeader("x-scheme")).isEqualTo("http");
        assertThat(r.echoedHeader("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(r.echoedHeader("x-real-ip")).isEqualTo("127.0.0.1");
        assertThat(r.echoedHeader("x-forwarded-host")).isEqualTo("forwarded-headers");
        assertThat(r.echoedHeader("x-original-forwarded-for")).isEqualTo("1.2.3.4");
        assertThat(r.echoedHeader("x-original-forwarded-host")).isEqualTo("myhost");
        JsonNode headers = r.json().get("headers");
        assertThat(headers.get("x-forwarded-for")).hasSize(1);
        assertThat(headers.get("x-forwarded-port")).hasSize(1);
    }

    @Test
    void hostIsSentVerbatimWithPortAndCase() {
        RawHttpClient.Response r = send("GET / HTTP/1.1\r\nHost: Forwarded-Headers:8080\r\n\r\n");

        assertThat(r.echoedHeader("host")).isEqualTo("Forwarded-Headers:8080");
        assertThat(r.echoedHeader("x-forwarded-host")).isEqualTo("Forwarded-Headers:8080");
        assertThat(r.echoedHeader("x-original-forwarded-host")).isNull();
        assertThat(r.echoedHeader("x-original-forwarded-for")).isNull();
    }

    @Test
    void requestIdIsKeptOrGenerated() {
        RawHttpClient.Response kept = send("GET / HTTP/1.1\r\nHost: forwarded-headers\r\nX-Request-ID: abc-123\r\n\r\n");
        assertThat(kept.echoedHeader("x-request-id")).isEqualTo("abc-123");

        String generated = send("GET / HTTP/1.1\r\nHost: forwarded-headers\r\n\r\n").echoedHeader("x-request-id");
        String another = send("GET / HTTP/1.1\r\nHost: forwarded-headers\r\n\r\n").echoedHeader("x-request-id");
        assertThat(generated).matches("[0-9a-f]{32}");
        assertThat(another).matches("[0-9a-f]{32}").isNotEqualTo(generated);
    }

    @Test
    void underscoreProxyAndHopByHopHeadersAreDropped() {
        RawHttpClient.Response r = send("GET / HTTP/1.1\r\n"
                + "Host: forwarded-headers\r\n"
                + "X_Underscored: 1\r\n"
                + "Proxy: http://evil:3128\r\n"
                + "Connection: keep-alive, X-Hop\r\n"
                + "X-Hop: 1\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "TE: trailers\r\n"
                + "X-Kept: yes\r\n"
                + "\r\n");

        JsonNode headers = r.json().get("headers");
        assertThat(headers.has("x_underscored")).isFalse();
        assertThat(headers.has("proxy")).isFalse();
        assertThat(headers.has("x-hop")).isFalse();
        assertThat(headers.has("keep-alive")).isFalse();
        assertThat(headers.has("te")).isFalse();
        assertThat(headers.has("upgrade")).isFalse();
        assertThat(headers.has("connection")).isFalse(); // HTTP/1.1 keep-alive is the default
        assertThat(r.echoedHeader("x-kept")).isEqualTo("yes");
    }

    @Test
    void upgradeIsPassedOnWithConnectionUpgrade() {
        // SPEC §8: Upgrade $http_upgrade; Connection $connection_upgrade ("upgrade" whenever Upgrade is set)
        RawHttpClient.Response r = send("GET / HTTP/1.1\r\nHost: forwarded-headers\r\nUpgrade: websocket\r\n"
                + "Connection: keep-alive\r\n\r\n");
        assertThat(r.echoedHeader("upgrade")).isEqualTo("websocket");
        assertThat(r.echoedHeader("connection")).isEqualTo("upgrade");
    }

    @Test
    void upstreamServerHeaderIsRemovedFromTheResponse() {
        RawHttpClient.Response r = send("GET / HTTP/1.1\r\nHost: forwarded-headers\r\n\r\n");

        assertThat(r.header("X-Pod")).isEqualTo("web-1");
        assertThat(r.header("Server")).isNull();
    }

    @Test
    void upstreamRequestIsHttp11EvenForAnHttp10Client() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET / HTTP/1.0\r\nHost: forwarded-headers\r\n\r\n");
            assertThat(r.json().get("version").asText()).isEqualTo("HTTP/1.1");
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void http10ClientAskingForKeepAliveKeepsTheConnection() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            String req = "GET / HTTP/1.0\r\nHost: forwarded-headers\r\nConnection: keep-alive\r\n\r\n";
            RawHttpClient.Response first = c.exchange(req);
            assertThat(first.header("Connection")).isEqualToIgnoringCase("keep-alive");
            assertThat(c.exchange(req).status()).isEqualTo(200);
        }
    }

    @Test
    void expectContinueIsAnsweredByTheProxyAndNotForwarded() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /upload HTTP/1.1\r\nHost: forwarded-headers\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawHttpClient.Response interim = c.read();
            assertThat(interim.status()).isEqualTo(100);
            RawHttpClient.Response r = c.exchange("hello");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(5);
            assertThat(r.echoedHeader("expect")).isNull();
        }
    }
}
