package dev.sluice.gateway.balance;


/**
 * The result of {@link TrafficSplit#select}: the upstream one request uses for all its attempts,
 * or a 503 when the chosen side has no endpoints.
 */
public sealed interface Selection permits Selection.Serve, Selection.Unavailable {

    /** The side the request was routed to (the one that serves it, or the one that is empty). */
    Upstream upstream();

    /** Whether that side is the canary. */
    default boolean canary() {
        return decision().canary();
    }

    /** Why that side was chosen. */
    CanaryDecision decision();

    /** Proxy the request to {@code upstream}, picking endpoints with {@code upstream.balancer()}. */
    record Serve(Upstream upstream, CanaryDecision decision) implements Selection {}

    /** Answer 503: the chosen side has no ready endpoints (or its Service is missing). */
    record Unavailable(Upstream upstream, CanaryDecision decision) implements Selection {
        public int status() {
            return 503;
        }

        /** For the log and the response body: the backend's problem or "no ready endpoints for ...". */
        public String reason() {
            String problem = upstream.backend().problem();
            return problem != null ? problem : "no ready endpoints for " + upstream.name();
        }
    }
}
