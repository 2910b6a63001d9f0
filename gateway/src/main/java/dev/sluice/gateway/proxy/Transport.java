package dev.sluice.gateway.proxy;

import dev.sluice.gateway.stream.StreamChannels;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The socket implementation: Linux io_uring, Linux epoll or Java NIO. Client and upstream channels
 * share event loops, so both must come from the same transport; so do the TCP and UDP channels of
 * the stream ports.
 *
 * <p>{@code auto} takes the first that works here in the order io_uring, epoll, NIO. io_uring
 * (batched submissions, completions without a readiness round trip) cost 22–26 % less CPU per
 * proxied request than epoll here (docs/benchmarks.md, round 9); it is missing on old kernels
 * and often blocked by container seccomp profiles, and then epoll is used (off Linux, NIO).
 * The suite runs on what {@code auto} picks ({@code -Dsluice.transport=epoll} in Surefire's
 * {@code argLine} runs it on another); {@code TransportTest} runs every transport.
 */
record Transport(String name,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> socketChannel,
        Class<? extends DatagramChannel> datagramChannel,
        Supplier<IoHandlerFactory> ioHandlers) {

    /** The values {@code --transport} accepts. */
    static final String CHOICES = "auto, io_uring, epoll, nio";

    private static final Transport IO_URING = new Transport("io_uring", IoUringServerSocketChannel.class,
            IoUringSocketChannel.class, IoUringDatagramChannel.class, IoUringIoHandler::newFactory);
    private static final Transport EPOLL = new Transport("epoll", EpollServerSocketChannel.class,
            EpollSocketChannel.class, EpollDatagramChannel.class, EpollIoHandler::newFactory);
    private static final Transport NIO = new Transport("nio", NioServerSocketChannel.class, NioSocketChannel.class,
            NioDatagramChannel.class, NioIoHandler::newFactory);

    /**
     * The transport {@code choice} names ({@code auto}, {@code io_uring}, {@code epoll}, {@code nio};
     * {@code null} is {@code auto}, as is an unset {@code -Dsluice.transport}).
     *
     * @throws IllegalArgumentException if the choice is unknown or names a transport that cannot run
     *                                  here (with the reason the native library gave)
     */
    static Transport select(String choice) {
        String name = choice == null ? System.getProperty("sluice.transport", "auto") : choice;
        switch (name.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "auto":
                return IoUring.isAvailable() ? IO_URING : Epoll.isAvailable() ? EPOLL : NIO;
            case "io_uring":
            case "iouring":
                if (!IoUring.isAvailable()) {
                    throw new IllegalArgumentException("io_uring is not available here: " + IoUring.unavailabilityCause());
                }
                return IO_URING;
            case "epoll":
                if (!Epoll.isAvailable()) {
                    throw new IllegalArgumentException("epoll is not available here: " + Epoll.unavailabilityCause());
                }
                return EPOLL;
            case "nio":
                return NIO;
            default:
                throw new IllegalArgumentException("unknown transport '" + name + "' (expected one of " + CHOICES + ")");
        }
    }

    /** The default choice: {@code auto} unless {@code -Dsluice.transport} says otherwise. */
    static Transport detect() {
        return select(null);
    }

    /** Every transport this JVM can run: NIO, then epoll and io_uring where they load (tests run once per transport). */
    static java.util.List<Transport> available() {
        java.util.List<Transport> all = new java.util.ArrayList<>(java.util.List.of(NIO));
        if (Epoll.isAvailable()) {
            all.add(EPOLL);
        }
        if (IoUring.isAvailable()) {
            all.add(IO_URING);
        }
        return java.util.List.copyOf(all);
    }

    /**
     * The transport of the TCP/UDP stream ports: this one, except NIO for epoll. Netty 4.2.18's
     * epoll takes a socket out of its epoll set once it waits for nothing (as a half-closed client
     * connection does while no answer is pending) without noting it, so the next wait, for a slow
     * client to take more of the answer, fails ({@code epoll_ctl}: no such file) and the relay
     * shuts the connection with the rest of the answer lost. Stream relays live on half-closes;
     * the HTTP proxy does not half-close and stays on epoll.
     */
    Transport forStreams() {
        return this == EPOLL ? NIO : this;
    }

    /** The channel classes the stream ports use, so they share the proxy's event loops. */
    StreamChannels streamChannels() {
        return new StreamChannels(serverChannel, socketChannel, datagramChannel);
    }

    EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("sluice-loop", false), ioHandlers.get());
    }
}
