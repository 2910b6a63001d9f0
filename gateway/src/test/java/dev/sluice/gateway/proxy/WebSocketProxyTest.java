package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.tableWithCatchAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSockets through the proxy with no annotation (SPEC §8 {@code Upgrade}/{@code Connection}):
 * a real JDK WebSocket client, a real Netty WebSocket echo server, both listeners, frames both
 * ways (large ones too), closes in both directions and the idle timeout.
 */
class WebSocketProxyTest {
    static EventLoopGroup group;
    static Channel echo;
    static final AtomicInteger upstreamClosed = new AtomicInteger();
    static final List<String> handshakeHeaders = new CopyOnWriteArrayList<>();
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;
    static TestBackend plain;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        echo = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.closeFuture().addListener(f -> upstreamClosed.incrementAndGet());
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new io.netty.channel.ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof io.netty.handler.codec.http.HttpRequest r) {
                                            handshakeHeaders.add("upgrade=" + r.headers().get("upgrade")
                                                    + " connection=" + r.headers().get("connection")
                                                    + " x-forwarded-for=" + r.headers().get("x-forwarded-for"));
                                        }
                                        ctx.fireChannelRead(msg);
                                    }
                                },
                                new WebSocketServerProtocolHandler("/", null, false, 16 * 1024 * 1024, false, true),
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        if (f instanceof TextWebSocketFrame t) {
                                            ctx.writeAndFlush(new TextWebSocketFrame("echo:" + t.text()));
                                        } else if (f instanceof BinaryWebSocketFrame b) {
                                            ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                                        }
                                    }
                                });
                    }
                }).bind(new InetSocketAddress("127.0.0.3", 0)).sync().channel();
        Endpoint ep = Endpoint.of("127.0.0.3", ((InetSocketAddress) echo.localAddress()).getPort());
        plain = TestBackend.start("plain-1", "127.0.0.4");
        routes.publish(tableWithCatchAll(host("", prefix("/ws", "default/ws", backend("default-ws-80", ep)),
                        prefix("/plain", "default/plain", backend("default-plain-80", plain)),
                        prefix("/idle", "default/idle", backend("default-ws-80", ep),
                                RouteOptions.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(60),
                                        Duration.ofMillis(700))))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        echo.close();
        plain.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Collects what the client receives. */
    static final class Collector implements WebSocket.Listener {
        final List<String> texts = new CopyOnWriteArrayList<>();
        final List<Integer> binaries = new CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private int binary;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                texts.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            binary += data.remaining();
            if (last) {
                binaries.add(binary);
                binary = 0;
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(status);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete(-1);
        }
    }

    private static WebSocket connect(String uri, Collector c, boolean tls) throws Exception {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls) {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new TrustManager[] {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] c, String a) {}
                public void checkServerTrusted(X509Certificate[] c, String a) {}
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            SSLParameters params = new SSLParameters();
            params.setEndpointIdentificationAlgorithm(null);
            b.sslContext(ssl).sslParameters(params);
        }
        return b.build().newWebSocketBuilder().buildAsync(URI.create(uri), c).get(10, TimeUnit.SECONDS);
    }

    private static void echoesBothWays(String uri, boolean tls) throws Exception {
        Collector c = new Collector();
        WebSocket ws = connect(uri, c, tls);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        ws.sendText("again", true).get(5, TimeUnit.SECONDS);
        byte[] big = new byte[3 * 1024 * 1024];
        new java.util.Random(7).nextBytes(big);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.texts.size() == 2 && c.binaries.size() == 1);
        assertThat(c.texts).containsExactly("echo:hello", "echo:again");
        assertThat(c.binaries).containsExactly(big.length);
        int closedBefore = upstreamClosed.get();
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertThat(c.closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        await().atMost(Duration.ofSeconds(5)).until(() -> upstreamClosed.get() > closedBefore);
    }

    @Test
    void aWebSocketEchoesBothWaysOnTheHttpPortWithNoAnnotation() throws Exception {
        echoesBothWays("ws://127.0.0.1:" + server.httpPort() + "/ws", false);
        assertThat(handshakeHeaders).last().asString().contains("upgrade=websocket").contains("connection=upgrade")
                .contains("x-forwarded-for=127.0.0.1");
    }

    @Test
    void aWebSocketEchoesBothWaysOnTheHttpsPort() throws Exception {
        // raw frames over TLS (the JDK client insists on a certificate naming 127.0.0.1)
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), null)) {
            RawHttpClient.Response r = c.send("GET /ws HTTP/1.1\r\nHost: any\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").readHead();
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.header("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            assertThat(r.header("strict-transport-security")).isNotNull();
            java.io.OutputStream out = c.socket().getOutputStream();
            java.io.InputStream in = c.socket().getInputStream();
            byte[] payload = "over tls".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] mask = {1, 2, 3, 4};
            byte[] frame = new byte[6 + payload.length];
            frame[0] = (byte) 0x81; // FIN + text
            frame[1] = (byte) (0x80 | payload.length); // masked, as clients must
            System.arraycopy(mask, 0, frame, 2, 4);
            for (int i = 0; i < payload.length; i++) {
                frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
            }
            out.write(frame);
            out.flush();
            byte[] head = in.readNBytes(2);
            assertThat(head[0] & 0xff).isEqualTo(0x81);
            byte[] echoed = in.readNBytes(head[1] & 0x7f);
            assertThat(new String(echoed, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("echo:over tls");
        }
    }

    @Test
    void anIdleTunnelIsClosedAfterProxyReadTimeout() throws Exception {
        Collector c = new Collector();
        WebSocket ws = connect("ws://127.0.0.1:" + server.httpPort() + "/idle", c, false);
        ws.sendText("one", true).get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> c.texts.size() == 1);
        // nothing from the upstream for 700 ms: both sides closed, the client sees the end
        assertThat(c.closed.get(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void anUpgradeTheUpstreamRefusesIsAnOrdinaryResponse() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            // a plain HTTP backend answers the Upgrade request itself: proxied as usual, and it saw the headers
            RawHttpClient.Response r = c.exchange("GET /plain HTTP/1.1\r\nHost: any\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("upgrade")).isEqualTo("websocket");
            assertThat(r.echoedHeader("connection")).isEqualTo("upgrade");
            // and the connection still serves HTTP
            assertThat(c.exchange("GET /plain HTTP/1.1\r\nHost: any\r\n\r\n").status()).isEqualTo(200);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /nowhere HTTP/1.1\r\nHost: any\r\nUpgrade: websocket\r\n\r\n").status())
                    .isEqualTo(404);
        }
    }
}
