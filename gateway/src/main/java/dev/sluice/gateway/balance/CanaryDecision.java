package dev.sluice.gateway.balance;

/**
 * Which side of a canary split one request goes to, and why (for access logs, metrics and
 * tests). Produced once per request by {@link CanaryRule#decide}; see that method for the order
 * in which the reasons are tried.
 */
public enum CanaryDecision {
    /** No canary is attached to the location. */
    NO_CANARY(false, false),
    /** The canary backend has no ready endpoints, so the canary is skipped (SPEC §5.3 step 2). */
    CANARY_UNAVAILABLE(false, false),
    /** The request carries the mainline's session-affinity cookie (step 1). */
    MAINLINE_AFFINITY(false, false),
    /** The request carries a session-affinity cookie issued by the canary (step 3). */
    CANARY_AFFINITY(true, false),
    /** The canary header equals one of {@code canary-by-header-value}'s values. */
    HEADER_VALUE(true, true),
    /** The canary header matches {@code canary-by-header-pattern}. */
    HEADER_PATTERN(true, true),
    /** The canary header is {@code always}. */
    HEADER_ALWAYS(true, true),
    /** The canary header is {@code never}: mainline, cookie and weight are not consulted. */
    HEADER_NEVER(false, true),
    /** The canary cookie is {@code always}. */
    COOKIE_ALWAYS(true, true),
    /** The canary cookie is {@code never}: mainline, weight is not consulted. */
    COOKIE_NEVER(false, true),
    /** The weighted draw chose the canary (or the weight is at least the total). */
    WEIGHT_CANARY(true, false),
    /** The weighted draw chose the mainline (or the weight is 0). */
    WEIGHT_MAINLINE(false, false);

    private final boolean canary;
    private final boolean forced;

    CanaryDecision(boolean canary, boolean forced) {
        this.canary = canary;
        this.forced = forced;
    }

    /** Whether the request goes to the canary backend. */
    public boolean canary() {
        return canary;
    }

    /** Whether the client asked for this side explicitly, with the canary header or cookie. */
    public boolean forced() {
        return forced;
    }
}
