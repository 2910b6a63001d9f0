package dev.sluice.gateway.route;

/**
 * How a location speaks HTTP to its upstream and whether its requests are logged: NGINX's
 * {@code proxy_http_version}, {@code proxy_request_buffering}, {@code proxy_buffer_size} and
 * {@code access_log off}.
 *
 * @param http10              {@code proxy-http-version: "1.0"}: requests go upstream as HTTP/1.0
 *                            with {@code Connection: close}, one connection per request (NGINX
 *                            then buffers a chunked request body, as Sluice does:
 *                            {@link #buffersRequestBody})
 * @param bufferRequestBody   {@code proxy-request-buffering: on}: the request body is read whole
 *                            (up to {@link #REQUEST_BUFFER_LIMIT} bytes) before the upstream is
 *                            contacted, and sent with a {@code Content-Length}
 * @param responseHeaderLimit {@code proxy-buffer-size}: the most bytes of response headers taken
 *                            from the upstream; a larger head answers 502 ("upstream sent too big
 *                            header")
 * @param accessLog           {@code enable-access-log}: {@code false} writes no access log line for
 *                            the location's requests (metrics still count them)
 */
public record ProxyTuning(boolean http10, boolean bufferRequestBody, int responseHeaderLimit, boolean accessLog) {

    /**
     * The most request body bytes held in memory per request by {@code proxy-request-buffering};
     * a longer body is sent once this much has arrived and the rest is streamed (NGINX writes it
     * to a temporary file instead).
     */
    public static final int REQUEST_BUFFER_LIMIT = 1024 * 1024;
    /** The default response header limit: Sluice's, larger than NGINX's 4k/8k buffer. */
    public static final int DEFAULT_RESPONSE_HEADER_LIMIT = 64 * 1024;
    /** The smallest {@code proxy-buffer-size} taken; smaller values are raised to it. */
    public static final int MIN_RESPONSE_HEADER_LIMIT = 1024;
    /** The largest {@code proxy-buffer-size} taken (the client side's header limit is 32 KiB; NGINX has none). */
    public static final int MAX_RESPONSE_HEADER_LIMIT = 1024 * 1024;

    /** HTTP/1.1, request bodies streamed, 64 KiB of response headers, access log on. */
    public static final ProxyTuning DEFAULTS = new ProxyTuning(false, false, DEFAULT_RESPONSE_HEADER_LIMIT, true);

    public ProxyTuning {
        if (responseHeaderLimit < MIN_RESPONSE_HEADER_LIMIT || responseHeaderLimit > MAX_RESPONSE_HEADER_LIMIT) {
            throw new IllegalArgumentException("responseHeaderLimit out of range: " + responseHeaderLimit);
        }
    }

    /**
     * Whether a request body must be read before the upstream is contacted: when
     * {@code proxy-request-buffering} is on, or for a chunked body sent over HTTP/1.0, which has no
     * chunked encoding.
     *
     * @param chunked whether the client sends the body chunked (no {@code Content-Length})
     */
    public boolean buffersRequestBody(boolean chunked) {
        return bufferRequestBody || (http10 && chunked);
    }
}
