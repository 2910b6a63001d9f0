package dev.sluice.gateway.observe;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Iterator;
import java.util.Map;

/**
 * NGINX's {@code $request_length} and {@code $bytes_sent} (request line or status line, headers
 * and body), which ingress-nginx's {@code request_size} and {@code response_size} observe.
 * Netty's decoder does not count the bytes of a head, so the head is measured as HTTP/1.1 writes
 * it: {@code name: value CRLF} per header. Exact for what Sluice sends; for a request, exact but
 * for the whitespace a client may put around header values.
 */
public final class HttpSizes {
    private static final int HTTP_VERSION = "HTTP/1.1".length();
    private static final int CRLF = 2;

    private HttpSizes() {}

    /** Request line, headers and the {@code body} bytes read. */
    public static long request(HttpRequest request, long body) {
        // "GET /uri HTTP/1.1\r\n"
        long n = request.method().name().length() + 1 + request.uri().length() + 1 + HTTP_VERSION + CRLF;
        return n + headers(request.headers()) + CRLF + Math.max(0, body);
    }

    /** Status line, headers and the {@code body} bytes sent; only the body without a head. */
    public static long response(HttpResponse head, long body) {
        if (head == null) {
            return Math.max(0, body);
        }
        // "HTTP/1.1 200 OK\r\n"
        long n = HTTP_VERSION + 1 + 3 + 1 + head.status().reasonPhrase().length() + CRLF;
        return n + headers(head.headers()) + CRLF + Math.max(0, body);
    }

    private static long headers(HttpHeaders headers) {
        long n = 0;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            n += e.getKey().length() + 2 + e.getValue().length() + CRLF; // "name: value\r\n"
        }
        return n;
    }
}
