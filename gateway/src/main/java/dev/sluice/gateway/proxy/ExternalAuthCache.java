package dev.sluice.gateway.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cache of external auth answers ({@code auth-cache-key} + {@code auth-cache-duration}),
 * standing in for the {@code auth_cache} zone of ingress-nginx's {@code proxy_cache}.
 *
 * <p>Keys are computed by the caller (ingress-nginx: server name, auth location and the expanded
 * {@code auth-cache-key}). An answer is kept for the duration its status gets from
 * {@link #parseCacheDuration}, unless the response headers decide otherwise, as NGINX's proxy
 * cache honours them by default: {@code X-Accel-Expires}, then {@code Cache-Control}
 * ({@code no-cache}/{@code no-store}/{@code private} forbid caching, {@code s-maxage} or
 * {@code max-age} set the lifetime), then {@code Expires}; a {@code Set-Cookie} or
 * {@code Vary: *} answer is never cached. Failures (status 0) are never cached. An entry not read
 * for 30 minutes is dropped early ({@code inactive=30m}). Bounded: the least valuable entries
 * are evicted beyond {@code maxEntries}. Thread-safe.
 */
public final class ExternalAuthCache {
    /** ingress-nginx's {@code auth-cache-duration} when a cache key is set and no duration. */
    public static final String DEFAULT_CACHE_DURATION = "200 202 401 5m";
    /** The key of {@code any} in a validity map: every status not listed before it. */
    public static final int ANY_STATUS = 0;
    public static final int DEFAULT_MAX_ENTRIES = 10_000;
    /** {@code proxy_cache_path … inactive=30m} of ingress-nginx's auth cache. */
    static final Duration INACTIVE = Duration.ofMinutes(30);

    private static final Pattern TIME = Pattern.compile("(\\d{1,9})(ms|s|m|h|d|w|M|y)");
    private static final Pattern STATUS = Pattern.compile("\\d{3}");

    private final Cache<String, Entry> cache;
    private final Ticker ticker;

    /** A cached answer and when (ticker time) it stops being valid. */
    private record Entry(ExternalAuthResult result, long expiresAtNanos) {}

    /** A cache of {@link #DEFAULT_MAX_ENTRIES} entries on the system clock. */
    public ExternalAuthCache() {
        this(DEFAULT_MAX_ENTRIES, Ticker.systemTicker());
    }

    /** A cache of at most {@code maxEntries} entries whose time is read from {@code ticker}. */
    public ExternalAuthCache(int maxEntries, Ticker ticker) {
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        long inactive = INACTIVE.toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .ticker(ticker)
                .executor(Runnable::run) // maintenance on the caller: no hop to the common pool
                .expireAfter(new Expiry<String, Entry>() {
                    @Override
                    public long expireAfterCreate(String key, Entry e, long now) {
                        return Math.min(e.expiresAtNanos() - now, inactive);
                    }

                    @Override
                    public long expireAfterUpdate(String key, Entry e, long now, long current) {
                        return expireAfterCreate(key, e, now);
                    }

                    @Override
                    public long expireAfterRead(String key, Entry e, long now, long current) {
                        return expireAfterCreate(key, e, now);
                    }
                })
                .build();
    }

    /** The valid cached answer for {@code key}, or {@code null}. */
    public ExternalAuthResult get(String key) {
        Entry e = cache.getIfPresent(key);
        return e == null ? null : e.result();
    }

    /**
     * Caches {@code result} under {@code key} for as long as {@code validity} and its headers allow
     * (see {@link #lifetime}); does nothing if that is not at all.
     */
    public void put(String key, ExternalAuthResult result, Map<Integer, Duration> validity) {
        Objects.requireNonNull(key, "key");
        Duration ttl = lifetime(result, validity, Instant.now());
        if (ttl == null) {
            return;
        }
        cache.put(key, new Entry(result, ticker.read() + ttl.toNanos()));
    }

    /** How many entries the cache holds (possibly counting expired ones not yet cleaned up). */
    public long size() {
        return cache.estimatedSize();
    }

    /**
     * How long NGINX's proxy cache would keep {@code result}, or {@code null} if it would not
     * cache it.
     *
     * @param validity the {@code auth-cache-duration} as {@link #parseCacheDuration} returns it
     * @param now      the wall-clock time, for {@code Expires}
     */
    public static Duration lifetime(ExternalAuthResult result, Map<Integer, Duration> validity, Instant now) {
        if (!result.answered()) {
            return null;
        }
        HttpHeaders h = result.headers();
        if (h.contains(HttpHeaderNames.SET_COOKIE) || h.contains(HttpHeaderNames.VARY, "*", true)) {
            return null;
        }
        Duration fromHeaders = fromHeaders(h, now);
        Duration ttl;
        if (fromHeaders != null) {
            ttl = fromHeaders;
        } else {
            ttl = validity.get(result.status());
            if (ttl == null) {
                ttl = validity.get(ANY_STATUS);
            }
        }
        return ttl == null || ttl.isNegative() || ttl.isZero() ? null : ttl;
    }

    /** The lifetime the response headers set, {@link Duration#ZERO} if they forbid caching, else {@code null}. */
    private static Duration fromHeaders(HttpHeaders h, Instant now) {
        String accel = h.get("X-Accel-Expires");
        if (accel != null) {
            accel = accel.trim();
            try {
                if (accel.startsWith("@")) {
                    return Duration.between(now, Instant.ofEpochSecond(Long.parseLong(accel.substring(1))));
                }
                return Duration.ofSeconds(Long.parseLong(accel));
            } catch (NumberFormatException e) {
                // NGINX ignores an unparsable value
            }
        }
        String cc = h.get(HttpHeaderNames.CACHE_CONTROL);
        if (cc != null) {
            String v = cc.toLowerCase(Locale.ROOT);
            if (v.contains("no-cache") || v.contains("no-store") || v.contains("private")) {
                return Duration.ZERO;
            }
            Long seconds = directive(v, "s-maxage=");
            if (seconds == null) {
                seconds = directive(v, "max-age=");
            }
            if (seconds != null) {
                return Duration.ofSeconds(seconds);
            }
        }
        String expires = h.get(HttpHeaderNames.EXPIRES);
        if (expires != null) {
            try {
                return Duration.between(now, ZonedDateTime.parse(expires.trim(), DateTimeFormatter.RFC_1123_DATE_TIME));
            } catch (DateTimeParseException e) {
                return Duration.ZERO; // an invalid date means "already expired" (RFC 9111 §5.3)
            }
        }
        return null;
    }

    private static Long directive(String cacheControl, String name) {
        int i = cacheControl.indexOf(name);
        if (i < 0) {
            return null;
        }
        int start = i + name.length();
        int end = start;
        while (end < cacheControl.length() && Character.isDigit(cacheControl.charAt(end))) {
            end++;
        }
        if (end == start || end - start > 12) {
            return null;
        }
        return Long.parseLong(cacheControl.substring(start, end));
    }

    /**
     * Parses {@code auth-cache-duration}: comma-separated {@code proxy_cache_valid} arguments,
     * each {@code [code ...] time}, e.g. {@code "200 202 401 5m"} or {@code "200 202 10m, 401 5m"}.
     * Codes are 100–599 or {@code any}; the time is one number with a unit ({@code ms s m h d w M
     * y}); a time alone means codes 200, 301 and 302. A status keeps the first duration given for
     * it (NGINX checks the list in order), so codes after {@code any} are shadowed by it. A
     * {@code null} or blank value means {@value #DEFAULT_CACHE_DURATION}.
     *
     * @return status → lifetime, in order; {@link #ANY_STATUS} stands for {@code any}
     * @throws IllegalArgumentException if an entry is not of that form (ingress-nginx then denies
     *                                  the location)
     */
    public static Map<Integer, Duration> parseCacheDuration(String annotationValue) {
        if (annotationValue == null || annotationValue.isBlank()) {
            return parseCacheDuration(DEFAULT_CACHE_DURATION);
        }
        Map<Integer, Duration> out = new LinkedHashMap<>();
        for (String entry : annotationValue.split(",")) {
            String[] tokens = entry.trim().split("\\s+");
            if (tokens.length == 1 && tokens[0].isEmpty()) {
                continue;
            }
            Duration time = parseTime(tokens[tokens.length - 1], annotationValue);
            if (tokens.length == 1) {
                add(out, 200, time);
                add(out, 301, time);
                add(out, 302, time);
                continue;
            }
            for (int i = 0; i < tokens.length - 1; i++) {
                add(out, parseStatus(tokens[i], annotationValue), time);
            }
        }
        if (out.isEmpty()) {
            return parseCacheDuration(DEFAULT_CACHE_DURATION);
        }
        return Collections.unmodifiableMap(out);
    }

    private static void add(Map<Integer, Duration> out, int status, Duration time) {
        if (!out.containsKey(ANY_STATUS)) {
            out.putIfAbsent(status, time);
        }
    }

    private static int parseStatus(String token, String value) {
        if (token.equals("any")) {
            return ANY_STATUS;
        }
        if (STATUS.matcher(token).matches()) {
            int status = Integer.parseInt(token);
            if (status >= 100 && status <= 599) {
                return status;
            }
        }
        throw new IllegalArgumentException("invalid auth-cache-duration \"" + value + "\": \"" + token
                + "\" is not a status code or any");
    }

    private static Duration parseTime(String token, String value) {
        Matcher m = TIME.matcher(token);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid auth-cache-duration \"" + value + "\": \"" + token
                    + "\" is not a time such as 5m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "w" -> Duration.ofDays(7 * n);
            case "M" -> Duration.ofDays(30 * n);
            default -> Duration.ofDays(365 * n); // y
        };
    }
}
