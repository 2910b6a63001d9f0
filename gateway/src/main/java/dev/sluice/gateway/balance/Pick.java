package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;

/**
 * The result of one load-balancer pick: the endpoint to connect to and, for cookie affinity, the
 * {@code Set-Cookie} header value to add to the response.
 *
 * @param endpoint  the chosen endpoint, or {@code null} when the backend has no endpoints
 * @param setCookie a complete {@code Set-Cookie} value ({@code INGRESSCOOKIE=...; Path=/; HttpOnly}),
 *                  or {@code null} when no cookie must be set
 */
public record Pick(Endpoint endpoint, String setCookie) {
    private static final Pick NONE = new Pick(null, null);

    /** A pick without cookie. */
    public static Pick of(Endpoint endpoint) {
        return endpoint == null ? NONE : new Pick(endpoint, null);
    }
}
