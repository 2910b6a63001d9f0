package dev.sluice.gateway.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * NGINX's {@code limit_req ... nodelay} for one zone: a leaky bucket per client key that
 * answers allowed or denied (the caller turns denied into 503, or {@code limit_req_status}).
 *
 * <p>The state per key is NGINX's {@code ngx_http_limit_req_node_t}: {@code excess} in
 * milli-requests and {@code last}, the time of the last accepted request in milliseconds. A
 * request at {@code now} computes, exactly as {@code ngx_http_limit_req_lookup}:
 * <pre>
 *   ms     = now - last            (below -60 s: 1; between -60 s and 0: 0 — a clock step back)
 *   excess = node.excess - rate * ms / 1000 + 1000;  if (excess &lt; 0) excess = 0
 *   excess &gt; burst * 1000  → denied, node unchanged
 *   otherwise              → allowed, node.excess = excess, node.last = now (only if ms != 0)
 * </pre>
 * A key seen for the first time gets a node with {@code excess = 0}: it is allowed and leaves
 * no excess behind. Example, {@code limit-rps: 1} (rate 1000), multiplier 5 (burst 5), six
 * simultaneous requests: excess after each is 0, 1000, 2000, 3000, 4000, 5000 — all allowed —
 * and the seventh would make 6000 &gt; 5000: denied. One second later 1000 has leaked away and
 * exactly one more request fits. An empty key is never limited (NGINX skips empty keys;
 * ingress-nginx's {@code limit-allowlist} maps allowed clients to the empty key).
 *
 * <p>Memory is bounded whatever the number of clients: the nodes live in a Caffeine cache of
 * at most {@code maximumKeys} entries (NGINX instead evicts its least recently used nodes
 * when the 5 MB zone is full). An idle node is dropped only once it cannot matter any more:
 * after {@code max(60 s, time for a full burst to leak away)} without an accepted request —
 * NGINX's own expiry rule (60 s idle and fully drained). That idle time is measured by
 * Caffeine's clock ({@code System.nanoTime}), so {@code nowMillis} must tick at real speed.
 * Each key is updated atomically, so
 * the limiter may be called from any number of event-loop threads.
 *
 * <p>Instances come from {@link RateLimiters#forZone}; limiters of the same zone share their
 * nodes, as NGINX's {@code limit_req} directives share the zone's shared memory.
 */
public final class RequestRateLimiter {

    /** Default bound on the number of client keys remembered per zone. */
    public static final long DEFAULT_MAXIMUM_KEYS = 100_000;

    private static final long MIN_KEEP_MILLIS = 60_000;

    /** NGINX's per-key node; {@code keepNanos} is how long an idle node must be remembered. */
    record Node(long excess, long last, long keepNanos) {}

    private final Cache<String, Node> nodes;
    private final RateLimit limit;
    private final long keepNanos;

    private RequestRateLimiter(Cache<String, Node> nodes, RateLimit limit) {
        this.nodes = nodes;
        this.limit = Objects.requireNonNull(limit, "limit");
        this.keepNanos = TimeUnit.MILLISECONDS.toNanos(keepMillis(limit));
    }

    /** A limiter with a zone of its own, remembering at most {@code maximumKeys} clients. */
    public static RequestRateLimiter create(RateLimit limit, long maximumKeys) {
        return new RequestRateLimiter(newZone(maximumKeys), limit);
    }

    /** A limiter with a zone of its own, remembering at most {@value #DEFAULT_MAXIMUM_KEYS} clients. */
    public static RequestRateLimiter create(RateLimit limit) {
        return create(limit, DEFAULT_MAXIMUM_KEYS);
    }

    /** A limiter that applies {@code newLimit} to this limiter's zone (its nodes are kept). */
    RequestRateLimiter withLimit(RateLimit newLimit) {
        return new RequestRateLimiter(nodes, newLimit);
    }

    public RateLimit limit() {
        return limit;
    }

    /**
     * Accounts one request of {@code key} at {@code nowMillis} (any monotonic millisecond
     * clock, the same for every call) and answers whether it may proceed.
     */
    public boolean tryAcquire(String key, long nowMillis) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            return true;
        }
        boolean[] allowed = new boolean[1];
        nodes.asMap().compute(key, (k, node) -> {
            if (node == null) {
                allowed[0] = true;
                return new Node(0, nowMillis, keepNanos);
            }
            long excess = excessAfterOneMore(node, nowMillis);
            if (excess > limit.burstMilli()) {
                return node;
            }
            allowed[0] = true;
            return accepted(node, excess, nowMillis);
        });
        return allowed[0];
    }

    /**
     * Several {@code limit_req} directives on one location (say {@code limit-rps} and
     * {@code limit-rpm}), all keyed by {@code key}: the request passes only if every limiter
     * allows it, and a request denied by one limiter is not counted by the others — NGINX
     * checks the first ones without accounting, checks and accounts the last, and only then
     * accounts the first ones. (As in NGINX this is not one atomic step across zones.)
     */
    public static boolean tryAcquireAll(List<RequestRateLimiter> limiters, String key, long nowMillis) {
        Objects.requireNonNull(key, "key");
        if (limiters.isEmpty() || key.isEmpty()) {
            return true;
        }
        int last = limiters.size() - 1;
        for (int i = 0; i < last; i++) {
            if (!limiters.get(i).wouldAllow(key, nowMillis)) {
                return false;
            }
        }
        if (!limiters.get(last).tryAcquire(key, nowMillis)) {
            return false;
        }
        for (int i = 0; i < last; i++) {
            limiters.get(i).account(key, nowMillis);
        }
        return true;
    }

    /** How many client keys the zone remembers right now (runs pending evictions first). */
    public long trackedKeys() {
        nodes.cleanUp();
        return nodes.estimatedSize();
    }

    private boolean wouldAllow(String key, long nowMillis) {
        Node node = nodes.getIfPresent(key);
        return node == null || excessAfterOneMore(node, nowMillis) <= limit.burstMilli();
    }

    /** ngx_http_limit_req_account: the earlier check passed, so count without checking again. */
    private void account(String key, long nowMillis) {
        nodes.asMap().compute(key, (k, node) -> node == null
                ? new Node(0, nowMillis, keepNanos)
                : accepted(node, excessAfterOneMore(node, nowMillis), nowMillis));
    }

    private Node accepted(Node node, long excess, long nowMillis) {
        // NGINX moves `last` only when time advanced, so a clock that stepped back a little
        // does not push `last` into the past and hand out leak time twice.
        long last = elapsed(node, nowMillis) != 0 ? nowMillis : node.last();
        return new Node(excess, last, keepNanos);
    }

    private long excessAfterOneMore(Node node, long nowMillis) {
        long ms = elapsed(node, nowMillis);
        long leaked = ms == 0 ? 0 : (limit.milliRequestsPerSecond() > Long.MAX_VALUE / ms
                ? Long.MAX_VALUE
                : limit.milliRequestsPerSecond() * ms / 1000);
        long excess = node.excess() - leaked; // both >= 0: no overflow
        return excess < -1000 ? 0 : excess + 1000;
    }

    private static long elapsed(Node node, long nowMillis) {
        long ms = nowMillis - node.last();
        if (ms < -60_000) {
            return 1;
        }
        return Math.max(ms, 0);
    }

    /** max(60 s, time for a full burst to leak away), plus a second for the integer rounding. */
    static long keepMillis(RateLimit limit) {
        long burstMilli = limit.burstMilli();
        long drainMillis = burstMilli > Long.MAX_VALUE / 1000
                ? Long.MAX_VALUE / 2
                : burstMilli * 1000 / limit.milliRequestsPerSecond() + 1000;
        return Math.max(MIN_KEEP_MILLIS, drainMillis);
    }

    static Cache<String, Node> newZone(long maximumKeys) {
        if (maximumKeys < 1) {
            throw new IllegalArgumentException("maximumKeys must be >= 1: " + maximumKeys);
        }
        return Caffeine.newBuilder()
                .maximumSize(maximumKeys)
                .expireAfter(new Expiry<String, Node>() {
                    @Override
                    public long expireAfterCreate(String key, Node node, long currentTime) {
                        return node.keepNanos();
                    }

                    @Override
                    public long expireAfterUpdate(String key, Node node, long currentTime, long currentDuration) {
                        return node.keepNanos();
                    }

                    @Override
                    public long expireAfterRead(String key, Node node, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }
}
