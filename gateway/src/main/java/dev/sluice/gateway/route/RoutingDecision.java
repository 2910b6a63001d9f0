package dev.sluice.gateway.route;

import java.util.Objects;

/**
 * What the data plane does with one request, decided by {@link RouteTable#decide}: forward it to
 * a backend, or answer it locally.
 */
public sealed interface RoutingDecision permits RoutingDecision.Forward, RoutingDecision.Respond {

    /**
     * Proxy the request.
     *
     * @param host            the virtual host that matched
     * @param route           the location that matched
     * @param backend         the upstream to pick endpoints from (has at least one endpoint)
     * @param upstreamUri     the request-target to send: the raw client URI when nothing rewrote
     *                        it, else the re-escaped rewritten path plus the original query
     * @param forwardedPrefix value for {@code X-Forwarded-Prefix}, or {@code null}
     */
    record Forward(HostRoutes host, Route route, Backend backend, String upstreamUri, String forwardedPrefix)
            implements RoutingDecision {
        public Forward {
            Objects.requireNonNull(route, "route");
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(upstreamUri, "upstreamUri");
        }
    }

    /**
     * Answer locally.
     *
     * @param status   404 (no route / built-in default backend), 503 (no endpoints), 400 (bad
     *                 path), 301/302 (redirects)
     * @param location the {@code Location} header for redirects, else {@code null}
     * @param reason   a short explanation for logs and the response body
     */
    record Respond(int status, String location, String reason) implements RoutingDecision {}
}
