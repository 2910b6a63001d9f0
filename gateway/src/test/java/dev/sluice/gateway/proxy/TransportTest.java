package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code --transport}: each socket implementation proxies keep-alive and new connections alike. */
class TransportTest {
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

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void eachTransportProxiesRequests(String name) throws Exception {
        try (GatewayServer server = serverOn(name)) {
            server.start();
            for (int connection = 0; connection < 3; connection++) {
                try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                    for (int i = 0; i < 3; i++) {
                        RawHttpClient.Response r = c.exchange("GET /t/" + i + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
                        assertThat(r.status()).isEqualTo(200);
                        assertThat(r.json().get("uri").asText()).isEqualTo("/t/" + i);
                    }
                }
            }
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), HOST)) {
                assertThat(c.exchange("GET /tls HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
            }
        }
    }

    /**
     * An answer must be out before the connection closes: io_uring writes complete after the
     * handler returns, and a connection closed meanwhile drops them. Here the second, malformed
     * request (obsolete line folding) is answered 400 and closes the connection while the 400 is
     * still being written; both answers must arrive, in order.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void aPipelinedRequestsAnswerAndARejectionsAnswerArriveBeforeTheClose(String name) throws Exception {
        try (GatewayServer server = serverOn(name)) {
            server.start();
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                c.send("POST /first HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 2\r\n\r\nok"
                        + "GET /second HTTP/1.1\r\nHost: " + HOST + "\r\nX-A: a\r\n b\r\n\r\n");
                RawHttpClient.Response first = c.read();
                assertThat(first.status()).isEqualTo(200);
                assertThat(first.json().get("uri").asText()).isEqualTo("/first");
                assertThat(c.read().status()).isEqualTo(400);
                assertThat(c.closedByServer()).isTrue();
            }
        }
    }

    /** A one-loop server on the named transport; the test is skipped where that transport cannot run. */
    private static GatewayServer serverOn(String transport) {
        assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "epoll is not available here");
        assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring is not available here");
        return GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).transport(transport).build();
    }

    @Test
    void autoIsIoUringWhereItWorksThenEpoll() {
        String expected = IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio";
        assertThat(Transport.select("auto").name()).isEqualTo(expected);
        assertThat(Transport.select("NIO").name()).isEqualTo("nio");
        if (IoUring.isAvailable()) {
            assertThat(Transport.select("io-uring").name()).isEqualTo("io_uring");
        }
    }

    @Test
    void anUnknownTransportIsRefusedWithTheChoices() {
        assertThatThrownBy(() -> GatewayServer.builder().transport("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown transport 'kqueue' (expected one of auto, io_uring, epoll, nio)");
    }
}
