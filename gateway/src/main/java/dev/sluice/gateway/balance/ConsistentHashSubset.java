package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Consistent hashing to a subset ({@code upstream-hash-by} with {@code upstream-hash-by-subset:
 * "true"}): the key always maps to the same group of {@code subsetSize} endpoints (default 3) and
 * each request picks one of the group at random, spreading one hot key over a few endpoints
 * instead of one. Built like ingress-nginx's {@code chashsubset}: the endpoints (in canonical
 * order) are cut into groups {@code set1, set2, ...} of {@code subsetSize}; the last group is
 * filled up with endpoints from the start of the list; the key is hashed onto a ring of the
 * group names.
 *
 * <p>A retry picks another member of the group; when the whole group has been tried it falls
 * back to any untried endpoint. (ingress-nginx's extra {@code ENDPOINT} cookie and
 * {@code upstream-hash-by-subset-endpoint} are not reproduced.)
 */
public final class ConsistentHashSubset implements LoadBalancer {
    /** Default of {@code upstream-hash-by-subset-size}. */
    public static final int DEFAULT_SUBSET_SIZE = 3;

    private final List<Endpoint> endpoints;
    private final HashKeyExpression key;
    private final int subsetSize;
    private final List<List<Endpoint>> subsets;
    private final HashRing ring;
    private final Supplier<? extends RandomGenerator> random;

    private ConsistentHashSubset(
            List<Endpoint> endpoints, HashKeyExpression key, int subsetSize, Supplier<? extends RandomGenerator> random) {
        if (subsetSize < 1) {
            throw new IllegalArgumentException("subset size must be >= 1: " + subsetSize);
        }
        this.endpoints = ConsistentHash.sorted(endpoints);
        this.key = Objects.requireNonNull(key, "key");
        this.subsetSize = subsetSize;
        this.random = random;
        this.subsets = buildSubsets(this.endpoints, subsetSize);
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= subsets.size(); i++) {
            names.add("set" + i);
        }
        this.ring = new HashRing(names);
    }

    public static ConsistentHashSubset of(List<Endpoint> endpoints, HashKeyExpression key, int subsetSize) {
        return new ConsistentHashSubset(endpoints, key, subsetSize, ThreadLocalRandom::current);
    }

    /** As {@link #of} with a chosen random source (tests). */
    static ConsistentHashSubset of(
            List<Endpoint> endpoints, HashKeyExpression key, int subsetSize, Supplier<? extends RandomGenerator> random) {
        return new ConsistentHashSubset(endpoints, key, subsetSize, random);
    }

    public HashKeyExpression key() {
        return key;
    }

    public int subsetSize() {
        return subsetSize;
    }

    /** The groups in ring-name order ({@code set1} first). */
    List<List<Endpoint>> subsets() {
        return subsets;
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    @Override
    public Endpoint pick(RequestView req, Set<Endpoint> exclude) {
        if (endpoints.isEmpty()) {
            return null;
        }
        List<Endpoint> subset = subsets.get(ring.find(key.evaluate(req)));
        RandomGenerator rnd = random.get();
        if (exclude.isEmpty()) {
            return subset.get(rnd.nextInt(subset.size()));
        }
        Endpoint e = randomNotExcluded(subset, exclude, rnd);
        if (e == null) {
            e = randomNotExcluded(endpoints, exclude, rnd);
        }
        return e != null ? e : subset.get(rnd.nextInt(subset.size()));
    }

    @Override
    public String toString() {
        return "ConsistentHashSubset[" + key + ", " + subsetSize + "]" + endpoints;
    }

    private static Endpoint randomNotExcluded(List<Endpoint> candidates, Set<Endpoint> exclude, RandomGenerator rnd) {
        List<Endpoint> left = new ArrayList<>(candidates.size());
        for (Endpoint e : candidates) {
            if (!exclude.contains(e)) {
                left.add(e);
            }
        }
        return left.isEmpty() ? null : left.get(rnd.nextInt(left.size()));
    }

    private static List<List<Endpoint>> buildSubsets(List<Endpoint> endpoints, int size) {
        if (endpoints.isEmpty()) {
            return List.of();
        }
        int sets = (endpoints.size() + size - 1) / size;
        List<List<Endpoint>> out = new ArrayList<>(sets);
        for (int s = 0; s < sets; s++) {
            List<Endpoint> subset = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                // positions past the end wrap to the start of the list, as chashsubset pads
                subset.add(endpoints.get((s * size + k) % endpoints.size()));
            }
            out.add(List.copyOf(subset));
        }
        return List.copyOf(out);
    }
}
