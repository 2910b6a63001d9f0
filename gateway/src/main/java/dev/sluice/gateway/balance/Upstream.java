package dev.sluice.gateway.balance;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A backend together with its load balancer: what the proxy picks endpoints from. Build one per
 * backend name per table and share it between all locations that use the backend, so that the
 * rotation and latency state are per upstream as in ingress-nginx.
 *
 * <p>The translator creates upstreams without a live balancer (backend and spec only: pure data);
 * the live balancer is bound once, when the table is published
 * ({@link #continueFrom(Upstream)} with the running table's upstream of the same name), or on first
 * use for tables that are never published (tests). Binding continues the running state: the same
 * balancer when backend and spec are unchanged, else the round-robin position and the EWMA scores
 * of the endpoints that survive. So an unrelated change elsewhere in the cluster does not restart
 * every rotation, as ingress-nginx re-syncs only the backends whose endpoints changed.
 *
 * <p>Equality covers the backend and the spec, never the balancer's mutable state, so a rebuilt
 * table with the same content equals the running one and is not republished.
 */
public final class Upstream {
    private static final VarHandle BALANCER;

    static {
        try {
            BALANCER = MethodHandles.lookup().findVarHandle(Upstream.class, "balancer", LoadBalancer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Backend backend;
    private final BalancerSpec spec;
    @SuppressWarnings("unused") // set through BALANCER, exactly once
    private volatile LoadBalancer balancer;

    private Upstream(Backend backend, BalancerSpec spec) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    /** The backend balanced as {@code spec} says; the balancer is bound when the table is published. */
    public static Upstream of(Backend backend, BalancerSpec spec) {
        return new Upstream(backend, spec);
    }

    /**
     * As {@link #of(Backend, BalancerSpec)}, bound at once and continuing the balancer state of
     * {@code previous} (see {@link #continueFrom}).
     */
    public static Upstream of(Backend backend, BalancerSpec spec, Upstream previous) {
        Upstream u = new Upstream(backend, spec);
        u.continueFrom(previous);
        return u;
    }

    /**
     * Binds the live balancer, continuing {@code previous} (the running table's upstream of the
     * same backend name, or {@code null}): the very same balancer when backend and spec are equal,
     * else a new one that keeps what the algorithm can keep. Does nothing when already bound.
     * Called on the publishing thread before the table goes live.
     */
    public void continueFrom(Upstream previous) {
        if (balancer != null) {
            return;
        }
        LoadBalancer prev = previous != null && previous.backend.name().equals(backend.name())
                ? previous.balancer : null;
        LoadBalancer next = prev != null && previous.backend.equals(backend) && previous.spec.equals(spec) ? prev
                : spec.create(backend.name(), backend.endpoints(), prev);
        BALANCER.compareAndSet(this, null, next);
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

    /** The live balancer (bound on first use when the table was never published). */
    public LoadBalancer balancer() {
        LoadBalancer b = balancer;
        if (b == null) {
            continueFrom(null);
            b = balancer;
        }
        return b;
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
