package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.util.List;

/**
 * h2c with prior knowledge on the plain HTTP listener ({@code --enable-h2c}): a connection whose
 * first bytes are the HTTP/2 client preface ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}) gets the
 * HTTP/2 handlers, any other the HTTP/1.1 ones. Decided on the first bytes that differ from the
 * preface, so an HTTP/1.1 request is never delayed waiting for 24 bytes; the bytes read so far
 * flow on to whichever handlers were installed.
 *
 * <p>Off by default, as ingress-nginx offers no h2c; the {@code h2c} upgrade header
 * ({@code Upgrade: h2c}) is not honoured (RFC 9113 deprecates it).
 */
final class PriorKnowledgeHandler extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final ProxyChannelInitializer pipelines;
    private ProxyProtocolHandler.ClientAddress proxied;

    PriorKnowledgeHandler(ProxyChannelInitializer pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.read(); // the first bytes decide (AUTO_READ is off)
        super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ProxyProtocolHandler.ClientAddress address) {
            proxied = address; // handed on once the protocol's handlers exist
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
        boolean matches = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), n);
        ChannelPipeline p = ctx.pipeline();
        if (matches && n < PREFACE.readableBytes()) {
            ctx.read(); // a prefix of the preface so far: wait for more
            return;
        }
        if (matches) {
            Http2Connection.install(p, pipelines.server(), false, proxied, pipelines.clientBodyTimeoutNanos());
        } else {
            pipelines.addHttp1(p, false);
            // the HTTP/1.1 handlers came after the connection opened: replay what they missed
            ctx.fireChannelActive();
            if (proxied != null) {
                ctx.fireUserEventTriggered(proxied);
            }
        }
        p.remove(this); // what was read flows on to the handlers just installed
    }
}
