package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completes the pipeline of a TLS client connection once the handshake has chosen the protocol by
 * ALPN: {@code h2} gets the HTTP/2 handlers ({@link Http2Connection}), anything else (
 * {@code http/1.1}, or a client without ALPN) the HTTP/1.1 codec and a {@link ProxyHandler}.
 *
 * <p>Until then it stands in for the handlers that are not there yet: it asks for the first read
 * (the channel has {@code AUTO_READ} off and the TLS handler reads on by itself until the
 * handshake is done), and it keeps the PROXY protocol's {@link ProxyProtocolHandler.ClientAddress},
 * which arrives before the ClientHello, for whichever handlers are installed.
 */
final class AlpnHandler extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnHandler.class);

    private final ProxyChannelInitializer pipelines;
    private ProxyProtocolHandler.ClientAddress proxied;

    AlpnHandler(ProxyChannelInitializer pipelines) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.pipelines = pipelines;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.read(); // the ClientHello
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
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        ChannelPipeline p = ctx.pipeline();
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            pipelines.addHttp2(p, proxied);
            return;
        }
        pipelines.addHttp1(p, true);
        // the HTTP/1.1 handlers came after the connection opened: replay what they missed
        ctx.fireChannelActive();
        if (proxied != null) {
            ctx.fireUserEventTriggered(proxied);
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // before the handshake ends: a broken ClientHello or a reset connection
        log.debug("client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
