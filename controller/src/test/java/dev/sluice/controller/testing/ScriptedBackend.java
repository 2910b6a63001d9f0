package dev.sluice.controller.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A real HTTP/1.1 server on 127.0.0.1 whose answer to each request is computed by a script, and
 * which remembers every request it received (method, URI, headers, body): a stand-in Pod for tests
 * that need particular response headers or statuses.
 */
public final class ScriptedBackend implements AutoCloseable {

    /**
     * One request as received.
     *
     * @param headers lower-case names, first value of each
     */
    public record Received(String method, String uri, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    private final EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("scripted", true));
    private final Channel server;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    private ScriptedBackend(Function<Received, FullHttpResponse> script) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        Map<String, String> headers = new TreeMap<>();
                                        req.headers().forEach(h -> headers.putIfAbsent(
                                                h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue()));
                                        Received r = new Received(req.method().name(), req.uri(), headers,
                                                req.content().toString(StandardCharsets.UTF_8));
                                        received.add(r);
                                        FullHttpResponse resp = script.apply(r);
                                        HttpUtil.setContentLength(resp, resp.content().readableBytes());
                                        resp.headers().set(HttpHeaderNames.CONNECTION, "keep-alive");
                                        ctx.writeAndFlush(resp);
                                    }
                                });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    /** Starts a server answering with {@code script}. */
    public static ScriptedBackend start(Function<Received, FullHttpResponse> script) {
        try {
            return new ScriptedBackend(script);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The requests received so far, oldest first. */
    public List<Received> received() {
        return List.copyOf(received);
    }

    /** The last request received. */
    public Received last() {
        return received.get(received.size() - 1);
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }
}
