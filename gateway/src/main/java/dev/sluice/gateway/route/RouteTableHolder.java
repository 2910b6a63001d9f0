package dev.sluice.gateway.route;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The one owner of "which {@link RouteTable} is live". The sync loop publishes; request handling
 * reads {@link #current()} once per request and keeps that snapshot until the request ends.
 */
public final class RouteTableHolder {
    private final AtomicReference<RouteTable> current = new AtomicReference<>(RouteTable.EMPTY);
    private volatile boolean published;
    private volatile long generation;

    public RouteTable current() {
        return current.get();
    }

    /** Makes {@code table} live for every request that starts from now on. */
    public void publish(RouteTable table) {
        current.set(java.util.Objects.requireNonNull(table, "table"));
        generation++; // single writer: the sync loop
        published = true;
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
