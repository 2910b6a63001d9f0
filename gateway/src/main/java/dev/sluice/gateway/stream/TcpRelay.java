package dev.sluice.gateway.stream;

import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays one accepted TCP connection to an endpoint of its service, byte for byte, on the client
 * connection's event loop (no cross-thread hand-off, so no volatile state here).
 *
 * <p>Back-pressure as the HTTP proxy does it: both channels have {@code AUTO_READ} off and each
 * side reads again only once the bytes it read have been written to the other side. A connect
 * failure tries the next endpoint in the rotation, each at most once. Half-close is relayed: a FIN
 * from one side shuts the output of the other once its pending bytes are written, and the
 * connection closes when both sides have finished sending; a close or reset of either side closes
 * the other. With {@code proxyProtocolIn} the client's PROXY header (decoded before this handler)
 * names the client; with {@code proxyProtocolOut} a v1 header naming it precedes the relayed bytes.
 */
final class TcpRelay extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);

    private final StreamListener listener;
    private final StreamService service;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private Channel client;
    private Channel upstream;
    private SocketAddress clientAddress;
    private SocketAddress serverAddress;
    private boolean connecting;
    private boolean clientInputShut;
    private int attempts;

    /**
     * @param service the service as it was when the connection was accepted: a later table changes
     *                only new connections
     */
    TcpRelay(StreamListener listener, StreamService service) {
        this.listener = listener;
        this.service = service;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        clientAddress = client.remoteAddress();
        serverAddress = client.localAddress();
        listener.accepted();
        if (service.endpoints().isEmpty()) {
            // the port stays open while the Service has no ready endpoints; the client learns at once
            listener.rejected("no_endpoints");
            ctx.close();
            return;
        }
        if (service.proxyProtocolIn()) {
            ctx.read(); // the decoder before this handler wants the header before anything else
        } else {
            connect();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                if (header.command() == HAProxyCommand.PROXY) {
                    clientAddress = address(header.sourceAddress(), header.sourcePort(), clientAddress);
                    serverAddress = address(header.destinationAddress(), header.destinationPort(), serverAddress);
                }
            } finally {
                header.release();
            }
            if (!connecting) {
                connect();
            }
            return;
        }
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (upstream == null) {
            pending.add(bytes); // at most one read's worth: nothing reads again until connected
            return;
        }
        upstream.writeAndFlush(bytes).addListener(readAgainOrClose(client));
    }

    private static SocketAddress address(String ip, int port, SocketAddress fallback) {
        InetAddress a = ip == null ? null : NetUtil.createInetAddressFromIpAddressString(ip);
        return a == null ? fallback : new InetSocketAddress(a, port);
    }

    private void connect() {
        connecting = true;
        Endpoint endpoint = listener.next(service);
        new Bootstrap()
                .group(client.eventLoop())
                .channel(listener.channels().socket())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) StreamServer.CONNECT_TIMEOUT.toMillis())
                .handler(new UpstreamSide())
                .connect(new InetSocketAddress(endpoint.address(), endpoint.port()))
                .addListener((ChannelFuture f) -> connected(f, endpoint));
    }

    private void connected(ChannelFuture f, Endpoint endpoint) {
        if (!f.isSuccess()) {
            attempts++;
            log.debug("{}: connect to {} failed: {}", service.key(), endpoint, f.cause().toString());
            if (client.isActive() && attempts < service.endpoints().size()) {
                connect(); // the next endpoint of the rotation
            } else {
                listener.rejected("connect_failed");
                client.close();
            }
            return;
        }
        Channel ch = f.channel();
        if (!client.isActive()) {
            ch.close();
            return;
        }
        upstream = ch;
        if (service.proxyProtocolOut()) {
            ch.write(Unpooled.copiedBuffer(ProxyHeader.v1(clientAddress, serverAddress), StandardCharsets.US_ASCII));
        }
        while (!pending.isEmpty()) {
            ch.write(pending.poll());
        }
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture w) -> {
            if (!w.isSuccess()) {
                closeBoth();
                return;
            }
            ch.read();
            if (clientInputShut) {
                halfClosed(client, ch);
            } else {
                client.read();
            }
        });
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (upstream != null) {
                halfClosed(client, upstream);
            } else if (connecting) {
                clientInputShut = true; // relayed once the upstream is connected
            } else {
                ctx.close(); // FIN before a PROXY header: nothing to relay
            }
        } else if (evt instanceof IdleStateEvent) {
            log.debug("{}: idle connection from {} closed", service.key(), clientAddress);
            closeBoth();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        while (!pending.isEmpty()) {
            pending.poll().release();
        }
        if (upstream != null) {
            closeOnFlush(upstream);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset, or a client that sent no valid PROXY header where one is required
        log.debug("{}: client connection from {} failed: {}", service.key(), clientAddress, cause.toString());
        closeBoth();
    }

    private void closeBoth() {
        client.close();
        if (upstream != null) {
            upstream.close();
        }
    }

    /**
     * {@code from} finished sending: once what it sent is written, {@code to} gets a FIN too; when
     * both sides have finished, the connection is done.
     */
    private void halfClosed(Channel from, Channel to) {
        to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture f) -> {
            if (!f.isSuccess() || !(to instanceof DuplexChannel d)) {
                closeBoth();
                return;
            }
            d.shutdownOutput().addListener(s -> {
                if (((DuplexChannel) from).isInputShutdown() && d.isInputShutdown()) {
                    closeBoth();
                }
            });
        });
    }

    private static ChannelFutureListener readAgainOrClose(Channel source) {
        return f -> {
            if (f.isSuccess()) {
                source.read();
            } else {
                f.channel().close();
                source.close();
            }
        };
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The endpoint's side of the relay. */
    private final class UpstreamSide extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            client.writeAndFlush(msg).addListener(readAgainOrClose(ctx.channel()));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                halfClosed(ctx.channel(), client);
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeOnFlush(client);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: upstream connection failed: {}", service.key(), cause.toString());
            closeBoth();
        }
    }
}
