package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * A mirror for tests: a real HTTP/1.1 server on loopback that records every request it receives
 * in full (method, URI, headers, body length and CRC). It answers 204 once a request has been
 * received, or, when {@linkplain #hold() held}, only after {@link #release()}: a mirror stuck
 * while the real request goes on.
 */
final class MirrorBackend implements AutoCloseable {
    /** One request as the mirror received it. */
    record Received(String method, String uri, HttpHeaders headers, long bodyBytes, long bodyCrc32) {}

    private final EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("mirror", true));
    private final Channel server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger answered = new AtomicInteger();
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    private MirrorBackend(String address) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Recorder());
                    }
                })
                .bind(new InetSocketAddress(address, 0)).sync().channel();
    }

    static MirrorBackend start(String address) throws InterruptedException {
        return new MirrorBackend(address);
    }

    Endpoint endpoint() {
        InetSocketAddress a = (InetSocketAddress) server.localAddress();
        return Endpoint.of(a.getAddress().getHostAddress(), a.getPort());
    }

    String url() {
        return "http://" + endpoint();
    }

    /** From now on, requests are recorded but not answered until {@link #release()}. */
    void hold() {
        gate = new CompletableFuture<>();
    }

    void release() {
        gate.complete(null);
    }

    List<Received> received() {
        return received;
    }

    int answered() {
        return answered.get();
    }

    @Override
    public void close() {
        release();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private final class Recorder extends SimpleChannelInboundHandler<HttpObject> {
        private HttpRequest request;
        private long bytes;
        private final CRC32 crc = new CRC32();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest r) {
                request = r;
                bytes = 0;
                crc.reset();
            }
            if (msg instanceof HttpContent c) {
                ByteBuf b = c.content();
                bytes += b.readableBytes();
                crc.update(b.nioBuffer());
                if (c instanceof LastHttpContent && request != null) {
                    received.add(new Received(request.method().name(), request.uri(), request.headers().copy(),
                            bytes, crc.getValue()));
                    request = null;
                    gate.thenRun(() -> ctx.executor().execute(() -> {
                        answered.incrementAndGet();
                        DefaultFullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                HttpResponseStatus.NO_CONTENT);
                        ok.headers().set(HttpHeaderNames.SERVER, "mirror");
                        ctx.writeAndFlush(ok);
                    }));
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
