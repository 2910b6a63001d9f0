package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Frame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --enable-h2c}: HTTP/2 with prior knowledge on the plain listener next to HTTP/1.1, and
 * none without the flag (ingress-nginx's behaviour).
 */
class H2cProxyTest {
    static TestBackend pod;
    static GatewayServer withH2c;
    static GatewayServer without;
    static GatewayServer bodyTimeout;

    @BeforeAll
    static void start() throws InterruptedException {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(host("h2c.test", prefix("/", "default/h2c", backend("h2c", pod)))));
        withH2c = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).h2c(true).build();
        withH2c.start();
        without = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        without.start();
        bodyTimeout = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).h2c(true).clientBodyTimeout(Duration.ofMillis(300)).build();
        bodyTimeout.start();
    }

    @AfterAll
    static void stop() {
        withH2c.close();
        without.close();
        bodyTimeout.close();
        pod.close();
    }

    private static String curl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "curl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void priorKnowledgeHttp2AndHttp11ShareThePlainPort() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        int port = withH2c.httpPort();
        String url = "http://h2c.test:" + port + "/x";
        String resolve = "h2c.test:" + port + ":127.0.0.1";
        assertThat(curl("-s", "--http2-prior-knowledge", "--max-time", "10", "--resolve", resolve, "-o", "/dev/null",
                "-w", "%{http_version} %{http_code}", url)).isEqualTo("2 200");
        assertThat(curl("-s", "--http1.1", "--max-time", "10", "--resolve", resolve, "-o", "/dev/null",
                "-w", "%{http_version} %{http_code}", url)).isEqualTo("1.1 200");
        // the upstream saw an ordinary request, routed by :authority
        String echo = curl("-s", "--http2-prior-knowledge", "--max-time", "10", "--resolve", resolve, url);
        assertThat(echo).contains("\"pod\":\"pod-1\"").contains("h2c.test:" + port);
    }

    @Test
    void withoutTheFlagThePrefaceIsNotHttp2() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        int port = without.httpPort();
        String out = curl("-s", "--http2-prior-knowledge", "--max-time", "5", "--resolve", "h2c.test:" + port
                + ":127.0.0.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "http://h2c.test:" + port + "/");
        assertThat(out).doesNotStartWith("2 200");
    }

    /**
     * A stream whose request body stops arriving gets its 408 (client-body-timeout), as an
     * HTTP/1.1 request does: the complete response, then RST_STREAM with NO_ERROR (RFC 9113 §8.1:
     * the client stops sending and must not drop the response), as NGINX does. It was CANCEL, on
     * which clients may drop the response.
     * A Netty client, because curl blocks on its stdin while an upload is pending and reads nothing.
     */
    @Test
    void aStreamWhoseBodyStopsArrivingGets408ThenAStopSendingReset() throws Exception {
        BlockingQueue<Http2Frame> frames = new LinkedBlockingQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    })
                    .connect("127.0.0.1", bodyTimeout.httpPort()).sync().channel();
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            frames.add((Http2Frame) msg);
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof Http2ResetFrame reset) {
                                frames.add(reset); // Netty hands a stream's RST_STREAM over as an event
                            }
                        }
                    })
                    .open().sync().getNow();
            Http2Headers headers = new DefaultHttp2Headers().method("POST").path("/upload").scheme("http")
                    .authority("h2c.test");
            headers.setInt("content-length", 100);
            stream.write(new DefaultHttp2HeadersFrame(headers, false));
            stream.writeAndFlush(new DefaultHttp2DataFrame(
                    Unpooled.copiedBuffer("only a part", StandardCharsets.US_ASCII), false)).sync();

            Http2Frame first = frames.poll(10, TimeUnit.SECONDS);
            assertThat(first).isInstanceOf(Http2HeadersFrame.class);
            assertThat(((Http2HeadersFrame) first).headers().status()).hasToString("408");
            boolean responseEnded = ((Http2HeadersFrame) first).isEndStream();
            Http2Frame next = frames.poll(10, TimeUnit.SECONDS);
            while (next instanceof Http2DataFrame data) {
                responseEnded = data.isEndStream();
                data.release();
                next = frames.poll(10, TimeUnit.SECONDS);
            }
            assertThat(responseEnded).as("the response ends (END_STREAM) before the reset").isTrue();
            assertThat(next).isInstanceOf(Http2ResetFrame.class);
            assertThat(((Http2ResetFrame) next).errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
            connection.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
