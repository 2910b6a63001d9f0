package dev.sluice.gateway.balance;

import java.util.Locale;
import java.util.Objects;

/**
 * Cookie session affinity of a backend ({@code affinity: cookie} and the
 * {@code session-cookie-*} annotations, SPEC §6.3). Build with {@link #builder()}; every field
 * has ingress-nginx's default.
 *
 * @param mode                    {@code affinity-mode}: {@link Mode#BALANCED} (default) or
 *                                {@link Mode#PERSISTENT}
 * @param cookieName              {@code session-cookie-name}, default {@value #DEFAULT_COOKIE_NAME}
 * @param path                    {@code session-cookie-path}, or {@code null} for the path of the
 *                                matched location
 * @param domain                  {@code session-cookie-domain}, or {@code null}
 * @param expiresSeconds          {@code session-cookie-expires}: {@code Expires = now + N s}, or
 *                                {@code null}
 * @param maxAgeSeconds           {@code session-cookie-max-age}: {@code Max-Age=N}, or {@code null}
 * @param sameSite                {@code session-cookie-samesite}, or {@code null}
 * @param conditionalSameSiteNone {@code session-cookie-conditional-samesite-none}: omit
 *                                {@code SameSite=None} for user agents known to reject it
 * @param secure                  {@code session-cookie-secure}: always {@code Secure}; otherwise
 *                                {@code Secure} only on HTTPS requests
 * @param partitioned             {@code session-cookie-partitioned}: add {@code Partitioned}
 * @param changeOnFailure         {@code session-cookie-change-on-failure}: after a failed attempt,
 *                                pick another endpoint and re-issue the cookie instead of retrying
 *                                the sticky endpoint
 */
public record AffinityConfig(
        Mode mode,
        String cookieName,
        String path,
        String domain,
        Long expiresSeconds,
        Long maxAgeSeconds,
        SameSite sameSite,
        boolean conditionalSameSiteNone,
        boolean secure,
        boolean partitioned,
        boolean changeOnFailure) {

    /** ingress-nginx's default cookie name. */
    public static final String DEFAULT_COOKIE_NAME = "INGRESSCOOKIE";

    public AffinityConfig {
        Objects.requireNonNull(mode, "mode");
        if (cookieName == null || cookieName.isEmpty()) {
            cookieName = DEFAULT_COOKIE_NAME;
        }
        path = path == null || path.isEmpty() ? null : path;
        domain = domain == null || domain.isEmpty() ? null : domain;
    }

    /** {@code affinity: cookie} with every other annotation at its default. */
    public static AffinityConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code affinity-mode}. */
    public enum Mode {
        /**
         * The cookie holds a random key that is consistently hashed onto the endpoints: when the
         * backend scales, some sessions move (and keep their cookie).
         */
        BALANCED,
        /**
         * The cookie names the endpoint itself (salted MD5 of {@code ip:port}): sessions never
         * move while their endpoint lives; when it is gone the client gets a new endpoint and
         * cookie.
         */
        PERSISTENT;

        /** {@code "persistent"} (any case) → PERSISTENT; anything else → BALANCED (the default). */
        public static Mode parse(String annotation) {
            return "persistent".equalsIgnoreCase(annotation) ? PERSISTENT : BALANCED;
        }
    }

    /** The {@code SameSite} cookie attribute. */
    public enum SameSite {
        NONE("None"),
        LAX("Lax"),
        STRICT("Strict");

        private final String attribute;

        SameSite(String attribute) {
            this.attribute = attribute;
        }

        /** The attribute value as sent: {@code None}, {@code Lax} or {@code Strict}. */
        public String attribute() {
            return attribute;
        }

        /** {@code none}/{@code lax}/{@code strict} in any case, or {@code null} for anything else. */
        public static SameSite parse(String annotation) {
            if (annotation == null) {
                return null;
            }
            return switch (annotation.toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "lax" -> LAX;
                case "strict" -> STRICT;
                default -> null;
            };
        }
    }

    /** Collects the annotations; unset fields keep ingress-nginx's defaults. */
    public static final class Builder {
        private Mode mode = Mode.BALANCED;
        private String cookieName = DEFAULT_COOKIE_NAME;
        private String path;
        private String domain;
        private Long expiresSeconds;
        private Long maxAgeSeconds;
        private SameSite sameSite;
        private boolean conditionalSameSiteNone;
        private boolean secure;
        private boolean partitioned;
        private boolean changeOnFailure;

        private Builder() {}

        public Builder mode(Mode mode) {
            this.mode = mode;
            return this;
        }

        public Builder cookieName(String cookieName) {
            this.cookieName = cookieName;
            return this;
        }

        public Builder path(String path) {
            this.path = path;
            return this;
        }

        public Builder domain(String domain) {
            this.domain = domain;
            return this;
        }

        public Builder expiresSeconds(Long seconds) {
            this.expiresSeconds = seconds;
            return this;
        }

        public Builder maxAgeSeconds(Long seconds) {
            this.maxAgeSeconds = seconds;
            return this;
        }

        public Builder sameSite(SameSite sameSite) {
            this.sameSite = sameSite;
            return this;
        }

        public Builder conditionalSameSiteNone(boolean on) {
            this.conditionalSameSiteNone = on;
            return this;
        }

        public Builder secure(boolean on) {
            this.secure = on;
            return this;
        }

        public Builder partitioned(boolean on) {
            this.partitioned = on;
            return this;
        }

        public Builder changeOnFailure(boolean on) {
            this.changeOnFailure = on;
            return this;
        }

        public AffinityConfig build() {
            return new AffinityConfig(mode, cookieName, path, domain, expiresSeconds, maxAgeSeconds, sameSite,
                    conditionalSameSiteNone, secure, partitioned, changeOnFailure);
        }
    }
}
