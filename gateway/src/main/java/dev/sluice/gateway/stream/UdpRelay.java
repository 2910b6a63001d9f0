package dev.sluice.gateway.stream;

import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays the datagrams of one UDP port: each client address gets a session, a connected datagram
 * channel to one endpoint (picked round robin when the session opens), so a client's datagrams
 * all go to the same endpoint and the endpoint's replies go back to that client from the service
 * port. A session ends after {@code idleTimeout} without a datagram either way, or when the
 * endpoint is unreachable (ICMP), so the client's next datagram picks an endpoint again. At most
 * {@code maxSessions} sessions exist per port; datagrams of further clients are dropped.
 *
 * <p>Runs on the listener's event loop, which also runs every session channel, so the session map
 * needs no lock.
 */
final class UdpRelay extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(UdpRelay.class);

    private final StreamListener listener;
    private final Duration idleTimeout;
    private final int maxSessions;
    private final Map<InetSocketAddress, ChannelFuture> sessions = new HashMap<>();

    UdpRelay(StreamListener listener, Duration idleTimeout, int maxSessions) {
        this.listener = listener;
        this.idleTimeout = idleTimeout;
        this.maxSessions = maxSessions;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        InetSocketAddress client = packet.sender();
        ChannelFuture session = sessions.get(client);
        if (session == null) {
            session = open(ctx.channel(), client);
            if (session == null) {
                return;
            }
        }
        ByteBuf content = packet.content().retain();
        if (session.isDone()) {
            send(session, content);
        } else {
            ChannelFuture s = session;
            s.addListener(f -> send(s, content)); // listeners run in order: datagrams keep theirs
        }
    }

    private static void send(ChannelFuture session, ByteBuf content) {
        if (session.isSuccess() && session.channel().isActive()) {
            session.channel().writeAndFlush(content);
        } else {
            content.release();
        }
    }

    private ChannelFuture open(Channel server, InetSocketAddress client) {
        StreamService service = listener.service();
        if (service.endpoints().isEmpty()) {
            listener.rejected("no_endpoints");
            return null;
        }
        if (sessions.size() >= maxSessions) {
            listener.rejected("session_limit");
            return null;
        }
        Endpoint endpoint = listener.next(service);
        ChannelFuture session = new Bootstrap()
                .group(server.eventLoop())
                .channel(listener.channels().datagram())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast(new Replies(server, client));
                    }
                })
                .connect(new InetSocketAddress(endpoint.address(), endpoint.port()));
        sessions.put(client, session);
        session.channel().closeFuture().addListener(f -> sessions.remove(client, session));
        listener.accepted();
        return session;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (ChannelFuture s : new ArrayList<>(sessions.values())) {
            s.channel().close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a failed send to one client must not close the port for every other client
        log.debug("{}: {}", listener.service().key(), cause.toString());
    }

    /** One session's replies, sent back to its client from the service port. */
    private final class Replies extends ChannelInboundHandlerAdapter {
        private final Channel server;
        private final InetSocketAddress client;

        Replies(Channel server, InetSocketAddress client) {
            this.server = server;
            this.client = client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf content = msg instanceof DatagramPacket p ? p.content() : msg instanceof ByteBuf b ? b : null;
            if (content == null || !server.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            server.writeAndFlush(new DatagramPacket(content, client));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // typically PortUnreachableException: nothing listens at the endpoint any more
            log.debug("{}: session of {} failed: {}", listener.service().key(), client, cause.toString());
            ctx.close();
        }
    }
}
