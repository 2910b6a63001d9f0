package dev.sluice.gateway.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.List;

/**
 * Sits between a client stream's {@code Http2StreamFrameToHttpObjectCodec} and its
 * {@link ProxyHandler} and smooths the two differences the proxy must not see:
 *
 * <ul>
 *   <li>Requests: the codec's bookkeeping headers ({@code x-http2-scheme},
 *       {@code x-http2-stream-id}, …) never reach an upstream; a {@code Host} header the client
 *       sent beside {@code :authority} (which the codec turns into {@code Host}) is dropped when
 *       it repeats the same name, so it does not count as a duplicate Host (RFC 9113 §8.3.1:
 *       {@code :authority} wins; different values stay and get 400).</li>
 *   <li>Responses: a response without body or trailers (a 204, a HEAD, a gRPC "trailers-only"
 *       answer) goes out as one HEADERS frame with END_STREAM, not HEADERS and an empty DATA
 *       frame: gRPC clients read {@code grpc-status} in a trailers-only response only so. The
 *       head is held until the next write or flush to see whether a body follows.</li>
 * </ul>
 *
 * <p>Confined to the stream's event loop.
 */
final class ClientStreamAdapter extends ChannelDuplexHandler {
    private HttpResponse heldHead;
    private ChannelPromise heldPromise;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            HttpHeaders headers = request.headers();
            removeExtensionHeaders(headers);
            List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
            if (hosts.size() > 1 && hosts.stream().allMatch(h -> h.equalsIgnoreCase(hosts.get(0)))) {
                headers.set(HttpHeaderNames.HOST, hosts.get(0));
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Drops the {@code x-http2-*} headers Netty's HTTP/2 ↔ HTTP/1 conversion adds. */
    static void removeExtensionHeaders(HttpHeaders headers) {
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
            headers.remove(name.text());
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (heldHead != null) {
            HttpResponse head = heldHead;
            ChannelPromise headPromise = heldPromise;
            heldHead = null;
            heldPromise = null;
            if (msg instanceof LastHttpContent last && !(msg instanceof HttpMessage)
                    && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                FullHttpResponse whole = new DefaultFullHttpResponse(head.protocolVersion(), head.status(),
                        Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE);
                ctx.write(whole).addListener(f -> {
                    if (f.isSuccess()) {
                        headPromise.trySuccess();
                        promise.trySuccess();
                    } else {
                        headPromise.tryFailure(f.cause());
                        promise.tryFailure(f.cause());
                    }
                });
                return;
            }
            ctx.write(head, headPromise);
        }
        if (msg instanceof HttpResponse r && !(msg instanceof FullHttpResponse) && r.status().code() >= 200) {
            heldHead = r;
            heldPromise = promise;
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (heldHead != null) {
            ctx.write(heldHead, heldPromise);
            heldHead = null;
            heldPromise = null;
        }
        ctx.flush();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (heldPromise != null) {
            heldPromise.tryFailure(new java.nio.channels.ClosedChannelException());
            heldHead = null;
            heldPromise = null;
        }
    }
}
