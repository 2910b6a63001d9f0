package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client-side handler on an {@link EmbeddedChannel}: local answers, keep-alive, pipelining, drain. */
class ProxyHandlerTest {
    private final RouteTableHolder routes = new RouteTableHolder();
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        routes.publish(table(
                host("empty.example.com", prefix("/", "default/empty", Backend.of("default-empty-80", List.of()))),
                host("app.example.com", prefix("/docs/", "default/docs",
                        backend("default-docs-80", Endpoint.of("127.0.0.9", 9))))));
        ServerContext server = new ServerContext(routes, Map.of(), new ProxyMetrics(new SimpleMeterRegistry()),
                AccessLog.off(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
                new AccessGate(new ExternalAuthClient(io.netty.channel.socket.nio.NioSocketChannel.class)));
        channel = new EmbeddedChannel(new HttpServerCodec(), new ProxyHandler(server, false));
    }

    private String send(String raw) {
        channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = channel.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /** NGINX's 404 page with Sluice's name, as a client receives it. */
    private static final String PAGE_404 = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
            + "<center><h1>404 Not Found</h1></center>\r\n<hr><center>sluice</center>\r\n</body>\r\n</html>\r\n";

    @Test
    void unknownHostGetsTheNginxStyle404AndTheConnectionStaysOpen() {
        String out = send("GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n");

        assertThat(out).startsWith("HTTP/1.1 404 Not Found\r\n");
        assertThat(out).contains("content-type: text/html\r\n");
        assertThat(out).contains("content-length: 147\r\n");
        assertThat(out).endsWith("\r\n\r\n" + PAGE_404);
        assertThat(out.toLowerCase()).doesNotContain("server:").doesNotContain("connection:");
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void noEndpointsGives503() {
        assertThat(send("GET /x HTTP/1.1\r\nHost: empty.example.com\r\n\r\n"))
                .startsWith("HTTP/1.1 503 Service Temporarily Unavailable\r\n")
                .contains("<title>503 Service Temporarily Unavailable</title>");
    }

    @Test
    void redirectCarriesLocation() {
        assertThat(send("GET /docs HTTP/1.1\r\nHost: app.example.com\r\n\r\n"))
                .startsWith("HTTP/1.1 301 Moved Permanently\r\n")
                .contains("location: http://app.example.com/docs/\r\n");
    }

    @Test
    void headGetsHeadersOnly() {
        String out = send("HEAD / HTTP/1.1\r\nHost: nowhere\r\n\r\n");
        assertThat(out).startsWith("HTTP/1.1 404 Not Found\r\n").endsWith("\r\n\r\n");
        assertThat(out).contains("content-length: 147\r\n");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndABodyIsSkipped() {
        String out = send("POST /a HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /b HTTP/1.1\r\nHost: empty.example.com\r\n\r\n"
                + "GET /docs HTTP/1.1\r\nHost: app.example.com\r\n\r\n");

        int first = out.indexOf("HTTP/1.1 404");
        int second = out.indexOf("HTTP/1.1 503");
        int third = out.indexOf("HTTP/1.1 301");
        assertThat(first).isZero();
        assertThat(second).isGreaterThan(first);
        assertThat(third).isGreaterThan(second);
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void http10WithoutKeepAliveIsClosedAfterTheResponse() {
        String out = send("GET / HTTP/1.0\r\n\r\n");
        assertThat(out).startsWith("HTTP/1.1 404 Not Found\r\n").contains("connection: close\r\n");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void clientAskingToCloseIsClosed() {
        String out = send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(out).contains("connection: close\r\n");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void malformedRequestGets400AndClose() {
        String out = send("GET / HTTP/1.1\r\nBad Header Line Without Colon\r\n\r\n");
        assertThat(out).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close\r\n");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void expectContinueWithALocalAnswerClosesInsteadOfWaitingForTheBody() {
        String out = send("PUT /a HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
        assertThat(out).startsWith("HTTP/1.1 404 Not Found\r\n").doesNotContain("100 Continue")
                .contains("connection: close\r\n");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void drainClosesAnIdleConnectionAfterTheLinger() {
        send("GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n");
        assertThat(channel.isOpen()).isTrue();
        channel.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
        // a busy client's next request may be on its way: the connection waits for it a moment
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(ProxyHandler.DRAIN_IDLE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aRequestArrivingDuringTheDrainLingerIsAnsweredWithConnectionClose() {
        send("GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n");
        channel.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);

        String out = send("GET /next HTTP/1.1\r\nHost: nowhere\r\n\r\n");

        assertThat(out).startsWith("HTTP/1.1 404 Not Found\r\n").containsIgnoringCase("connection: close");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void drainDuringARequestClosesTheConnectionAfterTheLinger() {
        // the head arrives (and is answered, promising keep-alive), the body is still on its way
        // when the drain starts
        send("POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 4\r\n\r\nab");
        channel.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
        send("cd");
        channel.advanceTimeBy(ProxyHandler.DRAIN_IDLE_LINGER_MILLIS, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
    }
}
