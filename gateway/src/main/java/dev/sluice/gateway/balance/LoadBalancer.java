package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import java.util.List;
import java.util.Set;

/**
 * Chooses the endpoint of one backend for one request attempt. Balancers are built with the route
 * table ({@link BalancerSpec#create}), so a request only pays for the pick; the only mutable state
 * inside is lock-free (cursors, latency averages), safe to share between event loops.
 *
 * <p>Retries: the proxy passes the endpoints already tried by this request in {@code exclude}
 * and every balancer avoids them while another endpoint is left; when all are excluded the
 * exclusion is ignored (NGINX retries a single endpoint too). Cookie affinity without
 * {@code session-cookie-change-on-failure} deliberately returns the sticky endpoint again, as
 * ingress-nginx does.
 *
 * <p>Feedback: after each attempt the proxy calls {@link #onResponse} exactly once with the
 * endpoint it got from {@code pick}; {@link Ewma} uses it for latency and in-flight counts.
 */
public sealed interface LoadBalancer permits RoundRobin, Ewma, ConsistentHash, ConsistentHashSubset, CookieAffinity {

    /** The endpoints this balancer chooses from (possibly empty). */
    List<Endpoint> endpoints();

    /**
     * Picks an endpoint, or returns {@code null} when there is none. Affinity balancers never
     * ask for a cookie through this method; the proxy calls
     * {@link #pick(RequestView, Set, String)}.
     */
    Endpoint pick(RequestView req, Set<Endpoint> exclude);

    /**
     * Picks an endpoint for a request matched to a location.
     *
     * @param affinityPath the path of the matched location when the Ingress that declared it
     *                     enabled cookie affinity (the cookie's default {@code Path}); {@code null}
     *                     when that location must not set a sticky cookie (SPEC §6.3: with
     *                     {@code /foo/bar} sticky and {@code /foo} not, {@code GET /foo} gets no
     *                     {@code Set-Cookie})
     */
    default Pick pick(RequestView req, Set<Endpoint> exclude, String affinityPath) {
        return Pick.of(pick(req, exclude));
    }

    /**
     * Whether the request carries a valid sticky cookie issued for this backend (canary steps 1
     * and 3). Only {@code CookieAffinity} ever answers {@code true}.
     */
    default boolean isAffinitized(RequestView req) {
        return false;
    }

    /**
     * Reports the end of an attempt on {@code endpoint} that took {@code latencyNanos} (connect
     * plus response time; also for failed attempts). Must be called exactly once per pick.
     */
    default void onResponse(Endpoint endpoint, long latencyNanos) {}
}
