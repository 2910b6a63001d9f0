package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import io.netty.handler.codec.DateFormatter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Cookie session affinity ({@code affinity: cookie}, SPEC §6.3), as ingress-nginx's
 * {@code sticky_balanced} / {@code sticky_persistent} balancers.
 *
 * <p>The cookie value is {@code <key>|<backend key>}, the backend key being
 * {@code md5(md5(backend name) + backend name)} in hex. The key is
 * <ul>
 *   <li>{@link AffinityConfig.Mode#BALANCED}: a random token consistently hashed onto the
 *       endpoints; any key maps to some endpoint, so a cookie stays valid when its endpoint goes
 *       away (the session moves to the key's new owner, no new cookie);</li>
 *   <li>{@link AffinityConfig.Mode#PERSISTENT}: {@code md5(backend name + "ip:port")}, naming the
 *       endpoint itself; when that endpoint is gone a new one is picked and a new cookie set.</li>
 * </ul>
 * A {@code Set-Cookie} is produced only when a new endpoint is picked (no cookie, a key that
 * names no endpoint, or a retry with {@code session-cookie-change-on-failure}) and only when the
 * location asked for affinity ({@code affinityPath != null}). Attributes, in ingress-nginx's
 * order: {@code Expires}, {@code Max-Age}, {@code Domain}, {@code Path}, {@code Secure},
 * {@code HttpOnly} (always), {@code SameSite}, {@code Partitioned}. Example:
 * {@code INGRESSCOOKIE=8f2c61a4b09e7d35|5e0a...; Max-Age=3600; Path=/shop; HttpOnly; SameSite=Lax}.
 */
public final class CookieAffinity implements LoadBalancer {
    /**
     * Random keys tried to find an endpoint the request has not failed on. ingress-nginx tries 20,
     * which still lands on a failed endpoint now and then when most have failed; with 100 the odds
     * are below 1e-9 even with one good endpoint of five. Hashing a key costs nanoseconds.
     */
    static final int MAX_NEW_KEY_ATTEMPTS = 100;

    private final String backendName;
    private final String backendKey;
    private final AffinityConfig config;
    private final List<Endpoint> endpoints;
    private final HashRing ring;
    private final Map<String, Endpoint> endpointByKey;
    private final List<String> keyByIndex;
    private final Clock clock;
    private final Supplier<? extends RandomGenerator> random;

    private CookieAffinity(String backendName, List<Endpoint> endpoints, AffinityConfig config, Clock clock,
            Supplier<? extends RandomGenerator> random) {
        this.backendName = Objects.requireNonNull(backendName, "backendName");
        this.config = Objects.requireNonNull(config, "config");
        this.endpoints = ConsistentHash.sorted(endpoints);
        this.backendKey = md5Hex(md5Hex(backendName) + backendName);
        this.clock = clock;
        this.random = random;
        if (config.mode() == AffinityConfig.Mode.BALANCED) {
            this.ring = new HashRing(this.endpoints.stream().map(Endpoint::toString).toList());
            this.endpointByKey = Map.of();
            this.keyByIndex = List.of();
        } else {
            this.ring = null;
            Map<String, Endpoint> byKey = new HashMap<>();
            List<String> keys = new ArrayList<>();
            for (Endpoint e : this.endpoints) {
                // salted so the cookie does not reveal Pod addresses
                String key = md5Hex(backendName + e);
                byKey.put(key, e);
                keys.add(key);
            }
            this.endpointByKey = Map.copyOf(byKey);
            this.keyByIndex = List.copyOf(keys);
        }
    }

    /** Affinity over the endpoints of backend {@code backendName} ({@code <ns>-<svc>-<port>}). */
    public static CookieAffinity of(String backendName, List<Endpoint> endpoints, AffinityConfig config) {
        return new CookieAffinity(backendName, endpoints, config, Clock.systemUTC(), ThreadLocalRandom::current);
    }

    /** As {@link #of} with a chosen clock (for {@code Expires}) and random source (tests). */
    static CookieAffinity of(String backendName, List<Endpoint> endpoints, AffinityConfig config, Clock clock,
            Supplier<? extends RandomGenerator> random) {
        return new CookieAffinity(backendName, endpoints, config, clock, random);
    }

    public AffinityConfig config() {
        return config;
    }

    public String backendName() {
        return backendName;
    }

    /** The second half of this backend's cookie values: {@code md5(md5(name) + name)}. */
    public String backendKey() {
        return backendKey;
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    @Override
    public boolean isAffinitized(RequestView req) {
        String raw = req.cookie(config.cookieName());
        if (raw == null) {
            return false;
        }
        int bar = raw.indexOf('|');
        return bar >= 0 && raw.regionMatches(bar + 1, backendKey, 0, backendKey.length())
                && raw.length() - bar - 1 == backendKey.length();
    }

    /** Picks the sticky endpoint without ever asking for a cookie; see {@link #pick(RequestView, Set, String)}. */
    @Override
    public Endpoint pick(RequestView req, Set<Endpoint> exclude) {
        return pick(req, exclude, null).endpoint();
    }

    @Override
    public Pick pick(RequestView req, Set<Endpoint> exclude, String affinityPath) {
        if (endpoints.isEmpty()) {
            return Pick.of(null);
        }
        String key = upstreamKey(req.cookie(config.cookieName()));
        Endpoint sticky = key == null ? null : find(key);
        boolean retryAfterFailure = !exclude.isEmpty();
        if (sticky != null && !(retryAfterFailure && config.changeOnFailure())) {
            return Pick.of(sticky);
        }
        RandomGenerator rnd = random.get();
        String newKey;
        Endpoint chosen;
        if (ring != null) {
            newKey = randomKey(rnd);
            chosen = endpoints.get(ring.find(newKey));
            for (int i = 1; i < MAX_NEW_KEY_ATTEMPTS && exclude.contains(chosen); i++) {
                newKey = randomKey(rnd);
                chosen = endpoints.get(ring.find(newKey));
            }
        } else {
            List<Integer> candidates = new ArrayList<>(endpoints.size());
            for (int i = 0; i < endpoints.size(); i++) {
                if (!exclude.contains(endpoints.get(i))) {
                    candidates.add(i);
                }
            }
            int index = candidates.isEmpty()
                    ? rnd.nextInt(endpoints.size())
                    : candidates.get(rnd.nextInt(candidates.size()));
            chosen = endpoints.get(index);
            newKey = keyByIndex.get(index);
        }
        return new Pick(chosen, affinityPath == null ? null : setCookie(newKey, req, affinityPath));
    }

    /** The endpoint a cookie key names, or {@code null}. */
    private Endpoint find(String key) {
        return ring != null ? endpoints.get(ring.find(key)) : endpointByKey.get(key);
    }

    /** The part before {@code |}, or {@code null} when there is no usable key. */
    private static String upstreamKey(String cookieValue) {
        if (cookieValue == null) {
            return null;
        }
        int bar = cookieValue.indexOf('|');
        String key = bar < 0 ? cookieValue : cookieValue.substring(0, bar);
        return key.isEmpty() ? null : key;
    }

    private static String randomKey(RandomGenerator rnd) {
        // 16 hex digits; the top bit is forced so the length never varies
        return Long.toHexString(rnd.nextLong() | Long.MIN_VALUE);
    }

    private String setCookie(String key, RequestView req, String affinityPath) {
        StringBuilder sb = new StringBuilder(160);
        sb.append(config.cookieName()).append('=').append(key).append('|').append(backendKey);
        if (config.expiresSeconds() != null) {
            long at = clock.millis() + config.expiresSeconds() * 1000L;
            sb.append("; Expires=").append(DateFormatter.format(new Date(at)));
        }
        if (config.maxAgeSeconds() != null) {
            sb.append("; Max-Age=").append(config.maxAgeSeconds());
        }
        if (config.domain() != null) {
            sb.append("; Domain=").append(config.domain());
        }
        sb.append("; Path=").append(config.path() != null ? config.path() : affinityPath);
        if (config.secure() || req.https()) {
            sb.append("; Secure");
        }
        sb.append("; HttpOnly");
        AffinityConfig.SameSite sameSite = config.sameSite();
        if (sameSite != null
                && !(sameSite == AffinityConfig.SameSite.NONE && config.conditionalSameSiteNone()
                        && !sameSiteNoneCompatible(req.header("user-agent")))) {
            sb.append("; SameSite=").append(sameSite.attribute());
        }
        if (config.partitioned()) {
            sb.append("; Partitioned");
        }
        return sb.toString();
    }

    /**
     * Whether a user agent accepts {@code SameSite=None} (ingress-nginx {@code same_site.lua}, after
     * chromium.org "SameSite=None: known incompatible clients"): not Chrome 40–69-ish
     * ({@code Chrome/4}, {@code Chrome/5}, {@code Chrome/6}), not iOS 12, not Safari on macOS 10.14.
     */
    static boolean sameSiteNoneCompatible(String userAgent) {
        if (userAgent == null) {
            return true;
        }
        if (userAgent.contains("Chrome/4") || userAgent.contains("Chrome/5") || userAgent.contains("Chrome/6")) {
            return false;
        }
        if (userAgent.contains("CPU iPhone OS 12") || userAgent.contains("iPad; CPU OS 12")) {
            return false;
        }
        return !(userAgent.contains("Macintosh") && userAgent.contains("Intel Mac OS X 10_14")
                && userAgent.contains("Safari") && !userAgent.contains("Chrome"));
    }

    static String md5Hex(String s) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            return HexFormat.of().formatHex(md5.digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every JVM", e);
        }
    }

    @Override
    public String toString() {
        return "CookieAffinity[" + backendName + ", " + config.mode() + ", " + config.cookieName() + "]" + endpoints;
    }
}
