package dev.sluice.gateway.balance;

import dev.sluice.gateway.route.Backend;
import java.util.Objects;

/**
 * A backend together with its load balancer: what the proxy picks endpoints from. Build one per
 * backend name per table and share it between all locations that use the backend, so that the
 * rotation and latency state are per upstream as in ingress-nginx.
 *
 * <p>Equality covers the backend and the spec, never the balancer's mutable state, so a rebuilt
 * table with the same content equals the running one and is not republished.
 */
public final class Upstream {
    private final Backend backend;
    private final BalancerSpec spec;
    private final LoadBalancer balancer;

    private Upstream(Backend backend, BalancerSpec spec, LoadBalancer balancer) {
        this.backend = backend;
        this.spec = spec;
        this.balancer = balancer;
    }

    /** The backend balanced as {@code spec} says. */
    public static Upstream of(Backend backend, BalancerSpec spec) {
        return of(backend, spec, null);
    }

    /**
     * As {@link #of(Backend, BalancerSpec)}, continuing the balancer state of {@code previous}
     * (the upstream of the same name in the running table, or {@code null}).
     */
    public static Upstream of(Backend backend, BalancerSpec spec, Upstream previous) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(spec, "spec");
        LoadBalancer prev = previous != null && previous.backend.name().equals(backend.name()) ? previous.balancer : null;
        return new Upstream(backend, spec, spec.create(backend.name(), backend.endpoints(), prev));
    }

    public Backend backend() {
        return backend;
    }

    public String name() {
        return backend.name();
    }

    public BalancerSpec spec() {
        return spec;
    }

    public LoadBalancer balancer() {
        return balancer;
    }

    public boolean hasEndpoints() {
        return backend.hasEndpoints();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Upstream u && backend.equals(u.backend) && spec.equals(u.spec);
    }

    @Override
    public int hashCode() {
        return Objects.hash(backend, spec);
    }

    @Override
    public String toString() {
        return backend + " " + spec.kind();
    }
}
