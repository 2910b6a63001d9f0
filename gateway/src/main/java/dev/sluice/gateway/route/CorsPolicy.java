package dev.sluice.gateway.route;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * ingress-nginx's {@code enable-cors} of one location (SPEC §7), with the origin list turned into
 * a matcher once, when the table is built.
 *
 * <p>Origin matching ({@link #allowOrigin}): with {@code *} in the list every request is accepted
 * and {@code Access-Control-Allow-Origin} is literally {@code *}, even without an {@code Origin}
 * header. Otherwise the request's {@code Origin} must equal an entry
 * {@code scheme://host[:port]} (case-insensitive; the port must match exactly, no port matches
 * only no port) or match a wildcard entry {@code scheme://*.domain[:port]} whose {@code *} is one
 * label of {@code [A-Za-z0-9-]}: {@code http://*.origin.cors.com} accepts
 * {@code http://foo.origin.cors.com} but neither {@code http://bar.foo.origin.cors.com} nor
 * {@code http://origin.cors.com}. An accepted origin is echoed as sent.
 *
 * <p>Immutable; equality covers the settings, not the matcher derived from them.
 *
 * <p>Settings:
 * origins          the validated {@code cors-allow-origin} entries ({@code ["*"]} for any)
 * allowMethods     {@code Access-Control-Allow-Methods}
 * allowHeaders     {@code Access-Control-Allow-Headers}
 * exposeHeaders    {@code Access-Control-Expose-Headers}, or {@code null} (not sent)
 * allowCredentials whether {@code Access-Control-Allow-Credentials: true} is sent
 * maxAge           {@code Access-Control-Max-Age} in seconds
 */
public final class CorsPolicy {
    public static final String DEFAULT_ALLOW_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS";
    public static final String DEFAULT_ALLOW_HEADERS =
            "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization";
    public static final long DEFAULT_MAX_AGE = 1728000;

    /** {@code enable-cors: "true"} with every other setting at its default. */
    public static final CorsPolicy DEFAULTS =
            new CorsPolicy(List.of("*"), DEFAULT_ALLOW_METHODS, DEFAULT_ALLOW_HEADERS, null, true, DEFAULT_MAX_AGE);

    private final List<String> origins;
    private final String allowMethods;
    private final String allowHeaders;
    private final String exposeHeaders;
    private final boolean allowCredentials;
    private final long maxAge;
    private final Matcher matcher;

    public CorsPolicy(List<String> origins, String allowMethods, String allowHeaders, String exposeHeaders,
            boolean allowCredentials, long maxAge) {
        this.origins = List.copyOf(origins);
        this.allowMethods = Objects.requireNonNull(allowMethods, "allowMethods");
        this.allowHeaders = Objects.requireNonNull(allowHeaders, "allowHeaders");
        this.exposeHeaders = exposeHeaders == null || exposeHeaders.isEmpty() ? null : exposeHeaders;
        this.allowCredentials = allowCredentials;
        this.maxAge = maxAge;
        this.matcher = new Matcher(this.origins);
    }

    public List<String> origins() {
        return origins;
    }

    public String allowMethods() {
        return allowMethods;
    }

    public String allowHeaders() {
        return allowHeaders;
    }

    /** {@code Access-Control-Expose-Headers}, or {@code null} when not sent. */
    public String exposeHeaders() {
        return exposeHeaders;
    }

    public boolean allowCredentials() {
        return allowCredentials;
    }

    public long maxAge() {
        return maxAge;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CorsPolicy c && origins.equals(c.origins) && allowMethods.equals(c.allowMethods)
                && allowHeaders.equals(c.allowHeaders) && Objects.equals(exposeHeaders, c.exposeHeaders)
                && allowCredentials == c.allowCredentials && maxAge == c.maxAge;
    }

    @Override
    public int hashCode() {
        return Objects.hash(origins, allowMethods, allowHeaders, exposeHeaders, allowCredentials, maxAge);
    }

    @Override
    public String toString() {
        return "CorsPolicy[origins=" + origins + ", methods=" + allowMethods + ", headers=" + allowHeaders
                + ", expose=" + exposeHeaders + ", credentials=" + allowCredentials + ", maxAge=" + maxAge + "]";
    }

    /** {@code scheme://} + {@code .domain[:port]} of a wildcard entry, lower case. */
    private record Wildcard(String schemePrefix, String suffix) {}

    /** The origin list as lookups: exact origins, wildcard entries, and whether {@code *} was listed. */
    private static final class Matcher {
        final boolean any;
        final Set<String> exact = new HashSet<>();
        final List<Wildcard> wildcards = new ArrayList<>();

        Matcher(List<String> origins) {
            boolean star = false;
            for (String o : origins) {
                String lower = o.toLowerCase(Locale.ROOT);
                if (lower.equals("*")) {
                    star = true;
                    continue;
                }
                int sep = lower.indexOf("://");
                if (sep > 0 && lower.startsWith("*.", sep + 3)) {
                    wildcards.add(new Wildcard(lower.substring(0, sep + 3), lower.substring(sep + 4)));
                } else {
                    exact.add(lower);
                }
            }
            any = star;
        }

        boolean matches(String origin) {
            String lower = origin.toLowerCase(Locale.ROOT);
            if (exact.contains(lower)) {
                return true;
            }
            for (Wildcard w : wildcards) {
                if (lower.startsWith(w.schemePrefix) && lower.endsWith(w.suffix)) {
                    int start = w.schemePrefix.length();
                    int end = lower.length() - w.suffix.length();
                    if (end > start && isLabel(lower, start, end)) {
                        return true;
                    }
                }
            }
            return false;
        }

        private static boolean isLabel(String s, int start, int end) {
            for (int i = start; i < end; i++) {
                char c = s.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The {@code Access-Control-Allow-Origin} value for a request: {@code "*"} when any origin is
     * allowed, the request's {@code origin} when it matches, else {@code null} (no CORS headers,
     * no local preflight answer).
     */
    public String allowOrigin(String origin) {
        Matcher m = matcher;
        if (m.any) {
            return "*";
        }
        return origin != null && !origin.isEmpty() && m.matches(origin) ? origin : null;
    }
}
