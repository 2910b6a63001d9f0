package dev.sluice.gateway.access;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code limit_conn_zone}s of the process, by zone name, so that in-flight counts survive
 * the rebuild of the routing table.
 *
 * <p>{@code forZone("ns_web_conn", 10)} twice → the same limiter; {@code forZone("ns_web_conn",
 * 3)} afterwards → a limiter with limit 3 over the same counts, so requests already in flight
 * still count (a fresh zone would let a client in beyond the limit until they finish); permits
 * handed out before the change release into those same counts. {@link #retainZones} after a
 * table publish drops zones no route uses; permits still held on a dropped zone stay valid and
 * simply release into the forgotten counts. Thread-safe.
 */
public final class ConnectionLimiters {

    private final ConcurrentHashMap<String, ConnectionLimiter> zones = new ConcurrentHashMap<>();

    /** The limiter of {@code zone} applying {@code limit} (at least 1). */
    public ConnectionLimiter forZone(String zone, int limit) {
        Objects.requireNonNull(zone, "zone");
        ConnectionLimiter current = zones.get(zone);
        if (current != null && current.limit() == limit) {
            return current;
        }
        return zones.compute(zone, (z, existing) -> {
            if (existing == null) {
                return ConnectionLimiter.create(limit);
            }
            return existing.limit() == limit ? existing : existing.withLimit(limit);
        });
    }

    /** Forgets every zone not in {@code liveZones} (call it after publishing a table). */
    public void retainZones(Set<String> liveZones) {
        zones.keySet().retainAll(liveZones);
    }

    /** The zone names currently held. */
    public Set<String> zones() {
        return Set.copyOf(zones.keySet());
    }
}
