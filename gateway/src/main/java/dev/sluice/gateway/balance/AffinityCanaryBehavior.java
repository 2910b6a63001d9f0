package dev.sluice.gateway.balance;

/**
 * {@code affinity-canary-behavior} of a canary Ingress (SPEC §5.4): whether clients served by the
 * canary stay on it.
 */
public enum AffinityCanaryBehavior {
    /**
     * Default: the canary backend gets a copy of the mainline's cookie affinity, so a client that
     * received a canary cookie keeps going to the canary, whatever the weight.
     */
    STICKY,
    /** The canary backend has no affinity: no cookie for canary responses, weight applied per request. */
    LEGACY;

    /** {@code "legacy"} (any case) → LEGACY; anything else → STICKY. */
    public static AffinityCanaryBehavior parse(String annotation) {
        return "legacy".equalsIgnoreCase(annotation) ? LEGACY : STICKY;
    }
}
