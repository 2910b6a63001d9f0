package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.CanaryDecision;
import dev.sluice.gateway.balance.Upstream;
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
     * @param upstream        the side of the location's split chosen for this request (mainline
     *                        or canary; has at least one endpoint): every attempt of the request,
     *                        retries included, picks from its balancer
     * @param canary          why that side was chosen ({@code canary.canary()}: the canary serves)
     * @param upstreamUri     the request-target to send: the raw client URI when nothing rewrote
     *                        it, else the re-escaped rewritten path plus the original query
     * @param forwardedPrefix value for {@code X-Forwarded-Prefix}, or {@code null}
     * @param corsOrigin      {@code Access-Control-Allow-Origin} for the response when the location
     *                        has CORS on and accepted the request's origin (the location's
     *                        {@link RouteOptions#cors()} gives the other headers), else {@code null}
     */
    record Forward(HostRoutes host, Route route, Upstream upstream, CanaryDecision canary, String upstreamUri,
            String forwardedPrefix, String corsOrigin) implements RoutingDecision {
        public Forward {
            Objects.requireNonNull(route, "route");
            Objects.requireNonNull(upstream, "upstream");
            Objects.requireNonNull(canary, "canary");
            Objects.requireNonNull(upstreamUri, "upstreamUri");
        }

        /** The backend of the chosen side. */
        public Backend backend() {
            return upstream.backend();
        }

        /** Whether the canary serves this request. */
        public boolean isCanary() {
            return canary.canary();
        }
    }

    /**
     * Answer locally.
     *
     * @param status   404 (no route / built-in default backend), 503 (no endpoints), 400 (bad
     *                 path), 301/302 (redirects)
     * @param location the {@code Location} header for redirects, else {@code null}
     * @param reason   a short explanation for logs and the response body
     * @param cors     the location's CORS policy when it accepted the request's origin, else
     *                 {@code null}; with status 204 the answer is a CORS preflight response
     * @param corsOrigin {@code Access-Control-Allow-Origin} value when {@code cors} is set
     * @param route    the location that answers, once one matched (its 503 without endpoints, its
     *                 redirects, its 413), else {@code null}: the metrics label the answer with
     *                 the location's Ingress and Service, as ingress-nginx's location does
     */
    record Respond(int status, String location, String reason, CorsPolicy cors, String corsOrigin, Route route)
            implements RoutingDecision {
        /** A local answer without CORS headers, before any location matched. */
        public Respond(int status, String location, String reason) {
            this(status, location, reason, null, null, null);
        }

        /** A local answer before any location matched. */
        public Respond(int status, String location, String reason, CorsPolicy cors, String corsOrigin) {
            this(status, location, reason, cors, corsOrigin, null);
        }
    }
}
