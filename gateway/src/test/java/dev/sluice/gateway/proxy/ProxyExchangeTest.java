package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ProxyExchange} without sockets: the client is an {@link EmbeddedChannel} running the
 * real {@link HttpServerCodec} and {@link ProxyHandler}; the upstream connections come from a fake
 * {@link Upstreams} that hands out embedded channels with the real upstream pipeline
 * ({@link UpstreamPool#initPipeline}), or refuses to connect. Time is frozen: the test moves the
 * client loop's scheduler and the deadlines' clock together.
 */
class ProxyExchangeTest {
    private static final Endpoint A = Endpoint.of("127.0.0.1", 8001);
    private static final Endpoint B = Endpoint.of("127.0.0.2", 8002);
    private static final Endpoint C = Endpoint.of("127.0.0.3", 8003);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(7);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(3);

    private static ResourceLeakDetector.Level leakLevel;

    private final RouteTableHolder routes = new RouteTableHolder();
    private final FakeUpstreams upstreams = new FakeUpstreams();
    private EmbeddedChannel client;
    private long now = 1_000_000;

    @BeforeAll
    static void paranoid() {
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterAll
    static void restore() {
        ResourceLeakDetector.setLevel(leakLevel);
    }

    private void serve(RouteOptions options, Endpoint... endpoints) {
        routes.publish(table(host("app.example.com", prefix("/", "default/app", backend("default-app-80", endpoints),
                options.withTimeouts(Duration.ofSeconds(5), SEND_TIMEOUT, READ_TIMEOUT)))));
        client = new EmbeddedChannel();
        client.freezeTime();
        ServerContext server = new ServerContext(routes, Map.of(client.eventLoop(), upstreams),
                new ProxyMetrics(new SimpleMeterRegistry()), AccessLog.off(),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
                new AccessGate(new ExternalAuthClient(io.netty.channel.socket.nio.NioSocketChannel.class)),
                () -> now);
        client.pipeline().addLast(new HttpServerCodec(), new ProxyHandler(server, false));
        client.pipeline().fireChannelActive(); // the handlers came after registration
    }

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.finishAndReleaseAll();
        }
        for (EmbeddedChannel up : upstreams.opened) {
            up.finishAndReleaseAll();
        }
        upstreams.releaseHeldWrites();
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aFailedConnectMovesToAnotherEndpoint() {
        serve(RouteOptions.DEFAULTS, A, B, C);
        upstreams.refuseNext = 1;

        clientSends("GET /x HTTP/1.1\r\nHost: app.example.com\r\n\r\n");

        assertThat(upstreams.connects).hasSize(2);
        assertThat(upstreams.connects.get(1)).isNotEqualTo(upstreams.connects.get(0));
        EmbeddedChannel up = upstreams.opened.get(0);
        assertThat(received(up)).startsWith("GET /x HTTP/1.1\r\n");
        upstreamAnswers(up, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");

        String out = clientReceived();
        assertThat(out).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        assertThat(upstreams.released).containsExactly(up); // kept for the next request
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void aSmallBodyIsReplayedToTheNextEndpointWhenTheConnectionBreaksBeforeAnyResponseByte() {
        serve(RouteOptions.DEFAULTS, A, B, C);

        clientSends("PUT /doc HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello");
        EmbeddedChannel first = upstreams.opened.get(0);
        assertThat(received(first)).startsWith("PUT /doc HTTP/1.1\r\n").endsWith("\r\n\r\nhello");

        first.close(); // before any response byte
        assertThat(upstreams.connects).hasSize(2);
        assertThat(upstreams.connects.get(1)).isNotEqualTo(upstreams.connects.get(0));
        EmbeddedChannel second = upstreams.opened.get(1);
        assertThat(received(second)).startsWith("PUT /doc HTTP/1.1\r\n").containsIgnoringCase("content-length: 5\r\n")
                .endsWith("\r\n\r\nhello");

        upstreamAnswers(second, "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
        assertThat(clientReceived()).startsWith("HTTP/1.1 201 Created\r\n");
    }

    @Test
    void aRequestWithoutBodyGoesAsExactlyItsHeadToEveryAttempt() {
        serve(RouteOptions.DEFAULTS, A, B, C);

        clientSends("GET /page HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        EmbeddedChannel first = upstreams.opened.get(0);
        String sent = received(first);
        assertThat(sent).startsWith("GET /page HTTP/1.1\r\n").endsWith("\r\n\r\n")
                .doesNotContainIgnoringCase("content-length").doesNotContainIgnoringCase("transfer-encoding");
        assertThat(sent.indexOf("\r\n\r\n")).as("one head, nothing after it").isEqualTo(sent.length() - 4);

        first.close(); // before any response byte: a GET is tried again
        EmbeddedChannel second = upstreams.opened.get(1);
        String resent = received(second);
        assertThat(resent.replaceAll("X-Request-ID: \\w+", "")).isEqualTo(sent.replaceAll("X-Request-ID: \\w+", ""));
        upstreamAnswers(second, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");

        assertThat(clientReceived()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
        assertThat(upstreams.released).containsExactly(second);
        assertThat(received(second)).as("no stray end of request after the answer").isEmpty();
    }

    @Test
    void aPostIsNotRetriedOnceItWasSent() {
        serve(RouteOptions.DEFAULTS, A, B, C);

        clientSends("POST /orders HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello");
        EmbeddedChannel first = upstreams.opened.get(0);
        assertThat(received(first)).endsWith("hello");
        first.close();

        assertThat(upstreams.connects).hasSize(1);
        assertThat(clientReceived()).startsWith("HTTP/1.1 502 Bad Gateway\r\n");
    }

    @Test
    void aStalePooledConnectionIsRetriedOnceOnAFreshConnectionToTheSameEndpointEvenForPost() {
        serve(RouteOptions.DEFAULTS, A);
        EmbeddedChannel stale = upstreams.pooled(A);

        clientSends("POST /orders HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(received(stale)).endsWith("hello");
        stale.close(); // the upstream had closed the idle connection as the request went out

        assertThat(upstreams.connects).containsExactly(A);
        EmbeddedChannel fresh = upstreams.opened.get(0);
        assertThat(received(fresh)).startsWith("POST /orders HTTP/1.1\r\n").endsWith("\r\n\r\nhello");
        upstreamAnswers(fresh, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assertThat(clientReceived()).startsWith("HTTP/1.1 200 OK\r\n");
    }

    @Test
    void noAnswerWithinTheReadTimeoutIs504() {
        serve(RouteOptions.DEFAULTS, A, B, C);

        clientSends("GET /slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        EmbeddedChannel up = upstreams.opened.get(0);
        assertThat(received(up)).startsWith("GET /slow HTTP/1.1\r\n");

        advance(READ_TIMEOUT.minusMillis(1));
        assertThat(clientReceived()).isEmpty();
        advance(Duration.ofMillis(1));

        assertThat(clientReceived()).startsWith("HTTP/1.1 504 Gateway Time-out\r\n");
        assertThat(upstreams.connects).as("a timeout is not retried").hasSize(1);
        assertThat(up.isOpen()).as("the attempt's connection is closed, not pooled").isFalse();
        assertThat(upstreams.released).isEmpty();
    }

    @Test
    void aReadTimeoutAfterTheResponseStartedClosesTheClientConnection() {
        serve(RouteOptions.DEFAULTS, A);

        clientSends("GET /stream HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        EmbeddedChannel up = upstreams.opened.get(0);
        received(up);
        upstreamAnswers(up, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n");
        assertThat(clientReceived()).startsWith("HTTP/1.1 200 OK\r\n").contains("abc");

        advance(READ_TIMEOUT);
        assertThat(client.isOpen()).as("a truncated body is all the client can be told").isFalse();
    }

    @Test
    void aWriteThatDoesNotCompleteWithinTheSendTimeoutIs504() {
        serve(RouteOptions.DEFAULTS, A, B);
        upstreams.holdWrites = true;

        clientSends("PUT /big HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(upstreams.held).isNotEmpty();

        advance(SEND_TIMEOUT.minusMillis(1));
        assertThat(clientReceived()).isEmpty();
        advance(Duration.ofMillis(1));

        assertThat(clientReceived()).startsWith("HTTP/1.1 504 Gateway Time-out\r\n");
        assertThat(upstreams.connects).hasSize(1);
    }

    @Test
    void whenTheTriesAreUsedUpTheAnswerIs502() {
        serve(RouteOptions.DEFAULTS.withNextUpstreamTries(2), A, B, C);
        upstreams.refuseNext = Integer.MAX_VALUE;

        clientSends("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n");

        assertThat(upstreams.connects).hasSize(2).doesNotHaveDuplicates();
        assertThat(clientReceived()).startsWith("HTTP/1.1 502 Bad Gateway\r\n");
    }

    @Test
    void unlimitedTriesMeanEachEndpointOnce() {
        serve(RouteOptions.DEFAULTS.withNextUpstreamTries(Integer.MAX_VALUE), A, B, C);

        clientSends("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel up = upstreams.opened.get(i);
            received(up);
            up.close();
        }

        assertThat(upstreams.connects).containsExactlyInAnyOrder(A, B, C);
        assertThat(clientReceived()).startsWith("HTTP/1.1 502 Bad Gateway\r\n");
    }

    // ------------------------------------------------------------------ helpers

    private void clientSends(String raw) {
        client.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        client.runPendingTasks();
    }

    private static void upstreamAnswers(EmbeddedChannel up, String raw) {
        up.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
    }

    private void advance(Duration d) {
        now += d.toNanos();
        client.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
    }

    private String clientReceived() {
        return drain(client);
    }

    private static String received(EmbeddedChannel up) {
        return drain(up);
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                out.append(b.toString(StandardCharsets.ISO_8859_1));
            }
            ReferenceCountUtil.release(o);
        }
        return out.toString();
    }

    /**
     * Upstream connections without sockets: each connect either fails at once or opens an
     * embedded channel with the real upstream pipeline.
     */
    private static final class FakeUpstreams implements Upstreams {
        final List<Endpoint> connects = new ArrayList<>();
        final List<EmbeddedChannel> opened = new ArrayList<>();
        final List<Channel> released = new ArrayList<>();
        final Deque<Object> held = new ArrayDeque<>();
        private final Map<Endpoint, Deque<Channel>> idle = new java.util.HashMap<>();
        int refuseNext;
        boolean holdWrites;

        /** Puts an idle keep-alive connection to {@code endpoint} in the pool. */
        EmbeddedChannel pooled(Endpoint endpoint) {
            EmbeddedChannel ch = newChannel(endpoint);
            idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>()).add(ch);
            return ch;
        }

        @Override
        public Channel acquire(UpstreamKey key) {
            Deque<Channel> q = idle.get(key.endpoint());
            return q == null ? null : q.poll();
        }

        @Override
        public ChannelFuture connect(UpstreamKey key, Duration connectTimeout) {
            Endpoint endpoint = key.endpoint();
            connects.add(endpoint);
            if (refuseNext > 0) {
                refuseNext--;
                EmbeddedChannel never = new EmbeddedChannel();
                return never.newFailedFuture(new ConnectException("Connection refused: " + endpoint));
            }
            EmbeddedChannel ch = newChannel(endpoint);
            opened.add(ch);
            return ch.newSucceededFuture();
        }

        private EmbeddedChannel newChannel(Endpoint endpoint) {
            EmbeddedChannel ch = new EmbeddedChannel();
            if (holdWrites) {
                // a peer that stopped reading: written bytes stay in the channel's outbound buffer
                // and its writes never complete
                ch.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                        held.add(msg);
                        ctx.write(ReferenceCountUtil.retain(msg), promise);
                    }

                    @Override
                    public void flush(ChannelHandlerContext ctx) {
                    }
                });
            }
            UpstreamPool.initPipeline(ch.pipeline(), this, UpstreamKey.clear(endpoint));
            return ch;
        }

        @Override
        public void release(UpstreamKey key, Channel ch) {
            released.add(ch);
        }

        @Override
        public void remove(UpstreamKey key, Channel ch) {
        }

        void releaseHeldWrites() {
            Object o;
            while ((o = held.poll()) != null) {
                ReferenceCountUtil.release(o);
            }
        }
    }
}
