package dev.sluice.gateway.proxy;

import dev.sluice.gateway.observe.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the client address from the PROXY protocol header (v1 or v2) that a load balancer puts
 * in front of every connection, and closes connections whose header is malformed, missing or late.
 *
 * <p>It sits right behind Netty's {@link HAProxyMessageDecoder}, before TLS and HTTP:
 * {@code idle → proxy-protocol (decoder) → proxy-protocol-source (this) → [tls] → http → proxy}.
 * The decoder removes itself after the header and hands the bytes that followed to the rest of
 * the pipeline, so TLS and HTTP only ever see what came after the header. This handler tells
 * {@link ProxyHandler} (the one place that says who the client is) the address with a
 * {@link ClientAddress} event, before any of those bytes, then removes itself too.
 *
 * <p>{@code PROXY UNKNOWN} (v1), the v2 {@code LOCAL} command (the balancer's own health checks)
 * and address families other than IPv4/IPv6 keep the TCP peer, as NGINX does. A bad header
 * closes the connection without an HTTP answer: the bytes are not HTTP from a known client, and
 * NGINX (ingress-nginx's {@code listen … proxy_protocol}) drops such connections too.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyProtocolHandler.class);

    /**
     * TLV bytes a v2 header may carry. Balancers send a few small ones (AWS VPC endpoint id, Azure
     * link id, TLS facts); the decoder's default of 64 KiB would let every connection buffer that
     * much before it has said who it is. NGINX accepts headers of up to 4 KiB
     * ({@code NGX_PROXY_PROTOCOL_MAX_HEADER}).
     */
    static final int MAX_TLV_BYTES = 4096;

    /**
     * User event sent down the pipeline when the header names the client.
     *
     * @param address the client's address from the header
     */
    record ClientAddress(InetAddress address) {}

    private final ProxyMetrics metrics;
    private boolean headerDone;
    private boolean bytesAfterHeader;
    private boolean rejected;

    ProxyProtocolHandler(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    /** A new decoder for one connection (it keeps per-connection state and is not sharable). */
    static HAProxyMessageDecoder newDecoder() {
        return new HAProxyMessageDecoder(MAX_TLV_BYTES);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                InetAddress source = sourceOf(header);
                headerDone = true;
                if (source != null) {
                    ctx.fireUserEventTriggered(new ClientAddress(source));
                }
            } finally {
                header.release();
            }
            return;
        }
        if (headerDone && msg instanceof ByteBuf) {
            bytesAfterHeader = true; // what followed the header, handed on by the removed decoder
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (headerDone) {
            // The header came alone (the client waits for nothing, but the segment ended there):
            // nobody behind us has bytes to ask for more with, and AUTO_READ is off.
            if (!bytesAfterHeader) {
                ctx.read();
            }
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!headerDone && evt instanceof IdleStateEvent idle && idle.state() == IdleState.ALL_IDLE) {
            metrics.proxyProtocolTimeout();
            log.debug("no PROXY protocol header from {} before the keep-alive timeout", ctx.channel().remoteAddress());
            ReferenceCountUtil.release(evt);
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (headerDone) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (rejected) {
            // The decoder keeps decoding what is left in its buffer as the closed connection
            // goes inactive, and fails on each further line: one connection, one count.
            return;
        }
        rejected = true;
        metrics.proxyProtocolInvalid();
        log.debug("bad PROXY protocol header from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close(); // the decoder has closed it already; this makes sure whatever the cause
    }

    /**
     * The client address a header names, or {@code null} to keep the TCP peer: {@code LOCAL},
     * {@code UNKNOWN}, and UNIX-socket sources carry no client IP.
     */
    static InetAddress sourceOf(HAProxyMessage header) {
        if (header.command() != HAProxyCommand.PROXY) {
            return null;
        }
        HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
        if (family != HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                && family != HAProxyProxiedProtocol.AddressFamily.AF_IPv6) {
            return null;
        }
        // the decoder has validated the address for its family, so this never resolves a name
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(header.sourceAddress());
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null; // cannot happen for 4 or 16 bytes
        }
    }
}
