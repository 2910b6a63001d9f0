package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.TransferEncodingNotAllowedException;
import java.util.List;

/**
 * The checks of a request head before it is routed, with NGINX's answers: a head the decoder
 * could not read (400, 414 for a long request line, 431 for long headers), a duplicate
 * {@code Host} or an HTTP/1.1 request without one (400, "client sent duplicate host header"),
 * and a {@code Transfer-Encoding} other than a single {@code chunked} (501, "client sent unknown
 * Transfer-Encoding").
 */
final class RequestChecks {
    private RequestChecks() {
    }

    /**
     * The status to reject {@code request} with, or {@code 0} when it may be routed (an int, not
     * a nullable Integer: this runs for every request).
     */
    static int rejection(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            return cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongHttpHeaderException ? 431
                    // NGINX: "client sent unknown Transfer-Encoding"; Netty 4.2 rejects a final coding
                    // other than chunked (RFC 9112) while decoding
                    : cause instanceof TransferEncodingNotAllowedException
                            || (cause instanceof IllegalArgumentException && cause.getMessage() != null
                                    && cause.getMessage().contains("transfer coding")) ? 501 : 400;
        }
        HttpHeaders in = request.headers();
        List<String> hosts = in.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 || (http11(request.protocolVersion()) && hosts.isEmpty())) {
            return 400;
        }
        List<String> te = in.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!te.isEmpty() && (te.size() > 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(te.get(0).trim()))) {
            return 501;
        }
        return 0;
    }

    /** HTTP/1.1 or a later 1.x: {@code Host} is mandatory and keep-alive the default. */
    static boolean http11(HttpVersion v) {
        return v.majorVersion() == 1 && v.minorVersion() >= 1;
    }
}
