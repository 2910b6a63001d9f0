package dev.sluice.gateway.route;

import java.time.Duration;

/**
 * The global ConfigMap's settings of client connections, read by the listeners when a connection
 * opens (and per request for {@code keep-alive-requests}), so a change applies to new
 * connections without a restart. {@code null} / {@code 0} keep the listener's own value.
 *
 * @param proxyProtocol     {@code use-proxy-protocol}: connections must start with a PROXY
 *                          protocol header (as {@code --enable-proxy-protocol}, which it adds to)
 * @param keepAliveTimeout  {@code keep-alive}: how long an idle client connection is kept, or
 *                          {@code null} for the listener's (75 s)
 * @param clientBodyTimeout {@code client-body-timeout}: the longest pause while reading a
 *                          client's request, or {@code null} for the listener's (60 s)
 * @param maxRequestLine    {@code large-client-header-buffers}' buffer size: the longest HTTP/1.1
 *                          request line, or {@code 0} for the listener's (8 KiB)
 * @param maxHeaderSize     the buffers' total: the most HTTP/1.1 request header bytes, or
 *                          {@code 0} for the listener's (32 KiB)
 * @param keepAliveRequests {@code keep-alive-requests}: the response to an HTTP/1.1 connection's
 *                          request number N closes it, or {@code 0}: no limit
 * @param clientHeaderTimeout {@code client-header-timeout}: the longest a client may take to send a
 *                          whole request head, or {@code null} for the listener's (60 s)
 */
public record ListenerSettings(boolean proxyProtocol, Duration keepAliveTimeout, Duration clientBodyTimeout,
        int maxRequestLine, int maxHeaderSize, int keepAliveRequests, Duration clientHeaderTimeout) {

    /** The listeners' own values. */
    public static final ListenerSettings DEFAULTS = new ListenerSettings(false, null, null, 0, 0, 0, null);

    /** Without {@code client-header-timeout}. */
    public ListenerSettings(boolean proxyProtocol, Duration keepAliveTimeout, Duration clientBodyTimeout,
            int maxRequestLine, int maxHeaderSize, int keepAliveRequests) {
        this(proxyProtocol, keepAliveTimeout, clientBodyTimeout, maxRequestLine, maxHeaderSize, keepAliveRequests, null);
    }

    public ListenerSettings {
        if (maxRequestLine < 0 || maxHeaderSize < 0 || keepAliveRequests < 0) {
            throw new IllegalArgumentException("limits must be >= 0");
        }
    }
}
