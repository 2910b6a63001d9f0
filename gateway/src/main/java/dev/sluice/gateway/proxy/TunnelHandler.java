package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One direction of a connection that switched protocols (a WebSocket or any HTTP/1.1
 * {@code Upgrade} answered with 101): bytes read here are written to the peer as they are, and
 * the next read waits until that write is done, so a slow side slows the other down instead of
 * filling memory. Either side closing, failing or staying idle past the timeout (an
 * {@code IdleStateEvent} from the pipeline) closes both.
 */
final class TunnelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TunnelHandler.class);

    private final Channel peer;
    private final Runnable onClose;
    private boolean closed;

    /**
     * @param peer    the other connection of the tunnel
     * @param onClose run once when this side closes (e.g. to give back a connection-limit slot),
     *                or {@code null}
     */
    TunnelHandler(Channel peer, Runnable onClose) {
        this.peer = peer;
        this.onClose = onClose;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg); // the empty end of the 101 response
            return;
        }
        if (!buf.isReadable()) {
            buf.release();
            return;
        }
        peer.writeAndFlush(buf).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                ctx.channel().read();
            } else {
                closeBoth(ctx);
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeBoth(ctx);
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.debug("tunnel {} idle past its timeout, closed", ctx.channel());
            closeBoth(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            log.debug("tunnel {}: {}", ctx.channel(), cause.toString());
        }
        closeBoth(ctx);
    }

    private void closeBoth(ChannelHandlerContext ctx) {
        if (closed) {
            return;
        }
        closed = true;
        if (onClose != null) {
            onClose.run();
        }
        ctx.close();
        // whatever is still queued for the peer goes out first
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
}
