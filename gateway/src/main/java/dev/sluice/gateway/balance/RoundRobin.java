package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Strict rotation over the endpoints ({@code load-balance: round_robin}, the default): sequential
 * picks visit every endpoint once before repeating one, so 600 requests over 3 endpoints give
 * exactly 200 each. A retry skips endpoints already tried by the request and does not advance
 * the shared rotation, so a dead endpoint does not make every request that hits it also push the
 * live endpoints' turn forward (with one dead of two, half of the requests meet the dead one, not
 * all of them).
 *
 * <p>The rotation starts at a random offset so that frequent table rebuilds do not favour the
 * first endpoint; {@link #continuing} keeps the cursor of the balancer it replaces.
 */
public final class RoundRobin implements LoadBalancer {
    private final List<Endpoint> endpoints;
    private final AtomicInteger cursor;

    private RoundRobin(List<Endpoint> endpoints, int start) {
        this.endpoints = List.copyOf(endpoints);
        this.cursor = new AtomicInteger(start);
    }

    /** A rotation over {@code endpoints} in the given order, starting at a random one. */
    public static RoundRobin of(List<Endpoint> endpoints) {
        return new RoundRobin(endpoints, endpoints.isEmpty() ? 0 : ThreadLocalRandom.current().nextInt(endpoints.size()));
    }

    /** A rotation that starts where {@code previous} stopped (or randomly when there is none). */
    public static RoundRobin continuing(List<Endpoint> endpoints, LoadBalancer previous) {
        if (previous instanceof RoundRobin rr) {
            return new RoundRobin(endpoints, rr.cursor.get());
        }
        return of(endpoints);
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    @Override
    public Endpoint pick(RequestView req, Set<Endpoint> exclude) {
        final List<Endpoint> eps = endpoints;
        final int n = eps.size();
        if (n == 0) {
            return null;
        }
        final boolean retry = !exclude.isEmpty();
        final int start = Math.floorMod(retry ? cursor.get() : cursor.getAndIncrement(), n);
        final Endpoint first = eps.get(start);
        if (!retry || !exclude.contains(first)) {
            return first;
        }
        for (int i = 1; i < n; i++) {
            Endpoint e = eps.get((start + i) % n);
            if (!exclude.contains(e)) {
                return e;
            }
        }
        return first;
    }

    @Override
    public String toString() {
        return "RoundRobin" + endpoints;
    }
}
