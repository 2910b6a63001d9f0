package dev.sluice.gateway.access;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * NGINX's {@code limit_conn zone N} ({@code limit-connections: N}): at most {@code limit}
 * requests of one client key in progress at once.
 *
 * <p>{@link #tryAcquire} answers {@code null} when the key already has {@code limit} requests
 * in flight ({@code count >= limit}, NGINX's test), otherwise a {@link Permit} that the caller
 * releases when the request ends. With limit 2: acquire, acquire → two permits; the third →
 * null; release one → the next acquire succeeds. An empty key is never limited (NGINX skips
 * empty keys) and gets a permit that counts nothing.
 *
 * <p>The counters are never evicted while a request holds them — evicting a live counter would
 * let extra requests in, failing open — so they live in a plain concurrent map and an entry is
 * removed when its count drops back to 0: memory is bounded by the requests in flight. Counts
 * change atomically per key; the limiter may be called from any thread.
 *
 * <p>Instances come from {@link ConnectionLimiters#forZone}; limiters of the same zone share
 * their counts, as NGINX's {@code limit_conn} directives share the zone.
 */
public final class ConnectionLimiter {

    private final ConcurrentHashMap<String, Integer> counts;
    private final int limit;

    private ConnectionLimiter(ConcurrentHashMap<String, Integer> counts, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1: " + limit);
        }
        this.counts = counts;
        this.limit = limit;
    }

    /** A limiter with a zone of its own. */
    public static ConnectionLimiter create(int limit) {
        return new ConnectionLimiter(new ConcurrentHashMap<>(), limit);
    }

    /** A limiter applying {@code newLimit} to this limiter's zone (in-flight counts are kept). */
    ConnectionLimiter withLimit(int newLimit) {
        return new ConnectionLimiter(counts, newLimit);
    }

    public int limit() {
        return limit;
    }

    /** A permit for one more request of {@code key}, or {@code null} when the key is at its limit. */
    public Permit tryAcquire(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            return Permit.NONE;
        }
        boolean[] granted = new boolean[1];
        counts.compute(key, (k, count) -> {
            int n = count == null ? 0 : count;
            if (n >= limit) {
                return count;
            }
            granted[0] = true;
            return n + 1;
        });
        return granted[0] ? new Permit(this.counts, key) : null;
    }

    /** Requests of {@code key} in flight in this zone. */
    public int inFlight(String key) {
        return counts.getOrDefault(key, 0);
    }

    /** Keys with at least one request in flight in this zone. */
    public int trackedKeys() {
        return counts.size();
    }

    /**
     * One request in flight; {@link #release()} gives the slot back exactly once, however often
     * it is called (a request can end by completion and by a closed channel). {@link #close()}
     * releases too, for try-with-resources.
     */
    public static final class Permit implements AutoCloseable {

        static final Permit NONE = new Permit(null, null);

        private final ConcurrentHashMap<String, Integer> counts;
        private final String key;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(ConcurrentHashMap<String, Integer> counts, String key) {
            this.counts = counts;
            this.key = key;
        }

        public void release() {
            if (counts == null || !released.compareAndSet(false, true)) {
                return;
            }
            // Removing the entry at zero is what bounds the map; computeIfPresent makes the
            // decrement and the removal one atomic step, so a concurrent acquire sees either.
            counts.computeIfPresent(key, (k, count) -> count <= 1 ? null : count - 1);
        }

        @Override
        public void close() {
            release();
        }
    }
}
