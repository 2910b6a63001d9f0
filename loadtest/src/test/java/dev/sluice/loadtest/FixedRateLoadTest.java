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

    @Test
    void aBacklogLeftByTheWarmUpIsWaitedOutNotRecorded() throws Exception {
        // 20 req/s over 4 connections: each connection gets a request every 200 ms, and the server
        // holds every request it receives in its first 1.5 s for 600 ms, so by the end of the 1 s
        // warm-up each connection has a queue that clears only at ~1.8 s. Recorded from the schedule's
        // 1 s mark, the first recorded requests would carry 800 ms of that backlog.
        URI url = serverHoldingEarlyRequests(1500, 600);
        String line = FixedRateLoad.measure(url, "bench.example.com", 20, 1, 4, 1);
        assertThat(line).startsWith("rate=20 sent=20 ok=20 errors=0 ");
        assertThat(value(line, "drain_ms")).as(line).isGreaterThanOrEqualTo(500);
        assertThat(value(line, "max_ms")).as(line).isLessThan(600);
    }

    private static double value(String line, String key) {
        Matcher m = Pattern.compile(" " + key + "=([0-9.]+)").matcher(line);
        assertThat(m.find()).as(line).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** An HTTP/1.1 server that answers requests received in its first {@code windowMillis} late. */
    private URI serverHoldingEarlyRequests(long windowMillis, long holdMillis) throws InterruptedException {
        long started = System.nanoTime();
        return server((connection, received) ->
                received - started < TimeUnit.MILLISECONDS.toNanos(windowMillis) ? holdMillis : 0);
    }

    /** An HTTP/1.1 server answering 200 at once, except on the first connection it accepts. */
    private URI serverDelayingFirstConnectionBy(long millis) throws InterruptedException {
        return server((connection, received) -> connection == 0 ? millis : 0);
    }

    /** How late a test server answers a request. */
    private interface Delay {
        /** Milliseconds to wait before answering a request received at {@code receivedNanos} on the n-th connection. */
        long millis(int connection, long receivedNanos);
    }

    /** An HTTP/1.1 server answering every request 200 with a 2-byte body, as late as {@code delay} says. */
    private URI server(Delay delay) throws InterruptedException {
        AtomicInteger accepted = new AtomicInteger();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int connection = accepted.getAndIncrement();
                        ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof LastHttpContent) {
                                    FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                            HttpResponseStatus.OK, Unpooled.wrappedBuffer(new byte[] {'o', 'k'}));
                                    ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2);
                                    ctx.executor().schedule(() -> ctx.writeAndFlush(ok),
                                            delay.millis(connection, System.nanoTime()), TimeUnit.MILLISECONDS);
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
