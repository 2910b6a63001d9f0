package dev.sluice.gateway.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * A real HTTP/1.1 server on a loopback address for proxy tests: a stand-in for one Pod.
 *
 * <p>By default it answers {@code 200} with a JSON echo of what it received:
 *
 * <pre>{"pod":"web-1","method":"POST","uri":"/a?x=1","version":"HTTP/1.1",
 *  "headers":{"host":["example.com"],"x-forwarded-for":["127.0.0.1"],…},
 *  "bodyBytes":12,"bodyCrc32":12345}</pre>
 *
 * (header names lower-cased, values in arrival order). Every response carries
 * {@code X-Pod: <name>} and {@code Server: sluice-test-backend}. The request body is never
 * buffered: it is counted and checksummed as it streams in.
 *
 * <p>Query parameters change the answer (they survive path rewrites):
 * <ul>
 *   <li>{@code download=N}: a body of N {@linkplain #patternByte pattern bytes} instead of JSON,
 *       streamed with back-pressure; {@code chunked=1} sends it chunked, else with
 *       {@code Content-Length}.</li>
 *   <li>{@code status=N}: that status code.</li>
 *   <li>{@code delayMs=N}: answer after N milliseconds.</li>
 *   <li>{@code hang=1}: never answer.</li>
 *   <li>{@code abort=N}: announce N bytes, send half of them, then close the connection.</li>
 *   <li>{@code close=1}: answer with {@code Connection: close} and close.</li>
 *   <li>{@code hsts=V}: add {@code Strict-Transport-Security: V} to the JSON echo.</li>
 *   <li>{@code early=1}: answer 200 with a chunked body as soon as the request head arrives (one
 *       chunk {@code "early"}), ending it when the request body has been read.</li>
 * </ul>
 */
public final class TestBackend implements AutoCloseable {
    private static final java.util.List<Socket> HELD_DEAD_PORTS = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final EventLoopGroup group;
    private final Channel server;
    private final Endpoint endpoint;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    private TestBackend(String name, String address) throws InterruptedException {
        this.name = name;
        this.group = new NioEventLoopGroup(1, new DefaultThreadFactory("backend-" + name, true));
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true) // as Go, Node and NGINX backends do
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        // accepts whatever headers the proxy lets through (large-client-header-buffers tests)
                        ch.pipeline().addLast(new HttpServerCodec(new io.netty.handler.codec.http.HttpDecoderConfig()
                                .setMaxHeaderSize(1 << 20)), new EchoHandler());
                    }
                })
                .bind(address, 0).sync().channel();
        this.endpoint = Endpoint.of(address, ((InetSocketAddress) server.localAddress()).getPort());
    }

    /** Starts a backend named {@code name} (the "Pod" name) on {@code address}, port 0. */
    public static TestBackend start(String name, String address) {
        try {
            return new TestBackend(name, address);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * An endpoint that refuses connections: a port held by a socket that is bound but never
     * listens, kept open for the whole test run so no other server (or test) can take the port
     * and answer on it.
     */
    public static Endpoint deadEndpoint(String address) {
        try {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(address, 0));
            HELD_DEAD_PORTS.add(s);
            return Endpoint.of(address, s.getLocalPort());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** TCP connections accepted so far. */
    public int connectionsAccepted() {
        return connections.get();
    }

    /** Requests whose head was received so far. */
    public int requestsReceived() {
        return requests.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Byte {@code i} of every generated download body. */
    public static byte patternByte(long i) {
        return (byte) (i * 31 + (i >>> 9));
    }

    /** CRC32 of the first {@code n} pattern bytes. */
    public static long patternCrc(long n) {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[8192];
        for (long i = 0; i < n; ) {
            int len = (int) Math.min(buf.length, n - i);
            for (int j = 0; j < len; j++) {
                buf[j] = patternByte(i + j);
            }
            crc.update(buf, 0, len);
            i += len;
        }
        return crc.getValue();
    }

    /** An input stream of {@code n} pattern bytes. */
    public static InputStream patternStream(long n) {
        return new InputStream() {
            private long pos;

            @Override
            public int read() {
                return pos < n ? patternByte(pos++) & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= n) {
                    return -1;
                }
                int count = (int) Math.min(len, n - pos);
                for (int i = 0; i < count; i++) {
                    b[off + i] = patternByte(pos + i);
                }
                pos += count;
                return count;
            }
        };
    }

    private final class EchoHandler extends SimpleChannelInboundHandler<HttpObject> {
        private HttpRequest request;
        private boolean earlyOpen;
        private long bodyBytes;
        private final CRC32 crc = new CRC32();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest r) {
                requests.incrementAndGet();
                request = r;
                bodyBytes = 0;
                crc.reset();
                if (r.uri().contains("early=1")) {
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    decorate(head);
                    HttpUtil.setTransferEncodingChunked(head, true);
                    ctx.write(head);
                    ctx.writeAndFlush(new DefaultHttpContent(
                            Unpooled.copiedBuffer("early", java.nio.charset.StandardCharsets.US_ASCII)));
                    request = null; // answered: the end of the body only ends the response
                    earlyOpen = true;
                }
            }
            if (msg instanceof HttpContent c) {
                ByteBuf b = c.content();
                bodyBytes += b.readableBytes();
                if (b.hasArray()) {
                    crc.update(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
                } else {
                    crc.update(b.nioBuffer());
                }
                if (c instanceof LastHttpContent && earlyOpen) {
                    earlyOpen = false;
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                }
                if (c instanceof LastHttpContent && request != null) {
                    HttpRequest r = request;
                    request = null;
                    answer(ctx, r, bodyBytes, crc.getValue());
                }
            }
        }

        private void answer(ChannelHandlerContext ctx, HttpRequest r, long bytes, long crcValue) {
            Map<String, List<String>> q = new QueryStringDecoder(r.uri()).parameters();
            if (q.containsKey("hang")) {
                return;
            }
            long delay = q.containsKey("delayMs") ? Long.parseLong(q.get("delayMs").get(0)) : 0;
            Runnable send = () -> send(ctx, r, q, bytes, crcValue);
            if (delay > 0) {
                ctx.executor().schedule(send, delay, TimeUnit.MILLISECONDS);
            } else {
                send.run();
            }
        }

        private void send(ChannelHandlerContext ctx, HttpRequest r, Map<String, List<String>> q, long bytes,
                long crcValue) {
            int status = q.containsKey("status") ? Integer.parseInt(q.get("status").get(0)) : 200;
            boolean close = q.containsKey("close") || !HttpUtil.isKeepAlive(r);
            if (q.containsKey("abort")) {
                long n = Long.parseLong(q.get("abort").get(0));
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
                decorate(head);
                HttpUtil.setContentLength(head, n);
                ctx.write(head);
                pump(ctx, 0, n / 2, false, true);
                return;
            }
            if (q.containsKey("download")) {
                long n = Long.parseLong(q.get("download").get(0));
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
                decorate(head);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
                if ("1".equals(first(q, "chunked"))) {
                    HttpUtil.setTransferEncodingChunked(head, true);
                } else {
                    HttpUtil.setContentLength(head, n);
                }
                if (close) {
                    head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                }
                ctx.write(head);
                pump(ctx, 0, n, true, close);
                return;
            }
            ObjectNode echo = JSON.createObjectNode();
            echo.put("pod", name);
            echo.put("method", r.method().name());
            echo.put("uri", r.uri());
            echo.put("version", r.protocolVersion().text());
            ObjectNode headers = echo.putObject("headers");
            Map<String, List<String>> sorted = new TreeMap<>();
            for (Map.Entry<String, String> h : r.headers()) {
                sorted.computeIfAbsent(h.getKey().toLowerCase(java.util.Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
            }
            sorted.forEach((k, v) -> {
                var arr = headers.putArray(k);
                v.forEach(arr::add);
            });
            echo.put("bodyBytes", bytes);
            echo.put("bodyCrc32", crcValue);
            byte[] body = echo.toString().getBytes(StandardCharsets.UTF_8);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(body));
            decorate(resp);
            if (q.containsKey("hsts")) {
                resp.headers().add("Strict-Transport-Security", q.get("hsts").get(0));
            }
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            HttpUtil.setContentLength(resp, body.length);
            if (close) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(resp);
            }
        }

        /**
         * Writes pattern bytes {@code [pos, n)} while the channel is writable, then continues when
         * the last write completed: a download that never outruns the reader.
         */
        private void pump(ChannelHandlerContext ctx, long pos, long n, boolean last, boolean close) {
            ChannelFuture f = null;
            while (pos < n && ctx.channel().isWritable()) {
                int len = (int) Math.min(64 * 1024, n - pos);
                ByteBuf buf = ctx.alloc().buffer(len);
                for (int i = 0; i < len; i++) {
                    buf.writeByte(patternByte(pos + i));
                }
                pos += len;
                f = ctx.write(new DefaultHttpContent(buf));
            }
            if (pos >= n) {
                if (last) {
                    f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                } else {
                    ctx.flush();
                }
                if (close) {
                    (f != null ? f : ctx.newSucceededFuture()).addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ctx.flush();
            long next = pos;
            (f != null ? f : ctx.newSucceededFuture()).addListener(done -> {
                if (done.isSuccess()) {
                    pump(ctx, next, n, last, close);
                }
            });
        }

        private void decorate(HttpResponse r) {
            r.headers().set("X-Pod", name);
            r.headers().set(HttpHeaderNames.SERVER, "sluice-test-backend");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static String first(Map<String, List<String>> q, String key) {
        List<String> v = q.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}
