package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.ProxyTuning;
import dev.sluice.gateway.route.UpstreamTls;
import java.util.Objects;

/**
 * What a pooled upstream connection is for: an endpoint, and how it speaks to it. A connection
 * is reused only for an equal key, so a clear connection to a Pod never carries a request of a
 * TLS location, nor a TLS connection one of a location with other TLS settings (another CA,
 * another client certificate, no verification).
 *
 * @param endpoint the Pod (or ExternalName) address and port
 * @param tls      the TLS settings, or {@code null} for clear HTTP
 * @param responseHeaderLimit the most response header bytes the connection's decoder takes
 *                 ({@code proxy-buffer-size}), fixed when the connection is made
 */
record UpstreamKey(Endpoint endpoint, UpstreamTls tls, int responseHeaderLimit) {
    UpstreamKey {
        Objects.requireNonNull(endpoint, "endpoint");
    }

    /** A connection with the default response header limit. */
    UpstreamKey(Endpoint endpoint, UpstreamTls tls) {
        this(endpoint, tls, ProxyTuning.DEFAULT_RESPONSE_HEADER_LIMIT);
    }

    /** A clear HTTP connection to {@code endpoint}. */
    static UpstreamKey clear(Endpoint endpoint) {
        return new UpstreamKey(endpoint, null);
    }

    @Override
    public String toString() {
        return tls == null ? endpoint.toString() : endpoint + " (TLS)";
    }
}
