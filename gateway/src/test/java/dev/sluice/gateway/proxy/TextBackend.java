package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32;

/**
 * A real HTTP/1.1 server on a loopback address that answers every request with compressible text:
 * {@code n} bytes of {@link #textByte} (default 10000), streamed with back-pressure. Query
 * parameters shape the answer: {@code type} (the {@code Content-Type}, default {@code text/plain}),
 * {@code chunked=1} (no {@code Content-Length}), {@code status}, {@code h=Name:Value} (repeatable:
 * extra response headers), {@code hold=1} (send the first 1000 bytes, then wait for
 * {@link #release()}).
 */
final class TextBackend implements AutoCloseable {
    private static final byte[] TEXT =
            "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.\n"
                    .getBytes(StandardCharsets.US_ASCII);
    static final int HOLD_AFTER = 1000;

    private final EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("text-backend", true));
    private final Channel server;
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    private TextBackend(String address) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Answer());
                    }
                })
                .bind(new InetSocketAddress(address, 0)).sync().channel();
    }

    static TextBackend start(String address) {
        try {
            return new TextBackend(address);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Endpoint endpoint() {
        InetSocketAddress a = (InetSocketAddress) server.localAddress();
        return Endpoint.of(a.getAddress().getHostAddress(), a.getPort());
    }

    /** Lets every held response ({@code hold=1}) go on. */
    void release() {
        released.complete(null);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Byte {@code i} of every body. */
    static byte textByte(long i) {
        return TEXT[(int) (i % TEXT.length)];
    }

    /** The first {@code n} body bytes. */
    static byte[] text(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = textByte(i);
        }
        return b;
    }

    static long textCrc(long n) {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[64 * 1024];
        for (long pos = 0; pos < n; ) {
            int len = (int) Math.min(buf.length, n - pos);
            for (int i = 0; i < len; i++) {
                buf[i] = textByte(pos + i);
            }
            crc.update(buf, 0, len);
            pos += len;
        }
        return crc.getValue();
    }

    private final class Answer extends SimpleChannelInboundHandler<HttpObject> {
        private HttpRequest request;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest r) {
                request = r;
            }
            if (msg instanceof LastHttpContent && request != null) {
                answer(ctx, request);
                request = null;
            }
        }

        private void answer(ChannelHandlerContext ctx, HttpRequest r) {
            Map<String, List<String>> q = new QueryStringDecoder(r.uri()).parameters();
            long n = q.containsKey("n") ? Long.parseLong(q.get("n").get(0)) : 10000;
            int status = q.containsKey("status") ? Integer.parseInt(q.get("status").get(0)) : 200;
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
            head.headers().set(HttpHeaderNames.CONTENT_TYPE,
                    q.containsKey("type") ? q.get("type").get(0) : "text/plain; charset=utf-8");
            for (String h : q.getOrDefault("h", List.of())) {
                int colon = h.indexOf(':');
                head.headers().add(h.substring(0, colon), h.substring(colon + 1).trim());
            }
            boolean bodyless = status == 204 || status == 304 || r.method().equals(HttpMethod.HEAD);
            if (q.containsKey("chunked")) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else if (status != 204) {
                HttpUtil.setContentLength(head, n);
            }
            ctx.write(head);
            if (bodyless) {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
            long holdAt = q.containsKey("hold") ? Math.min(HOLD_AFTER, n) : -1;
            pump(ctx, 0, n, holdAt);
        }

        /** Writes bytes {@code [pos, n)} while writable, continuing when the last write completed. */
        private void pump(ChannelHandlerContext ctx, long pos, long n, long holdAt) {
            ChannelFuture f = null;
            while (pos < n && ctx.channel().isWritable()) {
                long end = holdAt > pos ? holdAt : n;
                int len = (int) Math.min(16 * 1024, end - pos);
                ByteBuf buf = ctx.alloc().buffer(len);
                for (int i = 0; i < len; i++) {
                    buf.writeByte(textByte(pos + i));
                }
                pos += len;
                f = ctx.write(new DefaultHttpContent(buf));
                if (pos == holdAt) {
                    ctx.flush();
                    long next = pos;
                    released.thenRun(() -> ctx.executor().execute(() -> pump(ctx, next, n, -1)));
                    return;
                }
            }
            if (pos >= n) {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
            ctx.flush();
            long next = pos;
            (f != null ? f : ctx.newSucceededFuture()).addListener(done -> {
                if (done.isSuccess()) {
                    pump(ctx, next, n, holdAt);
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
