package dev.sluice.loadtest;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The upstream of the data-plane benchmark: answers every HTTP/1.1 request with the same
 * 128-byte body over keep-alive, as cheaply as Netty allows, on one event loop.
 *
 * <p>The response is a pre-encoded buffer written without an encoder; responses to pipelined
 * requests are flushed together at the end of each read. A request with {@code Connection: close}
 * (or HTTP/1.0 without keep-alive) gets the same response with {@code Connection: close}, then the
 * connection is closed. Request bodies are read and discarded. Paths starting with {@code /large}
 * get a 1 MiB body instead (the large-response scenario).
 *
 * <p>Run from a checkout after {@code mvn -q -DskipTests package} (the Sluice jar carries Netty):
 * <pre>
 * java -cp controller/target/sluice.jar:loadtest/target/classes dev.sluice.loadtest.BenchBackend \
 *     18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14
 * </pre>
 */
public final class BenchBackend implements AutoCloseable {
    /** The body every response carries: 128 bytes. */
    public static final byte[] BODY = body();

    /** The size of the body under {@code /large}: 1 MiB. */
    public static final int LARGE_BODY_SIZE = 1 << 20;

    private static final ByteBuf KEEP_ALIVE = response(false, BODY);
    private static final ByteBuf CLOSE = response(true, BODY);
    private static final ByteBuf LARGE = response(false, largeBody());

    private final EventLoopGroup group;
    private final List<Channel> listeners = new ArrayList<>();

    private BenchBackend(EventLoopGroup group) {
        this.group = group;
    }

    /**
     * Listens on {@code port} of every address (port 0: a free port per address, see
     * {@link #addresses()}), with one event loop.
     */
    public static BenchBackend start(int port, List<String> addresses) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        Class<? extends ServerChannel> channel = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        BenchBackend backend = new BenchBackend(group);
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(channel)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpRequestDecoder(), new Responder());
                        }
                    });
            for (String address : addresses) {
                backend.listeners.add(bootstrap.bind(address, port).sync().channel());
            }
            return backend;
        } catch (RuntimeException | InterruptedException e) {
            backend.close();
            throw e;
        }
    }

    /** The addresses actually listened on, in the order given to {@link #start}. */
    public List<InetSocketAddress> addresses() {
        return listeners.stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
    }

    @Override
    public void close() {
        listeners.forEach(Channel::close);
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Answers each complete request; one flush per read. */
    private static final class Responder extends ChannelInboundHandlerAdapter {
        private boolean keepAlive = true;
        private boolean large;
        private boolean pending;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest req) {
                    keepAlive = HttpUtil.isKeepAlive(req);
                    large = req.uri().startsWith("/large");
                }
                if (msg instanceof LastHttpContent) {
                    if (keepAlive) {
                        ctx.write((large ? LARGE : KEEP_ALIVE).duplicate(), ctx.voidPromise());
                        pending = true;
                    } else {
                        ctx.writeAndFlush(CLOSE.duplicate()).addListener(ChannelFutureListener.CLOSE);
                        pending = false;
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (pending) {
                pending = false;
                ctx.flush();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static byte[] body() {
        byte[] b = new byte[128];
        Arrays.fill(b, (byte) 'x');
        b[127] = '\n';
        return b;
    }

    private static byte[] largeBody() {
        byte[] b = new byte[LARGE_BODY_SIZE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    private static ByteBuf response(boolean close, byte[] body) {
        String head = "HTTP/1.1 200 OK\r\n"
                + HttpHeaderNames.CONTENT_TYPE + ": " + HttpHeaderValues.TEXT_PLAIN + "\r\n"
                + HttpHeaderNames.CONTENT_LENGTH + ": " + body.length + "\r\n"
                + (close ? HttpHeaderNames.CONNECTION + ": " + HttpHeaderValues.CLOSE + "\r\n" : "")
                + "\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(all.length).writeBytes(all));
    }

    /** {@code BenchBackend PORT ADDRESS...}: runs until killed. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: BenchBackend PORT ADDRESS [ADDRESS...]");
            System.exit(2);
        }
        BenchBackend backend = start(Integer.parseInt(args[0]), List.of(args).subList(1, args.length));
        Runtime.getRuntime().addShutdownHook(new Thread(backend::close));
        System.out.println("bench backend listening on " + backend.addresses());
        Thread.currentThread().join();
    }
}
