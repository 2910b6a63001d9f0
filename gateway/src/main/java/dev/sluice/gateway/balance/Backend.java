package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream: the ready endpoints of one Service port, named {@code <namespace>-<service>-<port>}
 * as ingress-nginx names its upstreams.
 *
 * <p>Equality covers the name, the endpoints and the problem text, never the round-robin cursor,
 * so a rebuilt table with the same endpoints equals the running one and is not republished.
 * The cursor is the only mutable state (shared by all event loops, lock-free).
 */
public final class Backend {
    private final String name;
    private final String service;
    private final List<Endpoint> endpoints;
    private final String problem;
    private final AtomicInteger cursor = new AtomicInteger();

    private Backend(String name, String service, List<Endpoint> endpoints, String problem) {
        this.name = Objects.requireNonNull(name, "name");
        this.service = service;
        this.endpoints = List.copyOf(endpoints);
        this.problem = problem;
    }

    /** A backend with the given ready endpoints (may be empty: requests then get 503). */
    public static Backend of(String name, List<Endpoint> endpoints) {
        return new Backend(name, null, endpoints, null);
    }

    /**
     * A backend of Service {@code service} (its name only, the {@code service} label of
     * ingress-nginx's metrics) with the given ready endpoints. The upstream name cannot give the
     * Service name back: namespace, Service and port name may all contain dashes.
     */
    public static Backend of(String name, String service, List<Endpoint> endpoints) {
        return new Backend(name, service, endpoints, null);
    }

    /**
     * A backend that cannot serve, with the reason (e.g. "service default/web not found");
     * requests routed to it get 503.
     */
    public static Backend unavailable(String name, String problem) {
        return new Backend(name, null, List.of(), Objects.requireNonNull(problem, "problem"));
    }

    /** {@link #unavailable(String, String)} of Service {@code service} (its name only). */
    public static Backend unavailable(String name, String service, String problem) {
        return new Backend(name, service, List.of(), Objects.requireNonNull(problem, "problem"));
    }

    public String name() {
        return name;
    }

    /**
     * The Service name (without namespace or port), or {@code null} when the backend was built
     * without one. Not part of equality: the translator derives it from the same Service
     * reference as the name.
     */
    public String service() {
        return service;
    }

    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** Why this backend has no endpoints, or {@code null}. */
    public String problem() {
        return problem;
    }

    public boolean hasEndpoints() {
        return !endpoints.isEmpty();
    }

    /**
     * The next endpoint in strict rotation, or {@code null} when there is none. Sequential calls
     * visit every endpoint once before repeating one.
     */
    public Endpoint pick() {
        final List<Endpoint> eps = endpoints;
        final int n = eps.size();
        if (n == 0) {
            return null;
        }
        if (n == 1) {
            return eps.get(0);
        }
        return eps.get(Math.floorMod(cursor.getAndIncrement(), n));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Backend b
                && name.equals(b.name)
                && endpoints.equals(b.endpoints)
                && Objects.equals(problem, b.problem);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, endpoints, problem);
    }

    @Override
    public String toString() {
        return name + endpoints + (problem == null ? "" : " (" + problem + ")");
    }
}
