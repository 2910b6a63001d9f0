package dev.sluice.gateway.proxy;

import dev.sluice.gateway.stream.StreamChannels;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket implementation: Linux native epoll when its library loads, Java NIO otherwise.
 * Client and upstream channels share event loops, so both must come from the same transport; so do
 * the TCP and UDP channels of the stream ports.
 */
record Transport(String name,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        Class<? extends DatagramChannel> datagramChannel) {

    private static final Transport EPOLL = new Transport("epoll", EpollServerSocketChannel.class,
            EpollSocketChannel.class, EpollDatagramChannel.class);
    private static final Transport NIO = new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class,
            NioDatagramChannel.class);

    /** Epoll if available (and not disabled with {@code -Dsluice.transport=nio}), else NIO. */
    static Transport detect() {
        if (!"nio".equals(System.getProperty("sluice.transport")) && Epoll.isAvailable()) {
            return EPOLL;
        }
        return NIO;
    }

    /** Every transport this JVM can run: NIO, and epoll where its native library loads (tests run once per transport). */
    static java.util.List<Transport> available() {
        return Epoll.isAvailable() ? java.util.List.of(NIO, EPOLL) : java.util.List.of(NIO);
    }

    /** The channel classes the stream ports use, so they share the proxy's event loops. */
    StreamChannels streamChannels() {
        return new StreamChannels(serverChannel, socketChannel, datagramChannel);
    }

    EventLoopGroup newGroup(int threads) {
        DefaultThreadFactory threadFactory = new DefaultThreadFactory("sluice-loop", false);
        return this == EPOLL ? new EpollEventLoopGroup(threads, threadFactory) : new NioEventLoopGroup(threads, threadFactory);
    }
}
