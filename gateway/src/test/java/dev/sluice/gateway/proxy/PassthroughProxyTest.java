package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteTable;
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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SSL passthrough (SPEC §10.4): a TLS connection whose SNI name is a passthrough host reaches
 * the backend unterminated (the client sees the backend's own certificate); other names are
 * terminated by Sluice as usual.
 */
class PassthroughProxyTest {
    static final TestCertificates.Issued BACKEND_CERT = TestCertificates.issue("pass.test", "pass.test");
    static EventLoopGroup group;
    static Channel tlsBackend;
    static TestBackend plain;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        SslContext ssl = SslContextBuilder.forServer(
                new ByteArrayInputStream(BACKEND_CERT.certificatePem().getBytes(StandardCharsets.US_ASCII)),
                new ByteArrayInputStream(BACKEND_CERT.pkcs8KeyPem().getBytes(StandardCharsets.US_ASCII))).build();
        tlsBackend = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc()), new HttpServerCodec(),
                                new HttpObjectAggregator(65536), new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest r) {
                                        byte[] body = ("terminated by the backend: " + r.uri())
                                                .getBytes(StandardCharsets.UTF_8);
                                        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                                        res.headers().set("content-length", body.length);
                                        ctx.writeAndFlush(res);
                                    }
                                });
                    }
                }).bind(new InetSocketAddress("127.0.0.5", 0)).sync().channel();
        Endpoint ep = Endpoint.of("127.0.0.5", ((InetSocketAddress) tlsBackend.localAddress()).getPort());
        plain = TestBackend.start("plain-1", "127.0.0.6");
        RouteTable t = table(host("pass.test", prefix("/", "default/pass", backend("default-pass-443",
                        TestBackend.deadEndpoint("127.0.0.7"), ep))),
                host("other.test", prefix("/", "default/other", backend("default-other-80", plain))));
        Upstream pass = t.hosts().get("pass.test").routes().get(0).split().mainline();
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(t.withTls(t.tls().withPassthrough(Map.of("pass.test", pass))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).sslPassthrough(true).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        plain.close();
        tlsBackend.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static X509Certificate peer(RawHttpClient c) throws Exception {
        return (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
    }

    @Test
    void aPassthroughHostIsPipedUnterminatedToItsBackend() throws Exception {
        for (int i = 0; i < 3; i++) { // the dead endpoint is skipped whatever the rotation
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "pass.test")) {
                RawHttpClient.Response r = c.exchange("GET /x HTTP/1.1\r\nHost: pass.test\r\n\r\n");
                assertThat(peer(c)).as("the backend's own certificate").isEqualTo(BACKEND_CERT.certificate());
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("terminated by the backend: /x");
            }
        }
    }

    @Test
    void otherNamesAreTerminatedBySluice() throws Exception {
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "other.test")) {
            RawHttpClient.Response r = c.exchange("GET /y HTTP/1.1\r\nHost: other.test\r\n\r\n");
            assertThat(peer(c)).isNotEqualTo(BACKEND_CERT.certificate());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("pod").asText()).isEqualTo("plain-1");
        }
        // no SNI at all: terminated too
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), null)) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n").status()).isEqualTo(200);
        }
    }
}
