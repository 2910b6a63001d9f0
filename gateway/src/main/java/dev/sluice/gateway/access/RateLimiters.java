package dev.sluice.gateway.access;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code limit_req_zone}s of the process, by zone name, so that a client's state survives
 * the rebuild of the routing table as NGINX's zones survive a reload.
 *
 * <p>Rules, as NGINX applies them on reload (a zone whose key is unchanged keeps its shared
 * memory, and the new {@code rate=} / {@code burst=} apply to the old nodes):
 * <ul>
 *   <li>{@code forZone("ns_web_rps", perSecond(5, 5))} twice → the same limiter, same state;</li>
 *   <li>then {@code forZone("ns_web_rps", perSecond(2, 5))} → a limiter with the new limit over
 *       the same per-client state: a client that used up its burst stays limited;</li>
 *   <li>{@link #retainZones} after a table publish drops the zones no route uses any more, so
 *       the registry holds no more zones than the live table (plus whatever the caller keeps).</li>
 * </ul>
 * Thread-safe. Each zone remembers at most {@code maximumKeysPerZone} clients.
 */
public final class RateLimiters {

    private final long maximumKeysPerZone;
    private final ConcurrentHashMap<String, RequestRateLimiter> zones = new ConcurrentHashMap<>();

    public RateLimiters() {
        this(RequestRateLimiter.DEFAULT_MAXIMUM_KEYS);
    }

    public RateLimiters(long maximumKeysPerZone) {
        if (maximumKeysPerZone < 1) {
            throw new IllegalArgumentException("maximumKeysPerZone must be >= 1: " + maximumKeysPerZone);
        }
        this.maximumKeysPerZone = maximumKeysPerZone;
    }

    /** The limiter of {@code zone} applying {@code limit}; see the class comment for reuse. */
    public RequestRateLimiter forZone(String zone, RateLimit limit) {
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(limit, "limit");
        RequestRateLimiter current = zones.get(zone);
        if (current != null && current.limit().equals(limit)) {
            return current;
        }
        return zones.compute(zone, (z, existing) -> {
            if (existing == null) {
                return RequestRateLimiter.create(limit, maximumKeysPerZone);
            }
            return existing.limit().equals(limit) ? existing : existing.withLimit(limit);
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
