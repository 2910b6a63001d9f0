package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.CorsPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Responses the proxy writes itself (no route, no endpoints, redirects, upstream failures), with
 * small HTML bodies shaped like NGINX's built-in error pages and no {@code Server} header:
 *
 * <pre>
 * &lt;html&gt;
 * &lt;head&gt;&lt;title&gt;404 Not Found&lt;/title&gt;&lt;/head&gt;
 * &lt;body&gt;
 * &lt;center&gt;&lt;h1&gt;404 Not Found&lt;/h1&gt;&lt;/center&gt;
 * &lt;hr&gt;&lt;center&gt;sluice&lt;/center&gt;
 * &lt;/body&gt;
 * &lt;/html&gt;
 * </pre>
 *
 * Bodies are built once per status and shared read-only between all connections.
 */
final class LocalResponses {
    private static final HttpHeadersFactory UNVALIDATED = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final AsciiString TEXT_HTML = AsciiString.cached("text/html");

    /**
     * {@code Strict-Transport-Security}, sent on every HTTPS response (proxied and local) with
     * the global ConfigMap's {@code hsts*} keys (defaults {@code hsts: true},
     * {@code hsts-max-age: 31536000}, {@code hsts-include-subdomains: true}, {@code hsts-preload:
     * false}; SPEC §10.3), published in the route table's {@code ProxySettings}.
     */
    static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");
    private static final AsciiString PREFLIGHT_CONTENT_TYPE = AsciiString.cached("text/plain charset=UTF-8");
    private static final AsciiString TRUE = AsciiString.cached("true");
    private static final HttpResponseStatus NO_CONTENT = new HttpResponseStatus(204, "No Content");
    private static final ByteBuf[] BODIES = new ByteBuf[600];
    private static final HttpResponseStatus[] STATUSES = new HttpResponseStatus[600];

    static {
        for (int code = 100; code < 600; code++) {
            STATUSES[code] = new HttpResponseStatus(code, reason(code));
            BODIES[code] = Unpooled.unreleasableBuffer(
                    Unpooled.wrappedBuffer(page(code).getBytes(StandardCharsets.US_ASCII)).asReadOnly());
        }
    }

    private LocalResponses() {}

    /** The HTML page NGINX shows for {@code status}. */
    static String page(int status) {
        String title = status + " " + reason(status);
        return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title
                + "</h1></center>\r\n<hr><center>sluice</center>\r\n</body>\r\n</html>\r\n";
    }

    /**
     * A complete response.
     *
     * @param location  {@code Location} header for redirects, or {@code null}
     * @param keepAlive whether the client connection stays open ({@code Connection: close} if not)
     * @param head      whether the request was HEAD (headers only)
     * @param hsts      the {@code Strict-Transport-Security} value (HTTPS clients), or {@code null}
     */
    static FullHttpResponse response(int status, String location, boolean keepAlive, boolean head, String hsts) {
        int code = status >= 100 && status < 600 ? status : 500;
        ByteBuf body = BODIES[code].duplicate();
        HttpHeaders headers = UNVALIDATED.newHeaders();
        headers.add(HttpHeaderNames.CONTENT_TYPE, TEXT_HTML);
        headers.add(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (location != null) {
            headers.add(HttpHeaderNames.LOCATION, location);
        }
        if (hsts != null) {
            headers.add(STRICT_TRANSPORT_SECURITY, hsts);
        }
        if (!keepAlive) {
            headers.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, STATUSES[code],
                head ? Unpooled.EMPTY_BUFFER : body, headers, UNVALIDATED.newHeaders());
    }

    /**
     * The local answer to an accepted CORS preflight (SPEC §7): 204 with the CORS headers and
     * {@code Content-Type: text/plain charset=UTF-8}, as ingress-nginx's template writes it. Its
     * {@code Content-Length: 0} is not sent: a 204 must not carry one (RFC 9110 §8.6) and Netty's
     * encoder removes it.
     */
    static FullHttpResponse preflight(CorsPolicy cors, String allowOrigin, boolean keepAlive, String hsts) {
        HttpHeaders headers = UNVALIDATED.newHeaders();
        addCors(headers, cors, allowOrigin);
        headers.add(HttpHeaderNames.CONTENT_TYPE, PREFLIGHT_CONTENT_TYPE);
        if (hsts != null) {
            headers.add(STRICT_TRANSPORT_SECURITY, hsts);
        }
        if (!keepAlive) {
            headers.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, NO_CONTENT, Unpooled.EMPTY_BUFFER, headers,
                UNVALIDATED.newHeaders());
    }

    /**
     * Sets the CORS response headers of a location that accepted the request's origin (replacing
     * the upstream's, as NGINX's {@code more_set_headers} does).
     */
    static void addCors(HttpHeaders headers, CorsPolicy cors, String allowOrigin) {
        headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, allowOrigin);
        if (cors.allowCredentials()) {
            headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
        headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, cors.allowMethods());
        headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, cors.allowHeaders());
        if (cors.exposeHeaders() != null) {
            headers.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, cors.exposeHeaders());
        }
        headers.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, cors.maxAge());
    }

    static int bodyLength(int status) {
        return BODIES[status >= 100 && status < 600 ? status : 500].readableBytes();
    }

    /** NGINX's reason phrases for the codes it answers itself; Netty's for the rest. */
    static String reason(int status) {
        return switch (status) {
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Not Allowed";
            case 408 -> "Request Time-out";
            case 413 -> "Request Entity Too Large";
            case 414 -> "Request-URI Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Temporarily Unavailable";
            case 504 -> "Gateway Time-out";
            default -> HttpResponseStatus.valueOf(status).reasonPhrase();
        };
    }
}
