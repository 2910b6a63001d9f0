package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Upstream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The one owner of "which {@link RouteTable} is live". The sync loop publishes; request handling
 * reads {@link #current()} once per request and keeps that snapshot until the request ends.
 */
public final class RouteTableHolder {
    private final AtomicReference<RouteTable> current = new AtomicReference<>(RouteTable.EMPTY);
    private volatile boolean published;
    private volatile long generation;
    private final List<Consumer<RouteTable>> beforePublish = new CopyOnWriteArrayList<>();
    private final List<Consumer<RouteTable>> beforeConfigurationChange = new CopyOnWriteArrayList<>();
    /** The live table's upstreams by name, the first of each name (publishing thread only). */
    private java.util.Map<String, Upstream> liveByName = java.util.Map.of();

    public RouteTable current() {
        return current.get();
    }

    /**
     * Makes {@code table} live for every request that starts from now on. Its upstreams first get
     * their live balancers, continuing those of the running table's upstreams of the same name
     * (round-robin position, EWMA scores, affinity state), so republishing never restarts them.
     */
    public void publish(RouteTable table) {
        publish(table, false);
    }

    /**
     * {@link #publish(RouteTable)}, told by the publisher whether {@code table} has the live
     * table's configuration and differs from it at most in endpoint addresses. Then the
     * listeners of {@link #beforeConfigurationChange} are skipped: what they derive from the
     * configuration (the metric series of its locations) is what they derived last time.
     */
    public void publish(RouteTable table, boolean sameConfiguration) {
        java.util.Objects.requireNonNull(table, "table");
        // one walk of the new table: the live upstreams by name were collected at the last publish
        java.util.Map<String, Upstream> running = liveByName;
        java.util.Map<String, Upstream> next = new java.util.HashMap<>();
        table.forEachUpstream(u -> {
            u.continueFrom(running.get(u.name()));
            next.putIfAbsent(u.name(), u);
        });
        liveByName = next;
        for (Consumer<RouteTable> l : beforePublish) {
            l.accept(table);
        }
        if (!sameConfiguration || !published) {
            for (Consumer<RouteTable> l : beforeConfigurationChange) {
                l.accept(table);
            }
        }
        current.set(table);
        generation++; // single writer: the sync loop
        published = true;
    }

    /**
     * Runs {@code listener} on the publishing thread with every table just before it becomes live
     * (e.g. to build the TLS contexts of its certificates off the event loops). A listener must
     * not throw.
     */
    public void beforePublish(Consumer<RouteTable> listener) {
        beforePublish.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    /**
     * As {@link #beforePublish}, but only for a table whose configuration may differ from the
     * live one's: not when the publisher says only endpoint addresses changed.
     */
    public void beforeConfigurationChange(Consumer<RouteTable> listener) {
        beforeConfigurationChange.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    /** Whether a table has been published since start (readiness). */
    public boolean isPublished() {
        return published;
    }

    /** How many tables have been published. */
    public long generation() {
        return generation;
    }
}
