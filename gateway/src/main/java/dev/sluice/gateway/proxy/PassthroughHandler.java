package dev.sluice.gateway.proxy;

import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.SimpleRequestView;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SSL passthrough on the HTTPS listener (SPEC §10.4): reads the SNI name of the ClientHello
 * without terminating TLS; when the live table pipes that name through
 * ({@code ssl-passthrough} with {@code --enable-ssl-passthrough}), the raw TLS stream goes to an
 * endpoint of the host's {@code /} backend and the client sees the backend's certificate; any
 * other name continues to the normal TLS termination unchanged.
 *
 * <p>Names compare exactly (lower-case, without a trailing dot), as ingress-nginx's TCP proxy
 * does: a wildcard host never passes through. The upstream connection is made on the client's
 * event loop; a connect failure tries the next endpoint, and when none is left the client
 * connection is closed (there is nothing it could read: no TLS was negotiated).
 */
final class PassthroughHandler extends AbstractSniHandler<Upstream> {
    private static final Logger log = LoggerFactory.getLogger(PassthroughHandler.class);

    private final RouteTableHolder routes;
    private final Class<? extends SocketChannel> channelClass;
    private final int connectTimeoutMillis;

    PassthroughHandler(RouteTableHolder routes, Class<? extends SocketChannel> channelClass, int connectTimeoutMillis) {
        this.routes = routes;
        this.channelClass = channelClass;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    @Override
    protected Future<Upstream> lookup(ChannelHandlerContext ctx, String hostname) {
        String name = hostname == null ? null : hostname.toLowerCase(Locale.ROOT);
        if (name != null && name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return ctx.executor().newSucceededFuture(routes.current().tls().passthrough(name));
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<Upstream> future) {
        Upstream upstream = future.getNow();
        if (upstream == null) {
            ctx.pipeline().remove(this); // the ClientHello goes on to the TLS handler
            return;
        }
        connect(ctx, upstream, new HashSet<>());
    }

    private void connect(ChannelHandlerContext ctx, Upstream upstream, Set<Endpoint> tried) {
        Endpoint ep = upstream.balancer().pick(SimpleRequestView.empty(), tried);
        if (ep == null || tried.contains(ep)) {
            log.debug("ssl passthrough to {}: no endpoint left, connection closed", upstream.name());
            ctx.close();
            return;
        }
        tried.add(ep);
        Channel client = ctx.channel();
        ChannelFuture cf = new Bootstrap().group(client.eventLoop()).channel(channelClass)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // the tunnel handler is added once the client side is switched over
                    }
                })
                .connect(UpstreamPool.resolve(ep));
        cf.addListener(f -> {
            if (!client.isActive()) {
                cf.channel().close();
                return;
            }
            if (!f.isSuccess()) {
                log.debug("ssl passthrough to {} {}: {}", upstream.name(), ep, f.cause().toString());
                connect(ctx, upstream, tried);
                return;
            }
            Channel up = cf.channel();
            up.pipeline().addLast("tunnel", new TunnelHandler(client, null));
            // bytes only from here on: the handlers of a terminated connection leave the pipeline
            // (no idle timeout either: ingress-nginx's TCP proxy has none)
            ChannelPipeline p = ctx.pipeline();
            for (String name : List.copyOf(p.names())) {
                if (p.context(name) != null && p.context(name) != ctx && !name.startsWith("DefaultChannelPipeline$")) {
                    p.remove(name);
                }
            }
            p.addLast("tunnel", new TunnelHandler(up, null));
            p.remove(this); // the buffered ClientHello flows on into the tunnel
            up.read();
        });
    }
}
