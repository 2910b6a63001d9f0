package dev.sluice.controller.translate;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The registry of the {@code <prefix>/*} annotations Sluice implements: each key is declared here
 * once, with its value type, its default, its scope and whether a canary Ingress reads it.
 *
 * <p>This is the one place the translator asks "is this key known?", "what does a canary Ingress
 * read?" and "what belongs to the access-control family?"; the parsers
 * ({@link IngressAnnotations}, {@link AccessControl}) read values only through these constants, so
 * a key cannot be read without being declared. A present key under the prefix that is not declared
 * here is reported as not supported — unless it falls in the access-control family
 * ({@link #inAccessControlFamily}), where it denies the Ingress's locations instead (fail closed).
 *
 * <p>{@code docs/configuration.md} documents every key here with the same default, and nothing
 * else ({@code AnnotationRegistryTest} checks both directions).
 */
public enum AnnotationKey {

    // Routing and rewriting
    USE_REGEX("use-regex", Type.BOOL, "false", Scope.LOCATION),
    REWRITE_TARGET("rewrite-target", Type.PATH, null, Scope.LOCATION),
    X_FORWARDED_PREFIX("x-forwarded-prefix", Type.STRING, null, Scope.LOCATION),
    APP_ROOT("app-root", Type.PATH, null, Scope.SERVER),

    // Redirects
    PERMANENT_REDIRECT("permanent-redirect", Type.URL, null, Scope.LOCATION),
    PERMANENT_REDIRECT_CODE("permanent-redirect-code", Type.INT, "301", Scope.LOCATION),
    TEMPORAL_REDIRECT("temporal-redirect", Type.URL, null, Scope.LOCATION),
    TEMPORAL_REDIRECT_CODE("temporal-redirect-code", Type.INT, "302", Scope.LOCATION),
    FROM_TO_WWW_REDIRECT("from-to-www-redirect", Type.BOOL, "false", Scope.SERVER),
    SSL_PASSTHROUGH("ssl-passthrough", Type.BOOL, "false", Scope.SERVER),

    // HTTPS redirect
    SSL_REDIRECT("ssl-redirect", Type.BOOL, "true", Scope.LOCATION),
    FORCE_SSL_REDIRECT("force-ssl-redirect", Type.BOOL, "false", Scope.LOCATION),
    PRESERVE_TRAILING_SLASH("preserve-trailing-slash", Type.BOOL, "false", Scope.LOCATION),

    // CORS
    ENABLE_CORS("enable-cors", Type.BOOL, "false", Scope.LOCATION),
    CORS_ALLOW_ORIGIN("cors-allow-origin", Type.LIST, "*", Scope.LOCATION),
    CORS_ALLOW_METHODS("cors-allow-methods", Type.LIST, "GET, PUT, POST, DELETE, PATCH, OPTIONS", Scope.LOCATION),
    CORS_ALLOW_HEADERS("cors-allow-headers", Type.LIST,
            "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
            Scope.LOCATION),
    CORS_EXPOSE_HEADERS("cors-expose-headers", Type.LIST, null, Scope.LOCATION),
    CORS_ALLOW_CREDENTIALS("cors-allow-credentials", Type.BOOL, "true", Scope.LOCATION),
    CORS_MAX_AGE("cors-max-age", Type.INT, "1728000", Scope.LOCATION),

    // Access control (fail closed, see AccessControl)
    AUTH_TYPE("auth-type", Type.ENUM, null, Scope.ACCESS_CONTROL),
    AUTH_SECRET("auth-secret", Type.SECRET, null, Scope.ACCESS_CONTROL),
    AUTH_SECRET_TYPE("auth-secret-type", Type.ENUM, "auth-file", Scope.ACCESS_CONTROL),
    AUTH_REALM("auth-realm", Type.STRING, "", Scope.ACCESS_CONTROL),
    AUTH_URL("auth-url", Type.URL, null, Scope.ACCESS_CONTROL),
    AUTH_METHOD("auth-method", Type.ENUM, "GET", Scope.ACCESS_CONTROL),
    AUTH_SIGNIN("auth-signin", Type.URL, null, Scope.ACCESS_CONTROL),
    AUTH_SIGNIN_REDIRECT_PARAM("auth-signin-redirect-param", Type.STRING, "rd", Scope.ACCESS_CONTROL),
    AUTH_RESPONSE_HEADERS("auth-response-headers", Type.LIST, null, Scope.ACCESS_CONTROL),
    // no fixed default: the request's own URI is sent
    AUTH_REQUEST_REDIRECT("auth-request-redirect", Type.STRING, null, Scope.ACCESS_CONTROL, "request URI"),
    AUTH_CACHE_KEY("auth-cache-key", Type.EXPRESSION, null, Scope.ACCESS_CONTROL),
    AUTH_CACHE_DURATION("auth-cache-duration", Type.STATUS_DURATIONS, AccessControl.DEFAULT_CACHE_DURATION,
            Scope.ACCESS_CONTROL),
    AUTH_ALWAYS_SET_COOKIE("auth-always-set-cookie", Type.BOOL, "false", Scope.ACCESS_CONTROL),
    AUTH_KEEPALIVE("auth-keepalive", Type.INT, "0", Scope.ACCESS_CONTROL),
    AUTH_KEEPALIVE_REQUESTS("auth-keepalive-requests", Type.INT, "1000", Scope.ACCESS_CONTROL),
    AUTH_KEEPALIVE_TIMEOUT("auth-keepalive-timeout", Type.DURATION, "60s", Scope.ACCESS_CONTROL),
    AUTH_KEEPALIVE_SHARE_VARS("auth-keepalive-share-vars", Type.BOOL, "false", Scope.ACCESS_CONTROL),
    ENABLE_GLOBAL_AUTH("enable-global-auth", Type.BOOL, "true", Scope.ACCESS_CONTROL),
    AUTH_TLS_SECRET("auth-tls-secret", Type.SECRET, null, Scope.ACCESS_CONTROL),
    AUTH_TLS_VERIFY_CLIENT("auth-tls-verify-client", Type.ENUM, "on", Scope.ACCESS_CONTROL),
    AUTH_TLS_VERIFY_DEPTH("auth-tls-verify-depth", Type.INT, "1", Scope.ACCESS_CONTROL),
    AUTH_TLS_ERROR_PAGE("auth-tls-error-page", Type.URL, null, Scope.ACCESS_CONTROL),
    AUTH_TLS_PASS_CERTIFICATE_TO_UPSTREAM("auth-tls-pass-certificate-to-upstream", Type.BOOL, "false",
            Scope.ACCESS_CONTROL),
    ALLOWLIST_SOURCE_RANGE("allowlist-source-range", Type.CIDR_LIST, null, Scope.ACCESS_CONTROL),
    WHITELIST_SOURCE_RANGE("whitelist-source-range", Type.CIDR_LIST, null, Scope.ACCESS_CONTROL),
    DENYLIST_SOURCE_RANGE("denylist-source-range", Type.CIDR_LIST, null, Scope.ACCESS_CONTROL),
    // the limits have no default: absent (like 0) means no limit
    LIMIT_CONNECTIONS("limit-connections", Type.INT, null, Scope.ACCESS_CONTROL),
    LIMIT_RPS("limit-rps", Type.INT, null, Scope.ACCESS_CONTROL),
    LIMIT_RPM("limit-rpm", Type.INT, null, Scope.ACCESS_CONTROL),
    LIMIT_BURST_MULTIPLIER("limit-burst-multiplier", Type.INT, "5", Scope.ACCESS_CONTROL),
    LIMIT_ALLOWLIST("limit-allowlist", Type.CIDR_LIST, null, Scope.ACCESS_CONTROL),
    LIMIT_WHITELIST("limit-whitelist", Type.CIDR_LIST, null, Scope.ACCESS_CONTROL),
    LIMIT_RATE("limit-rate", Type.INT, null, Scope.ACCESS_CONTROL),
    LIMIT_RATE_AFTER("limit-rate-after", Type.INT, "0", Scope.ACCESS_CONTROL),
    SATISFY("satisfy", Type.ENUM, "all", Scope.ACCESS_CONTROL),

    // Upstream timeouts, retries, body size; the docs give timeouts as bare seconds
    PROXY_CONNECT_TIMEOUT("proxy-connect-timeout", Type.DURATION, "5s", Scope.LOCATION, "`5` (s)"),
    PROXY_SEND_TIMEOUT("proxy-send-timeout", Type.DURATION, "60s", Scope.LOCATION, "`60` (s)"),
    PROXY_READ_TIMEOUT("proxy-read-timeout", Type.DURATION, "60s", Scope.LOCATION, "`60` (s)"),
    PROXY_NEXT_UPSTREAM_TRIES("proxy-next-upstream-tries", Type.INT, "3", Scope.LOCATION),
    PROXY_BODY_SIZE("proxy-body-size", Type.SIZE, "1m", Scope.LOCATION),
    BACKEND_PROTOCOL("backend-protocol", Type.ENUM, "HTTP", Scope.LOCATION),

    // How the upstream is spoken to and the location logged (ProxyTuning); which address it has
    // (service-upstream: the Service's ClusterIP instead of the Pods). Sluice streams by default
    // where ingress-nginx buffers: proxy-request-buffering is off unless asked for (see the docs)
    PROXY_HTTP_VERSION("proxy-http-version", Type.ENUM, "1.1", Scope.LOCATION),
    PROXY_REQUEST_BUFFERING("proxy-request-buffering", Type.ENUM, "off", Scope.LOCATION),
    PROXY_BUFFERING("proxy-buffering", Type.ENUM, "off", Scope.LOCATION),
    PROXY_BUFFER_SIZE("proxy-buffer-size", Type.SIZE, "64k", Scope.LOCATION),
    ENABLE_ACCESS_LOG("enable-access-log", Type.BOOL, "true", Scope.LOCATION),
    SERVICE_UPSTREAM("service-upstream", Type.BOOL, "false", Scope.UPSTREAM, OnCanary.READ),
    // no fixed default: Sluice's TLS 1.2 suites (those HTTP/2 allows)
    SSL_CIPHERS("ssl-ciphers", Type.LIST, null, Scope.SERVER, "the HTTP/2 suites"),

    // TLS to the upstream (backend-protocol HTTPS, AUTO_HTTP): NGINX's proxy_ssl_* (see ProxySsl)
    PROXY_SSL_SECRET("proxy-ssl-secret", Type.SECRET, null, Scope.LOCATION),
    PROXY_SSL_VERIFY("proxy-ssl-verify", Type.ENUM, "off", Scope.LOCATION),
    PROXY_SSL_VERIFY_DEPTH("proxy-ssl-verify-depth", Type.INT, "1", Scope.LOCATION),
    // no default: no name is checked or sent (NGINX's $proxy_host would be ingress-nginx's "upstream_balancer")
    PROXY_SSL_NAME("proxy-ssl-name", Type.STRING, null, Scope.LOCATION),
    PROXY_SSL_SERVER_NAME("proxy-ssl-server-name", Type.ENUM, "off", Scope.LOCATION),
    PROXY_SSL_PROTOCOLS("proxy-ssl-protocols", Type.LIST, "TLSv1.2 TLSv1.3", Scope.LOCATION),
    PROXY_SSL_CIPHERS("proxy-ssl-ciphers", Type.LIST, "DEFAULT", Scope.LOCATION),

    // Error pages, upstream Host, server aliases, response headers (issue 10; see LookupAnnotations)
    CUSTOM_HTTP_ERRORS("custom-http-errors", Type.LIST, null, Scope.LOCATION),
    // a Service of the Ingress's namespace (its first port)
    DEFAULT_BACKEND("default-backend", Type.STRING, null, Scope.LOCATION),
    UPSTREAM_VHOST("upstream-vhost", Type.STRING, null, Scope.LOCATION),
    SERVER_ALIAS("server-alias", Type.LIST, null, Scope.SERVER),
    // a ConfigMap: name or namespace/name
    CUSTOM_HEADERS("custom-headers", Type.STRING, null, Scope.LOCATION),
    PROXY_REDIRECT_FROM("proxy-redirect-from", Type.STRING, "off", Scope.LOCATION),
    PROXY_REDIRECT_TO("proxy-redirect-to", Type.STRING, "off", Scope.LOCATION),
    PROXY_COOKIE_DOMAIN("proxy-cookie-domain", Type.STRING, "off", Scope.LOCATION),
    PROXY_COOKIE_PATH("proxy-cookie-path", Type.STRING, "off", Scope.LOCATION),
    // Mirroring: fire-and-forget copies of each request (NGINX's mirror), see MirrorTarget
    MIRROR_TARGET("mirror-target", Type.URL, null, Scope.LOCATION),
    // no fixed default: the target's host name
    MIRROR_HOST("mirror-host", Type.STRING, null, Scope.LOCATION, "the target's host"),
    MIRROR_REQUEST_BODY("mirror-request-body", Type.BOOL, "true", Scope.LOCATION),

    // Canary
    CANARY("canary", Type.BOOL, "false", Scope.CANARY),
    CANARY_BY_HEADER("canary-by-header", Type.STRING, null, Scope.CANARY),
    CANARY_BY_HEADER_VALUE("canary-by-header-value", Type.STRING, null, Scope.CANARY),
    CANARY_BY_HEADER_PATTERN("canary-by-header-pattern", Type.REGEX, null, Scope.CANARY),
    CANARY_BY_COOKIE("canary-by-cookie", Type.STRING, null, Scope.CANARY),
    CANARY_WEIGHT("canary-weight", Type.INT, "0", Scope.CANARY),
    CANARY_WEIGHT_TOTAL("canary-weight-total", Type.INT, "100", Scope.CANARY),

    // Load balancing and session affinity (a canary's own balancing applies to its upstream)
    LOAD_BALANCE("load-balance", Type.ENUM, "round_robin", Scope.UPSTREAM, OnCanary.READ),
    UPSTREAM_HASH_BY("upstream-hash-by", Type.EXPRESSION, null, Scope.UPSTREAM, OnCanary.READ),
    UPSTREAM_HASH_BY_SUBSET("upstream-hash-by-subset", Type.BOOL, "false", Scope.UPSTREAM, OnCanary.READ),
    UPSTREAM_HASH_BY_SUBSET_SIZE("upstream-hash-by-subset-size", Type.INT, "3", Scope.UPSTREAM, OnCanary.READ),
    // how the canary's upstream takes the mainline's affinity: only a canary reads it
    AFFINITY_CANARY_BEHAVIOR("affinity-canary-behavior", Type.ENUM, "sticky", Scope.UPSTREAM, OnCanary.READ),
    AFFINITY("affinity", Type.ENUM, null, Scope.UPSTREAM),
    AFFINITY_MODE("affinity-mode", Type.ENUM, "balanced", Scope.UPSTREAM),
    SESSION_COOKIE_NAME("session-cookie-name", Type.STRING, "INGRESSCOOKIE", Scope.UPSTREAM),
    // no fixed default: the location's path
    SESSION_COOKIE_PATH("session-cookie-path", Type.STRING, null, Scope.UPSTREAM, "the location's path"),
    SESSION_COOKIE_DOMAIN("session-cookie-domain", Type.STRING, null, Scope.UPSTREAM),
    SESSION_COOKIE_EXPIRES("session-cookie-expires", Type.INT, null, Scope.UPSTREAM),
    SESSION_COOKIE_MAX_AGE("session-cookie-max-age", Type.INT, null, Scope.UPSTREAM),
    SESSION_COOKIE_SAMESITE("session-cookie-samesite", Type.ENUM, null, Scope.UPSTREAM),
    SESSION_COOKIE_CONDITIONAL_SAMESITE_NONE("session-cookie-conditional-samesite-none", Type.BOOL, "false",
            Scope.UPSTREAM),
    SESSION_COOKIE_SECURE("session-cookie-secure", Type.BOOL, "false", Scope.UPSTREAM),
    SESSION_COOKIE_PARTITIONED("session-cookie-partitioned", Type.BOOL, "false", Scope.UPSTREAM),
    SESSION_COOKIE_CHANGE_ON_FAILURE("session-cookie-change-on-failure", Type.BOOL, "false", Scope.UPSTREAM);

    /** What a value is (informative: the parsers validate; the registry's tests check defaults against it). */
    public enum Type {
        /** Go's {@code strconv.ParseBool}. */
        BOOL,
        /** A decimal integer. */
        INT,
        /** Seconds, or a Go-style duration ({@code 500ms}, {@code 30s}, {@code 5m}). */
        DURATION,
        /** Bytes with an optional {@code k}/{@code m}/{@code g} unit, as NGINX reads sizes. */
        SIZE,
        /** Free text, checked against the key's own charset if any. */
        STRING,
        /** A URI path (or, for {@code rewrite-target}, also an absolute URL). */
        PATH,
        /** An absolute http(s) URL. */
        URL,
        /** A comma-separated list. */
        LIST,
        /** A comma-separated list of CIDRs or addresses. */
        CIDR_LIST,
        /** One of a fixed set of words. */
        ENUM,
        /** A re2j regex. */
        REGEX,
        /** A Secret: {@code name} or {@code namespace/name}. */
        SECRET,
        /** An NGINX variable expression such as {@code $remote_addr$http_x}. */
        EXPRESSION,
        /** {@code auth-cache-duration}: statuses followed by a duration, comma separated. */
        STATUS_DURATIONS
    }

    /** Where a key's setting applies. */
    public enum Scope {
        /** Each location (path) of the Ingress. */
        LOCATION,
        /** The hosts of the Ingress (the oldest Ingress of a host that sets it wins). */
        SERVER,
        /** The upstreams (Service ports) the Ingress creates (the oldest Ingress referencing one wins). */
        UPSTREAM,
        /** The canary traffic policy: {@code canary} and the {@code canary-*} keys. */
        CANARY,
        /**
         * The access-control family: a value that cannot be honoured denies every location of the
         * Ingress (fail closed). {@code auth-tls-*} is checked per host.
         */
        ACCESS_CONTROL
    }

    /** Whether a canary Ingress reads its own value of a key (otherwise the mainline location's applies). */
    private enum OnCanary { READ, MAINLINE }

    /**
     * The keys whose default is the global ConfigMap's key of the same name, as in ingress-nginx
     * (annotation → ConfigMap key → built-in default): {@link GlobalSettings} validates the
     * ConfigMap's value with this key's own parser. Add a key here when the ConfigMap key has the
     * same name and meaning.
     */
    private static final Set<AnnotationKey> CONFIGMAP_DEFAULTS = java.util.EnumSet.of(
            PROXY_CONNECT_TIMEOUT, PROXY_SEND_TIMEOUT, PROXY_READ_TIMEOUT, PROXY_NEXT_UPSTREAM_TRIES, PROXY_BODY_SIZE,
            SSL_REDIRECT, FORCE_SSL_REDIRECT, LOAD_BALANCE, PROXY_HTTP_VERSION, PROXY_BUFFERING, PROXY_BUFFER_SIZE,
            CUSTOM_HTTP_ERRORS, WHITELIST_SOURCE_RANGE, DENYLIST_SOURCE_RANGE);

    private static final Map<String, AnnotationKey> BY_SUFFIX = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(AnnotationKey::suffix, Function.identity()));

    private final String suffix;
    private final Type type;
    private final String defaultValue;
    private final Scope scope;
    private final boolean readOnCanary;
    private final String docDefault;

    AnnotationKey(String suffix, Type type, String defaultValue, Scope scope) {
        this(suffix, type, defaultValue, scope, scope == Scope.CANARY ? OnCanary.READ : OnCanary.MAINLINE, null);
    }

    AnnotationKey(String suffix, Type type, String defaultValue, Scope scope, OnCanary onCanary) {
        this(suffix, type, defaultValue, scope, onCanary, null);
    }

    AnnotationKey(String suffix, Type type, String defaultValue, Scope scope, String docDefault) {
        this(suffix, type, defaultValue, scope, OnCanary.MAINLINE, docDefault);
    }

    AnnotationKey(String suffix, Type type, String defaultValue, Scope scope, OnCanary onCanary, String docDefault) {
        this.suffix = suffix;
        this.type = type;
        this.defaultValue = defaultValue;
        this.scope = scope;
        this.readOnCanary = onCanary == OnCanary.READ;
        this.docDefault = docDefault;
    }

    /** The key after {@code <prefix>/}, e.g. {@code use-regex}. */
    public String suffix() {
        return suffix;
    }

    /** What the value is. */
    public Type type() {
        return type;
    }

    /** The default as ingress-nginx documents it, or {@code null} when there is none. */
    public String defaultValue() {
        return defaultValue;
    }

    /** Where the setting applies. */
    public Scope scope() {
        return scope;
    }

    /**
     * Whether a canary Ingress reads this key of its own; every other key of a canary Ingress is
     * reported as ignored, because the mainline location's settings apply to canary traffic.
     */
    public boolean readOnCanary() {
        return readOnCanary;
    }

    /**
     * Whether this key is part of the canary traffic policy: present without {@code canary: "true"}
     * it means nothing (and is reported).
     */
    public boolean canaryPolicy() {
        return scope == Scope.CANARY && this != CANARY;
    }

    /**
     * The default column of this key's row in {@code docs/configuration.md}: the default in
     * backticks, {@code —} when there is none, or prose declared here when no single value says it
     * ({@code the location's path}).
     */
    public String docDefault() {
        if (docDefault != null) {
            return docDefault;
        }
        if (defaultValue == null) {
            return "—";
        }
        return "`" + (defaultValue.isEmpty() ? "\"\"" : defaultValue) + "`";
    }

    /** Whether the global ConfigMap's key of the same name is this key's default. */
    public boolean takesConfigMapDefault() {
        return CONFIGMAP_DEFAULTS.contains(this);
    }

    /** The declared key with this suffix, or {@code null}. */
    public static AnnotationKey of(String suffix) {
        return BY_SUFFIX.get(suffix);
    }

    /** Whether Sluice implements the key {@code <prefix>/suffix}. */
    public static boolean declared(String suffix) {
        return BY_SUFFIX.containsKey(suffix);
    }

    /** The suffixes of the declared keys of {@code scope}. */
    static Set<String> suffixes(Scope scope) {
        return Arrays.stream(values()).filter(k -> k.scope == scope).map(AnnotationKey::suffix)
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * Whether {@code suffix} belongs to an access-control family ({@code auth-*},
     * {@code *-source-range}, {@code limit-*}, {@code global-rate-limit*}, {@code satisfy},
     * {@code enable-global-auth}), declared or not: such a key that Sluice does not implement
     * denies the Ingress's locations rather than being ignored, because ignoring it could leave a
     * location unprotected. The declared keys of these families are exactly the
     * {@link Scope#ACCESS_CONTROL} ones.
     *
     * <p>Misspellings of them count too, so that a typo cannot leave a location open: the key is
     * compared in lower case with {@code _} read as {@code -}, and any key naming a source list or a
     * limit belongs (for example {@code Auth-Type}, {@code auth_url}, {@code whitelist-source-ranges},
     * {@code allowlist_source_range}, {@code limits-rps}, {@code blacklist-source-range}).
     */
    static boolean inAccessControlFamily(String suffix) {
        String k = suffix.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        return k.startsWith("auth-") || k.contains("source-range") || k.startsWith("limit")
                || k.startsWith("global-rate-limit") || k.startsWith("satisf") || k.equals("enable-global-auth")
                || k.startsWith("whitelist") || k.startsWith("allowlist") || k.startsWith("denylist")
                || k.startsWith("blacklist") || k.startsWith("blocklist");
    }

    /** The declared access-control key that {@code suffix} misspells, or {@code null}. */
    static AnnotationKey misspelled(String suffix) {
        String k = suffix.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        for (String candidate : List.of(k, k.endsWith("s") ? k.substring(0, k.length() - 1) : k,
                k.startsWith("limits-") ? "limit-" + k.substring("limits-".length()) : k)) {
            AnnotationKey declared = BY_SUFFIX.get(candidate);
            if (declared != null && declared.scope == Scope.ACCESS_CONTROL && !candidate.equals(suffix)) {
                return declared;
            }
        }
        return null;
    }
}
