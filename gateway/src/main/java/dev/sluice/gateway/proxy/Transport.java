package dev.sluice.gateway.proxy;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket implementation: Linux native epoll when its library loads, Java NIO otherwise.
 * Client and upstream channels share event loops, so both must come from the same transport.
 */
record Transport(String name,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel) {

    private static final Transport EPOLL = new Transport("epoll", EpollServerSocketChannel.class, EpollSocketChannel.class);
    private static final Transport NIO = new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class);

    /** Epoll if available (and not disabled with {@code -Dsluice.transport=nio}), else NIO. */
    static Transport detect() {
        if (!"nio".equals(System.getProperty("sluice.transport")) && Epoll.isAvailable()) {
            return EPOLL;
        }
        return NIO;
    }

    EventLoopGroup newGroup(int threads) {
        DefaultThreadFactory threadFactory = new DefaultThreadFactory("sluice-loop", false);
        return this == EPOLL ? new EpollEventLoopGroup(threads, threadFactory) : new NioEventLoopGroup(threads, threadFactory);
    }
}
