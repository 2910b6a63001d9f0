package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
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
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A Pod that speaks HTTP/1.1 over TLS on a loopback address, for upstream TLS tests: its own
 * certificate chain, optionally a required client certificate, optionally clear HTTP on the same
 * port. It numbers its TCP connections and answers every request with what it saw:
 * {@code x-conn} (the connection's number), {@code x-tls} ({@code true}/{@code false}),
 * {@code x-sni} (the SNI name or {@code none}) and {@code x-client} (the client certificate's
 * subject or {@code none}). The SNI names of all handshakes are kept in {@link #sniNames()}.
 */
final class TlsPod implements AutoCloseable {
    private static final AttributeKey<Integer> CONN = AttributeKey.valueOf("tls-pod-conn");
    private static final AttributeKey<String> SNI = AttributeKey.valueOf("tls-pod-sni");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger handshakeFailures = new AtomicInteger();
    private final List<String> sniNames = new CopyOnWriteArrayList<>();

    /**
     * @param address  a 127.x.y.z address
     * @param leaf     the server certificate and key
     * @param chain    certificates sent after the leaf (intermediates)
     * @param clientCa when not {@code null}, a client certificate issued by it is required
     * @param clearToo also accept clear HTTP on the same port
     */
    TlsPod(String address, TestPki.Issued leaf, List<TestPki.Issued> chain, TestPki.Issued clientCa,
            boolean clearToo) {
        X509Certificate[] certs = new X509Certificate[chain.size() + 1];
        certs[0] = leaf.certificate();
        for (int i = 0; i < chain.size(); i++) {
            certs[i + 1] = chain.get(i).certificate();
        }
        SslContext ssl;
        try {
            SslContextBuilder b = SslContextBuilder.forServer(leaf.key(), certs).sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2");
            if (clientCa != null) {
                b.clientAuth(ClientAuth.REQUIRE).trustManager(clientCa.certificate());
            }
            ssl = b.build();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException(e);
        }
        try {
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.attr(CONN).set(connections.incrementAndGet());
                            if (clearToo) {
                                ch.pipeline().addLast(new OptionalSslHandler(ssl));
                            } else {
                                ch.pipeline().addLast(new SniHandler(host -> {
                                    String seen = host == null ? "none" : host;
                                    ch.attr(SNI).set(seen);
                                    sniNames.add(seen);
                                    return ssl;
                                }));
                            }
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                    new Answer());
                        }
                    })
                    .bind(address, 0).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Endpoint endpoint() {
        InetSocketAddress a = (InetSocketAddress) channel.localAddress();
        return Endpoint.of(a.getAddress().getHostAddress(), a.getPort());
    }

    /** TCP connections accepted so far. */
    int connections() {
        return connections.get();
    }

    /** The SNI name of every TLS handshake so far, {@code none} for a handshake without SNI. */
    List<String> sniNames() {
        return List.copyOf(sniNames);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            String client = "none";
            if (tls != null) {
                try {
                    client = ((X509Certificate) tls.engine().getSession().getPeerCertificates()[0])
                            .getSubjectX500Principal().getName();
                } catch (SSLPeerUnverifiedException e) {
                    // no client certificate
                }
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("ok " + req.uri(), StandardCharsets.US_ASCII));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            r.headers().set("x-conn", ctx.channel().attr(CONN).get());
            r.headers().set("x-tls", tls != null);
            String sni = ctx.channel().attr(SNI).get();
            r.headers().set("x-sni", sni == null ? "none" : sni);
            r.headers().set("x-client", client);
            ctx.writeAndFlush(r);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            handshakeFailures.incrementAndGet();
            ctx.close();
        }
    }
}
