package dev.sluice.gateway.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fake external auth service on 127.0.0.1 for tests: records every request and connection and
 * answers with whatever {@link #respond} says (default {@code 200}), or stays silent, or writes
 * raw bytes. Plain HTTP, or TLS with the process's fake certificate (recording the SNI name).
 */
final class TestAuthServer implements AutoCloseable {
    /** What the service received. */
    record Received(String method, String uri, HttpHeaders headers, int bodyBytes, int connection) {}

    /** What it answers: status, headers (name, value, …) and a body size. */
    record Answer(int status, List<String> headers, int bodyBytes) {
        static Answer of(int status, String... headers) {
            return new Answer(status, List.of(headers), 0);
        }
    }

    private static final AttributeKey<Integer> CONNECTION = AttributeKey.valueOf("connection");
    private static final AttributeKey<Integer> REQUESTS = AttributeKey.valueOf("requests");
    private static final AttributeKey<HttpHeaders> HEAD = AttributeKey.valueOf("head");

    final List<Received> received = new CopyOnWriteArrayList<>();
    final List<String> sniNames = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger closedConnections = new AtomicInteger();
    volatile Function<Received, Answer> respond = r -> Answer.of(200);
    /** Never answer (but keep reading). */
    volatile boolean silent;
    /** Written instead of an HTTP response when set. */
    volatile String raw;
    /** Close a connection, unanswered, on its second request (a keep-alive race). */
    volatile boolean closeOnSecondRequest;

    private final EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("auth-server", true));
    private final Channel server;

    TestAuthServer(boolean tls) throws InterruptedException {
        SslContext ctx = tls ? FakeCertificate.serverContext() : null;
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.attr(CONNECTION).set(connections.incrementAndGet());
                        ch.attr(REQUESTS).set(0);
                        ch.closeFuture().addListener(f -> closedConnections.incrementAndGet());
                        if (ctx != null) {
                            ch.pipeline().addLast(new SniHandler(name -> {
                                sniNames.add(String.valueOf(name));
                                return ctx;
                            }));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof HttpRequest r) {
                                    ctx.channel().attr(HEAD).set(new DefaultHttpHeaders().add(r.headers()));
                                }
                                ctx.fireChannelRead(msg);
                            }
                        }, new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Channel ch = ctx.channel();
            int n = ch.attr(REQUESTS).get() + 1;
            ch.attr(REQUESTS).set(n);
            // the headers as sent: the aggregator adds Content-Length to its request
            Received r = new Received(req.method().name(), req.uri(), ch.attr(HEAD).get(),
                    req.content().readableBytes(), ch.attr(CONNECTION).get());
            received.add(r);
            if (closeOnSecondRequest && n == 2) {
                ctx.close();
                return;
            }
            if (silent) {
                return;
            }
            if (raw != null) {
                // from the first handler: straight to the socket, past the HTTP encoder
                ctx.pipeline().firstContext().writeAndFlush(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            Answer a = respond.apply(r);
            ByteBuf body = Unpooled.buffer(a.bodyBytes());
            body.writeZero(a.bodyBytes());
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(a.status()), body);
            for (int i = 0; i < a.headers().size(); i += 2) {
                resp.headers().add(a.headers().get(i), a.headers().get(i + 1));
            }
            HttpUtil.setContentLength(resp, a.bodyBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!keepAlive) {
                resp.headers().set(HttpHeaderNames.CONNECTION, "close");
            }
            var f = ctx.writeAndFlush(resp);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
