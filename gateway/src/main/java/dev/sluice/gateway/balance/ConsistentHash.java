package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Consistent hashing ({@code upstream-hash-by}): the evaluated key always maps to the same
 * endpoint while the endpoint set is unchanged, and removing one endpoint of n only moves the
 * keys it owned (about 1/n). Ketama-style ring with {@value HashRing#POINTS_PER_NODE} points per
 * {@code ip:port}, as ingress-nginx's {@code chash} balancer.
 *
 * <p>A retry goes to the next endpoint clockwise on the ring that the request has not tried yet
 * (ingress-nginx would retry the same endpoint).
 */
public final class ConsistentHash implements LoadBalancer {
    /** Endpoints in a canonical order, so the ring never depends on the order they were listed in. */
    static final Comparator<Endpoint> CANONICAL =
            Comparator.comparing(Endpoint::address).thenComparingInt(Endpoint::port);

    private final List<Endpoint> endpoints;
    private final HashKeyExpression key;
    private final HashRing ring;

    private ConsistentHash(List<Endpoint> endpoints, HashKeyExpression key) {
        this.endpoints = sorted(endpoints);
        this.key = Objects.requireNonNull(key, "key");
        this.ring = new HashRing(this.endpoints.stream().map(Endpoint::toString).toList());
    }

    public static ConsistentHash of(List<Endpoint> endpoints, HashKeyExpression key) {
        return new ConsistentHash(endpoints, key);
    }

    /** The key expression ({@code upstream-hash-by}). */
    public HashKeyExpression key() {
        return key;
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
        String k = key.evaluate(req);
        int node = exclude.isEmpty() ? ring.find(k) : ring.find(k, i -> exclude.contains(endpoints.get(i)));
        return endpoints.get(node);
    }

    @Override
    public String toString() {
        return "ConsistentHash[" + key + "]" + endpoints;
    }

    static List<Endpoint> sorted(List<Endpoint> endpoints) {
        List<Endpoint> copy = new ArrayList<>(endpoints);
        copy.sort(CANONICAL);
        return List.copyOf(copy);
    }
}
