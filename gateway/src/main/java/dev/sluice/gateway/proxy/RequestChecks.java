package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.TransferEncodingNotAllowedException;
import java.util.Iterator;
import java.util.Map;

/**
 * The checks of a request head before it is routed, with NGINX's answers: a head the decoder
 * could not read (400, 414 for a long request line, 431 for long headers), a header line longer
 * than one of NGINX's 8 KiB header buffers ({@code large-client-header-buffers 4 8k}: 431), a
 * space or control character in the request target (400, NGINX ≥ 1.21.1), a duplicate
 * {@code Host} or an HTTP/1.1 request without one (400, "client sent duplicate host header"),
 * {@code Transfer-Encoding} in an HTTP/1.0 request (400), the {@code CONNECT} method (405, as
 * NGINX: Sluice is not a forward proxy), and a {@code Transfer-Encoding} other
 * than a single {@code chunked} (501, "client sent unknown Transfer-Encoding"). As NGINX's request
 * line parser, a method is upper-case letters, {@code _} and {@code -} only ({@code get /} is a
 * bad request, 400), and an HTTP major version other than 1 answers 505; as its
 * {@code ngx_http_validate_host}, a {@code Host} that is empty or holds {@code /}, {@code \},
 * a NUL or {@code ..} is a bad request (400, "client sent invalid host header").
 */
final class RequestChecks {
    /** One of NGINX's large header buffers: a header line must fit in one. */
    static final int MAX_HEADER_LINE = 8 * 1024;

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
                    : unknownTransferCoding(cause) ? 501 : 400;
        }
        if (!validTarget(request.uri()) || !validMethod(request.method())) {
            return 400;
        }
        if (request.protocolVersion().majorVersion() != 1) {
            return 505; // NGINX: "client sent unsupported HTTP version"
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            // NGINX: "client sent CONNECT method" → 405. Forwarded, a 2xx would turn the upstream
            // connection into a tunnel the response framing knows nothing of
            return 405;
        }
        HttpHeaders in = request.headers();
        // one pass over the headers, counting Host and Transfer-Encoding on the way (getAll would
        // allocate two lists per request)
        int hosts = 0;
        CharSequence host = null;
        int codings = 0;
        CharSequence coding = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            CharSequence name = h.getKey();
            if (name.length() + h.getValue().length() + 2 > MAX_HEADER_LINE) {
                return 431;
            }
            if (HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
                hosts++;
                host = h.getValue();
            } else if (HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
                codings++;
                coding = h.getValue();
            }
        }
        if (hosts > 1 || (http11(request.protocolVersion()) && hosts == 0) || (host != null && !validHost(host))) {
            return 400;
        }
        if (codings > 0 && (codings > 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(coding.toString().trim()))) {
            return 501;
        }
        return 0;
    }

    /**
     * Netty 4.2 rejects a {@code Transfer-Encoding} whose final coding is not {@code chunked}
     * (RFC 9112), or {@code chunked} more than once, while decoding; NGINX answers those 501
     * "client sent unknown Transfer-Encoding". {@code Transfer-Encoding} in HTTP/1.0
     * ({@code TransferEncodingNotAllowedException}) stays 400.
     */
    private static boolean unknownTransferCoding(Throwable cause) {
        if (!(cause instanceof IllegalArgumentException) || cause instanceof TransferEncodingNotAllowedException
                || cause.getMessage() == null) {
            return false;
        }
        String m = cause.getMessage();
        return m.contains("transfer coding") || m.contains("must be the last encoding");
    }

    /**
     * NGINX's method syntax: {@code A}–{@code Z}, {@code _} and {@code -}. Netty's decoder takes any
     * token, and a backend may read {@code get} as {@code GET} where Sluice's checks did not.
     */
    private static boolean validMethod(HttpMethod method) {
        if (method == HttpMethod.GET || method == HttpMethod.POST || method == HttpMethod.HEAD
                || method == HttpMethod.PUT) {
            return true; // Netty's constants: no need to look at the letters of every request
        }
        String m = method.name();
        for (int i = 0; i < m.length(); i++) {
            char c = m.charAt(i);
            if (!(c >= 'A' && c <= 'Z') && c != '_' && c != '-') {
                return false;
            }
        }
        return true;
    }

    /**
     * NGINX's {@code ngx_http_validate_host}: not empty, no {@code /}, {@code \} or NUL, no
     * {@code ..}. Examples: {@code a.example.com:8080} and {@code [::1]} are valid;
     * {@code a.example.com/x}, {@code a..example.com} and {@code ""} are not.
     */
    static boolean validHost(CharSequence host) {
        int n = host.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = host.charAt(i);
            if (c == '/' || c == '\\' || c == 0 || (c == '.' && i > 0 && host.charAt(i - 1) == '.')) {
                return false;
            }
        }
        return true;
    }

    /** Whether the request target is free of spaces and control characters (NGINX ≥ 1.21.1: 400). */
    private static boolean validTarget(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** HTTP/1.1 or a later 1.x: {@code Host} is mandatory and keep-alive the default. */
    static boolean http11(HttpVersion v) {
        return v.majorVersion() == 1 && v.minorVersion() >= 1;
    }
}
