package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import java.util.List;
import java.util.Objects;

/**
 * How a backend balances, as the translator reads it from the annotations of the Ingress that
 * created the upstream. Precedence (ingress-nginx {@code get_implementation}): cookie
 * {@code affinity} → {@link CookieAffinity}; else {@code upstream-hash-by} →
 * {@link ConsistentHash} or, with {@code upstream-hash-by-subset}, {@link ConsistentHashSubset};
 * else {@code load-balance} → {@link RoundRobin} (default) or {@link Ewma}.
 *
 * @param algorithm    {@code load-balance} (annotation, else ConfigMap, default round robin)
 * @param hashBy       compiled {@code upstream-hash-by}, or {@code null}
 * @param hashBySubset {@code upstream-hash-by-subset}
 * @param subsetSize   {@code upstream-hash-by-subset-size}, default 3
 * @param affinity     {@code affinity: cookie} settings, or {@code null} for no affinity
 */
public record BalancerSpec(
        Algorithm algorithm, HashKeyExpression hashBy, boolean hashBySubset, int subsetSize, AffinityConfig affinity) {

    /** Round robin, no hashing, no affinity. */
    public static final BalancerSpec DEFAULT = new BalancerSpec(
            Algorithm.ROUND_ROBIN, null, false, ConsistentHashSubset.DEFAULT_SUBSET_SIZE, null);

    public BalancerSpec {
        Objects.requireNonNull(algorithm, "algorithm");
        if (subsetSize < 1) {
            throw new IllegalArgumentException("upstream-hash-by-subset-size must be >= 1: " + subsetSize);
        }
    }

    /** {@code load-balance} values. */
    public enum Algorithm {
        ROUND_ROBIN,
        EWMA;

        /** {@code "ewma"} → EWMA; {@code round_robin} and unknown names → ROUND_ROBIN (as ingress-nginx). */
        public static Algorithm parse(String loadBalance) {
            return "ewma".equalsIgnoreCase(loadBalance) ? EWMA : ROUND_ROBIN;
        }
    }

    public static BalancerSpec of(Algorithm algorithm) {
        return DEFAULT.withAlgorithm(algorithm);
    }

    /** {@code upstream-hash-by: <expression>} (compiled here; throws IllegalArgumentException when invalid). */
    public static BalancerSpec hashBy(String expression) {
        return new BalancerSpec(Algorithm.ROUND_ROBIN, HashKeyExpression.compile(expression), false,
                ConsistentHashSubset.DEFAULT_SUBSET_SIZE, null);
    }

    /** {@code upstream-hash-by} with {@code upstream-hash-by-subset: "true"} and the given subset size. */
    public static BalancerSpec hashBySubset(String expression, int subsetSize) {
        return new BalancerSpec(Algorithm.ROUND_ROBIN, HashKeyExpression.compile(expression), true, subsetSize, null);
    }

    /** {@code affinity: cookie}. */
    public static BalancerSpec cookieAffinity(AffinityConfig affinity) {
        return DEFAULT.withAffinity(Objects.requireNonNull(affinity, "affinity"));
    }

    public BalancerSpec withAlgorithm(Algorithm a) {
        return new BalancerSpec(a, hashBy, hashBySubset, subsetSize, affinity);
    }

    /** This spec with another affinity ({@code null}: none). */
    public BalancerSpec withAffinity(AffinityConfig a) {
        return new BalancerSpec(algorithm, hashBy, hashBySubset, subsetSize, a);
    }

    /**
     * The spec of a canary backend attached to {@code mainline} (SPEC §5.2 point 8, §5.4): the
     * canary keeps its own {@code load-balance} and {@code upstream-hash-by*}, and its affinity is
     * replaced by a copy of the mainline's ({@link AffinityCanaryBehavior#STICKY}) or removed
     * ({@link AffinityCanaryBehavior#LEGACY}).
     */
    public BalancerSpec forCanaryOf(BalancerSpec mainline, AffinityCanaryBehavior behavior) {
        return withAffinity(behavior == AffinityCanaryBehavior.STICKY ? mainline.affinity() : null);
    }

    /** Which balancer this spec builds, by ingress-nginx's precedence. */
    public Kind kind() {
        if (affinity != null) {
            return Kind.COOKIE_AFFINITY;
        }
        if (hashBy != null) {
            return hashBySubset ? Kind.CONSISTENT_HASH_SUBSET : Kind.CONSISTENT_HASH;
        }
        return algorithm == Algorithm.EWMA ? Kind.EWMA : Kind.ROUND_ROBIN;
    }

    /** The balancer implementations (ingress-nginx names: round_robin, ewma, chash, chashsubset, sticky_*). */
    public enum Kind {
        ROUND_ROBIN,
        EWMA,
        CONSISTENT_HASH,
        CONSISTENT_HASH_SUBSET,
        COOKIE_AFFINITY
    }

    /** A new balancer over {@code endpoints} of backend {@code backendName}. */
    public LoadBalancer create(String backendName, List<Endpoint> endpoints) {
        return create(backendName, endpoints, null);
    }

    /**
     * A new balancer that continues the state of {@code previous} (the balancer of the same
     * backend in the running table, or {@code null}) where the algorithm has any: the round-robin
     * position and the EWMA latencies. Call when the table is built, never per request.
     */
    public LoadBalancer create(String backendName, List<Endpoint> endpoints, LoadBalancer previous) {
        Objects.requireNonNull(backendName, "backendName");
        return switch (kind()) {
            case COOKIE_AFFINITY -> CookieAffinity.of(backendName, endpoints, affinity);
            case CONSISTENT_HASH_SUBSET -> ConsistentHashSubset.of(endpoints, hashBy, subsetSize);
            case CONSISTENT_HASH -> ConsistentHash.of(endpoints, hashBy);
            case EWMA -> Ewma.continuing(endpoints, previous);
            case ROUND_ROBIN -> RoundRobin.continuing(endpoints, previous);
        };
    }
}
