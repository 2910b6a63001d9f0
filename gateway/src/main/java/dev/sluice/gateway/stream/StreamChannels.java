package dev.sluice.gateway.stream;

import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import java.util.Objects;

/**
 * The channel classes of the transport the HTTP proxy runs on (epoll or NIO), so stream listeners
 * and their upstream connections can share its event loops.
 *
 * @param server   TCP listener channels
 * @param socket   TCP connections to endpoints
 * @param datagram UDP listener and session channels
 */
public record StreamChannels(Class<? extends ServerChannel> server, Class<? extends SocketChannel> socket,
        Class<? extends DatagramChannel> datagram) {
    public StreamChannels {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(datagram, "datagram");
    }
}
