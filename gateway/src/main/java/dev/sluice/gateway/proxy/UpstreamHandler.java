package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of an upstream connection: hands the decoded response to the
 * {@link Owner} of the connection (a {@link ProxyExchange}, or a {@link MirrorCopy}), or, while the connection sits idle in its
 * {@link UpstreamPool}, closes it on anything unexpected.
 *
 * <p>All fields are confined to the connection's event loop, which is also the loop of the
 * client connection using it, so none needs to be volatile.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(UpstreamHandler.class);

    /** Who uses the connection while it is out of the pool: a {@link ProxyExchange} or a {@link MirrorCopy}. */
    interface Owner {
        void onUpstreamMessage(UpstreamHandler from, Object msg);

        void onUpstreamReadComplete(UpstreamHandler from);

        void onUpstreamClosed(UpstreamHandler from);
    }

    private final Upstreams pool;
    private final UpstreamKey key;
    private Owner owner;
    private Throwable lastError;

    UpstreamHandler(Upstreams pool, UpstreamKey key) {
        this.pool = pool;
        this.key = key;
    }

    UpstreamKey key() {
        return key;
    }

    void attach(Owner exchange) {
        owner = exchange;
    }

    void detach() {
        owner = null;
    }

    /** The last exception seen on this connection, for log messages. */
    Throwable lastError() {
        return lastError;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Owner o = owner;
        if (o != null) {
            o.onUpstreamMessage(this, msg);
        } else {
            // an idle keep-alive connection must not send anything
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Owner o = owner;
        if (o != null) {
            o.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Owner o = owner;
        if (o != null) {
            o.onUpstreamClosed(this);
        } else {
            pool.remove(key, ctx.channel());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && owner == null) {
            ctx.close(); // idle in the pool for too long
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        lastError = cause;
        log.debug("upstream {}: {}", key, cause.toString());
        ctx.close();
    }
}
