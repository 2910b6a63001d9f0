package dev.sluice.gateway.route;

import java.util.Locale;

/**
 * How a location talks to its upstream: ingress-nginx's {@code backend-protocol} annotation
 * (case-insensitive; default {@code HTTP}).
 *
 * <ul>
 *   <li>{@code HTTP}: HTTP/1.1 in clear;</li>
 *   <li>{@code HTTPS}: HTTP/1.1 over TLS;</li>
 *   <li>{@code AUTO_HTTP}: the scheme the client used (TLS upstream for requests on 31235);</li>
 *   <li>{@code GRPC}: HTTP/2 in clear (h2c, prior knowledge); {@code GRPCS}: HTTP/2 over TLS;</li>
 *   <li>{@code FCGI}: FastCGI.</li>
 * </ul>
 */
public enum BackendProtocol {
    HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS, FCGI;

    /** The protocol named by an annotation value, or {@code null} when it names none. */
    public static BackendProtocol parse(String value) {
        if (value == null) {
            return null;
        }
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
