package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.HttpMethod;

/**
 * Whether a failed upstream attempt is tried again, and where: NGINX's
 * {@code proxy_next_upstream error timeout} with {@code proxy_next_upstream_tries} (SPEC §6.4).
 *
 * <ul>
 *   <li>A failed connect moves to the next endpoint while attempts are left.</li>
 *   <li>A connection that broke after the request went out (write error, close before any
 *       response byte) moves on only for idempotent methods: a POST may have had its effect.</li>
 *   <li>A pooled keep-alive connection that broke that way gets one extra try, for any method, on
 *       a fresh connection to the same endpoint, not counted as an attempt: the upstream closed
 *       an idle connection as the request went out, so it never saw the request.</li>
 *   <li>Nothing is retried when part of the body went out and was not kept
 *       ({@link ReplayBuffer}), after a timeout (504) or after a malformed response (502).</li>
 * </ul>
 *
 * <p>A pure function of the attempt's facts, so it needs no instance; the exchange owns the
 * counters it is asked about.
 */
final class RetryPolicy {
    /** What to do after a failed attempt. */
    enum Decision {
        /** Pick another endpoint (an untried one while any remain); counts as an attempt. */
        RETRY_NEW_ENDPOINT(0),
        /** Once more on a new connection to the same endpoint; not counted as an attempt. */
        RETRY_SAME_ENDPOINT_FRESH(0),
        /** Answer 502 Bad Gateway. */
        GIVE_UP_BAD_GATEWAY(502),
        /** Answer 504 Gateway Timeout. */
        GIVE_UP_GATEWAY_TIMEOUT(504);

        private final int status;

        Decision(int status) {
            this.status = status;
        }

        boolean retry() {
            return status == 0;
        }

        /** The status to answer with when giving up; {@code 0} for a retry. */
        int status() {
            return status;
        }
    }

    private RetryPolicy() {
    }

    /**
     * The decision after {@code failure} of attempt number {@code attempts} (1-based), before any
     * response byte reached the client.
     *
     * @param bodyReplayable   every body byte sent so far can be sent again (or none was sent)
     * @param reusedConnection the failed attempt ran on a pooled keep-alive connection
     * @param staleRetried     this request already had its extra stale-connection try
     * @param maxAttempts      from {@link #maxAttempts(int, int)}
     */
    static Decision decide(UpstreamFailure failure, HttpMethod method, boolean bodyReplayable,
            boolean reusedConnection, boolean staleRetried, int attempts, int maxAttempts) {
        if (bodyReplayable && !failure.timeout() && failure != UpstreamFailure.BAD_RESPONSE) {
            boolean sent = failure.afterConnect();
            if (sent && reusedConnection && !staleRetried) {
                return Decision.RETRY_SAME_ENDPOINT_FRESH;
            }
            if ((!sent || idempotent(method)) && attempts < maxAttempts) {
                return Decision.RETRY_NEW_ENDPOINT;
            }
        }
        return failure.timeout() ? Decision.GIVE_UP_GATEWAY_TIMEOUT : Decision.GIVE_UP_BAD_GATEWAY;
    }

    /**
     * Attempts allowed per request: {@code proxy-next-upstream-tries}, where "unlimited"
     * ({@code 0} in the annotation, {@link Integer#MAX_VALUE} in the route options) means each
     * of the side's endpoints once.
     */
    static int maxAttempts(int nextUpstreamTries, int endpointCount) {
        return nextUpstreamTries == Integer.MAX_VALUE ? endpointCount : nextUpstreamTries;
    }

    /** RFC 9110's idempotent methods: sending them twice has the effect of sending them once. */
    static boolean idempotent(HttpMethod m) {
        return HttpMethod.GET.equals(m) || HttpMethod.HEAD.equals(m) || HttpMethod.PUT.equals(m)
                || HttpMethod.DELETE.equals(m) || HttpMethod.OPTIONS.equals(m) || HttpMethod.TRACE.equals(m);
    }
}
