package dev.sluice.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Functional checks of the fixed-rate generator's report: the server here answers one connection
 * 120 ms late on purpose, far above the 50 ms mark; nothing asserts how fast anything else is.
 */
class FixedRateLoadTest {
    private final EventLoopGroup group = new NioEventLoopGroup(1);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void aConnectionHeldUpIsNamedFirstWithEveryOneOfItsRequests() throws Exception {
        // 20 req/s over 4 connections for 2 s after a 1 s warm-up: connection 0 carries 10 of the 40
        // recorded requests, each answered 120 ms late (it can serve 8 a second, so no backlog grows).
        // Other connections may have a slow request on a loaded machine, never all ten of theirs.
        URI url = serverDelayingFirstConnectionBy(120);
        String line = FixedRateLoad.measure(url, "bench.example.com", 20, 2, 4, 1);
        assertThat(line).startsWith("rate=20 sent=40 ok=40 errors=0 ").contains(" slowest=0:10:")
                .containsPattern(" lag_max_ms=\\d+\\.\\d{3} ");
        // connection 0's slow requests by second of their intended send: five in the warm-up's one
        // second (-1), then five in each of the recording's two
        Matcher bySecond = Pattern.compile(" recorded_from=[0-9:.]+ slow_s=-1:(\\d+),0:(\\d+),1:(\\d+)$").matcher(line);
        assertThat(bySecond.find()).as(line).isTrue();
        for (int group = 1; group <= 3; group++) {
            assertThat(Integer.parseInt(bySecond.group(group))).as(line).isGreaterThanOrEqualTo(5);
        }
    }

    /** An HTTP/1.1 server answering 200 at once, except on the first connection it accepts. */
    private URI serverDelayingFirstConnectionBy(long millis) throws InterruptedException {
        AtomicInteger accepted = new AtomicInteger();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        long delay = accepted.getAndIncrement() == 0 ? millis : 0;
                        ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof LastHttpContent) {
                                    FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                            HttpResponseStatus.OK, Unpooled.wrappedBuffer(new byte[] {'o', 'k'}));
                                    ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2);
                                    ctx.executor().schedule(() -> ctx.writeAndFlush(ok), delay, TimeUnit.MILLISECONDS);
                                }
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        return URI.create("http://127.0.0.1:" + address.getPort() + "/");
    }
}
