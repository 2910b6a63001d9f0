package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

/**
 * Sits between an upstream stream's {@code Http2StreamFrameToHttpObjectCodec} and its
 * {@link UpstreamHandler}, so that the {@link ProxyExchange} sees the same messages as from an
 * HTTP/1.1 upstream:
 *
 * <ul>
 *   <li>The request head becomes a HEADERS frame with {@code :authority} from {@code Host}
 *       (Netty's conversion takes it only from an absolute request target) and {@code :scheme}
 *       from the connection.</li>
 *   <li>A response that arrives whole (HEADERS with END_STREAM: a 204, a gRPC trailers-only
 *       answer) is split into its head and a last content, as the HTTP/1.1 decoder delivers it;
 *       the codec's {@code x-http2-*} headers are dropped.</li>
 * </ul>
 */
final class UpstreamStreamAdapter extends ChannelDuplexHandler {
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private final boolean tls;

    UpstreamStreamAdapter(boolean tls) {
        this.tls = tls;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpRequest request && !(msg instanceof HttpContent)) {
            request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), tls ? HTTPS : HTTP);
            Http2Headers headers = HttpConversionUtil.toHttp2Headers(request, false);
            String host = request.headers().get(HttpHeaderNames.HOST);
            if (host != null) {
                headers.authority(host);
            }
            ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse response) {
            ClientStreamAdapter.removeExtensionHeaders(response.headers());
            if (msg instanceof FullHttpResponse whole) {
                ctx.fireChannelRead(new DefaultHttpResponse(whole.protocolVersion(), whole.status(), whole.headers()));
                ctx.fireChannelRead(new DefaultLastHttpContent(whole.content(), whole.trailingHeaders()));
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}
