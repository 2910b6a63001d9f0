package dev.sluice.gateway.stream;

import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannelRecvByteBufAllocator;

/**
 * How a listening socket accepts: every pending connection (up to {@link #MAX_PER_TURN}) each time
 * the event loop finds it readable, as NGINX's {@code multi_accept on} (ingress-nginx's default).
 *
 * <p>Netty 4.2's default for server channels accepts <em>one</em> connection per event-loop turn.
 * On a busy loop a turn takes milliseconds (it serves every ready connection first), so a burst
 * of new connections waited in the kernel's accept queue: measured here, 256 connections opened at
 * once under load took ~3 s to be accepted (~80 per second), and their first requests showed as a
 * 0.2–2 s latency tail and client time-outs while the loop itself was half idle.
 */
public final class MultiAccept {
    /** Bounds one turn's accepting, so that a flood of connections cannot starve the others. */
    public static final int MAX_PER_TURN = 256;

    private MultiAccept() {}

    /** The allocator for {@code ChannelOption.RCVBUF_ALLOCATOR} of a listening channel. */
    public static RecvByteBufAllocator allocator() {
        ServerChannelRecvByteBufAllocator a = new ServerChannelRecvByteBufAllocator();
        a.maxMessagesPerRead(MAX_PER_TURN);
        // epoll's "maybe more data" check compares the accepted fd with 1 and stops after the first
        // accept; the loop ends by itself when accept finds nothing pending
        a.respectMaybeMoreData(false);
        return a;
    }
}
