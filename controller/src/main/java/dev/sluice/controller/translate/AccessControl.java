package dev.sluice.controller.translate;

import static dev.sluice.controller.translate.AnnotationKey.*;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.Authentication;
import dev.sluice.gateway.access.BandwidthLimit;
import dev.sluice.gateway.access.DigestCredentials;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.proxy.ExternalAuthCache;
import dev.sluice.gateway.access.PasswordFile;
import dev.sluice.gateway.access.RateLimit;
import dev.sluice.gateway.access.RequestLimits;
import dev.sluice.gateway.access.SourceRanges;
import dev.sluice.gateway.access.UrlTemplate;
import dev.sluice.gateway.balance.HashKeyExpression;
import dev.sluice.gateway.route.ClientCertificateAuth;
import io.fabric8.kubernetes.api.model.Secret;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The access-control annotations of one Ingress turned into an {@link AccessPolicy}: the one place
 * where Sluice decides whether a location is protected, and how.
 *
 * <p>Fail closed: an annotation of the {@code auth-*}, {@code *-source-range}, {@code limit-*},
 * {@code global-rate-limit*} or {@code satisfy} families whose value is invalid, that names a
 * missing or malformed Secret, or that Sluice does not implement makes the policy
 * {@link AccessPolicy.Denied}: every location of the Ingress answers 503, and each reason is
 * reported. There is no path from a bad value to an unprotected location: parsing collects
 * reasons, and any reason at all yields {@code Denied}.
 *
 * <p>{@code auth-tls-*} is a per-host setting (the oldest Ingress of a host that sets it wins, as
 * in ingress-nginx); its result is returned separately as a {@link ClientCertificateAuth}, and a
 * bad {@code auth-tls-*} value denies this Ingress's locations like any other (and, through
 * {@code IngressTranslator}, every location of its hosts).
 */
final class AccessControl {

    /**
     * The access-control annotations Sluice honours (suffixes after {@code <prefix>/}): the
     * registry's {@link AnnotationKey.Scope#ACCESS_CONTROL} keys.
     */
    static final Set<String> KEYS = AnnotationKey.suffixes(AnnotationKey.Scope.ACCESS_CONTROL);

    /** ingress-nginx's default {@code limit-burst-multiplier}. */
    static final int DEFAULT_BURST_MULTIPLIER = 5;
    /** ingress-nginx's default {@code auth-cache-duration}. */
    static final String DEFAULT_CACHE_DURATION = "200 202 401 5m";
    /** ingress-nginx's default {@code auth-keepalive-requests} and {@code -timeout}. */
    static final int DEFAULT_KEEPALIVE_REQUESTS = 1000;
    static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern HTTP_METHOD = Pattern.compile("^(GET|HEAD|POST|PUT|PATCH|DELETE|CONNECT|OPTIONS|TRACE)$");
    private static final Pattern HEADER_NAME = Pattern.compile("^[A-Za-z0-9_-]+$");
    private static final Pattern PARAM_NAME = Pattern.compile("^[A-Za-z0-9_.~-]+$");

    /**
     * What the access-control annotations of one Ingress ask for.
     *
     * @param policy     the policy of the Ingress's locations
     * @param clientAuth the client-certificate check it asks of its hosts, or {@code null} (none
     *                   asked for, or its {@code auth-tls-*} values cannot be honoured)
     */
    record Result(AccessPolicy policy, ClientCertificateAuth clientAuth) {}

    private static final Result OPEN = new Result(AccessPolicy.OPEN, null);

    private AccessControl() {}

    /**
     * Reads the access-control annotations.
     *
     * @param own       the Ingress's annotations under the prefix, keyed by suffix
     * @param prefix    the annotation prefix with its trailing {@code /}, for messages
     * @param namespace the Ingress's namespace (Secrets are looked up there)
     * @param zone      the Ingress's {@code namespace/name}: the scope of its limits
     * @param secrets   the snapshot's Secrets
     * @param problems  receives one message per reason the locations are denied
     */
    static Result parse(Map<String, String> own, String prefix, String namespace, String zone, SecretIndex secrets,
            Consumer<String> problems) {
        return parse(own, prefix, namespace, zone, secrets, RequestLimits.DEFAULT_REJECT_STATUS,
                RequestLimits.DEFAULT_REJECT_STATUS, problems);
    }

    /**
     * Reads the access-control annotations, with the global ConfigMap's statuses for rejected
     * requests.
     *
     * @param limitReqStatus  {@code limit-req-status-code}: status of a request over a rate limit
     * @param limitConnStatus {@code limit-conn-status-code}: status of a request over the
     *                        connection limit
     */
    static Result parse(Map<String, String> own, String prefix, String namespace, String zone, SecretIndex secrets,
            int limitReqStatus, int limitConnStatus, Consumer<String> problems) {
        boolean any = false;
        for (String k : own.keySet()) {
            if (AnnotationKey.inAccessControlFamily(k)) {
                any = true;
                break;
            }
        }
        if (!any) {
            return OPEN;
        }
        Parse p = new Parse(own, prefix, namespace, secrets, limitReqStatus, limitConnStatus);
        for (String k : own.keySet()) {
            if (AnnotationKey.inAccessControlFamily(k) && !KEYS.contains(k)) {
                AnnotationKey meant = AnnotationKey.misspelled(k);
                p.deny(k, k.endsWith("-snippet") ? "snippet annotations are never supported"
                        : meant != null ? "not an annotation (did you mean " + prefix + meant.suffix() + "?)"
                        : "not implemented by Sluice");
            }
        }
        SourceRanges allow = p.ranges(own.containsKey(ALLOWLIST_SOURCE_RANGE.suffix()) ? ALLOWLIST_SOURCE_RANGE
                : WHITELIST_SOURCE_RANGE);
        SourceRanges deny = p.ranges(DENYLIST_SOURCE_RANGE);
        RequestLimits limits = p.limits(zone);
        Authentication auth = p.authentication();
        int reasonsBefore = p.reasons.size();
        ClientCertificateAuth clientAuth = p.clientAuth();
        // a host's check stays known when only something else of this Ingress is wrong, so the
        // host's other Ingresses keep it (IngressTranslator denies a host whose check is unknown)
        boolean clientAuthValid = p.reasons.size() == reasonsBefore;
        boolean satisfyAny = false;
        String satisfy = own.get(SATISFY.suffix());
        if (satisfy != null) {
            switch (satisfy.trim()) {
                case "any" -> satisfyAny = true;
                case "all", "" -> satisfyAny = false;
                default -> p.invalid(SATISFY, "expected any or all");
            }
        }
        p.bool(ENABLE_GLOBAL_AUTH, true); // validated here; applied by IngressAnnotations with the ConfigMap's global auth
        p.bool(AUTH_KEEPALIVE_SHARE_VARS, false);
        if (!p.reasons.isEmpty()) {
            for (String r : p.reasons) {
                problems.accept(r + "; every location of this Ingress answers 503 (location denied)");
            }
            return new Result(new AccessPolicy.Denied(String.join("; ", p.reasons)),
                    clientAuthValid ? clientAuth : null);
        }
        AccessPolicy policy = deny == null && allow == null && limits == null && auth == null ? AccessPolicy.OPEN
                : new AccessPolicy.Guarded(deny, allow, limits, auth, satisfyAny);
        return new Result(policy, clientAuth);
    }

    /** The reasons found while reading one Ingress's access control. */
    private static final class Parse {
        private final Map<String, String> own;
        private final String prefix;
        private final String namespace;
        private final SecretIndex secrets;
        private final int limitReqStatus;
        private final int limitConnStatus;
        final List<String> reasons = new ArrayList<>();

        Parse(Map<String, String> own, String prefix, String namespace, SecretIndex secrets, int limitReqStatus,
                int limitConnStatus) {
            this.limitReqStatus = limitReqStatus;
            this.limitConnStatus = limitConnStatus;
            this.own = own;
            this.prefix = prefix;
            this.namespace = namespace;
            this.secrets = secrets;
        }

        /** Denies for {@code suffix}, which may be a key Sluice does not declare. */
        void deny(String suffix, String why) {
            reasons.add("annotation " + prefix + suffix + ": " + why);
        }

        void deny(AnnotationKey key, String why) {
            deny(key.suffix(), why);
        }

        void invalid(AnnotationKey key, String why) {
            // the reason names the value and is logged when a request meets the denied location
            reasons.add(Problem.printable("invalid value \"" + AnnotationValues.quoted(own.get(key.suffix()))
                    + "\" for annotation " + prefix + key.suffix() + ": " + why, Problem.MAX_MESSAGE_LENGTH));
        }

        String string(AnnotationKey key) {
            return own.get(key.suffix());
        }

        /** A present, non-blank value, trimmed; a blank one is invalid (reported) and {@code null}. */
        String required(AnnotationKey key) {
            String v = own.get(key.suffix());
            if (v == null) {
                return null;
            }
            if (v.isBlank()) {
                invalid(key, "empty");
                return null;
            }
            return v.trim();
        }

        boolean bool(AnnotationKey key, boolean fallback) {
            String v = own.get(key.suffix());
            if (v == null) {
                return fallback;
            }
            Boolean b = AnnotationValues.bool(v);
            if (b == null) {
                invalid(key, "expected true or false");
                return fallback;
            }
            return b;
        }

        /** An integer of at least {@code min}; absent → {@code fallback}; anything else invalid. */
        int integer(AnnotationKey key, int fallback, int min) {
            String v = own.get(key.suffix());
            if (v == null) {
                return fallback;
            }
            Integer n = AnnotationValues.integer(v, min);
            if (n == null) {
                invalid(key, "expected an integer >= " + min);
                return fallback;
            }
            return n;
        }

        SourceRanges ranges(AnnotationKey key) {
            String v = own.get(key.suffix());
            if (v == null) {
                return null;
            }
            try {
                return SourceRanges.parse(v);
            } catch (IllegalArgumentException e) {
                invalid(key, e.getMessage());
                return null;
            }
        }

        RequestLimits limits(String zone) {
            boolean any = false;
            for (String k : own.keySet()) {
                if (k.startsWith("limit-")) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return null;
            }
            int rps = integer(LIMIT_RPS, 0, 0);
            int rpm = integer(LIMIT_RPM, 0, 0);
            int multiplier = integer(LIMIT_BURST_MULTIPLIER, DEFAULT_BURST_MULTIPLIER, 1);
            int connections = integer(LIMIT_CONNECTIONS, 0, 0);
            int rate = integer(LIMIT_RATE, 0, 0);
            int rateAfter = integer(LIMIT_RATE_AFTER, 0, 0);
            SourceRanges exempt = ranges(own.containsKey(LIMIT_ALLOWLIST.suffix()) ? LIMIT_ALLOWLIST : LIMIT_WHITELIST);
            if (connections == 0 && rps == 0 && rpm == 0 && rate == 0) {
                return null; // only zeros (NGINX: no limit) or modifiers without a limit
            }
            return new RequestLimits(zone, connections, rps > 0 ? RateLimit.perSecond(rps, multiplier) : null,
                    rpm > 0 ? RateLimit.perMinute(rpm, multiplier) : null, exempt,
                    rate > 0 ? BandwidthLimit.ofKilobytes(rate, rateAfter) : null, limitReqStatus, limitConnStatus);
        }

        Authentication authentication() {
            String type = string(AUTH_TYPE);
            String url = string(AUTH_URL);
            if (type != null && url != null) {
                deny(AUTH_TYPE, "cannot be combined with auth-url (only one authentication per location)");
                return null;
            }
            if (url != null) {
                return external();
            }
            if (type == null) {
                for (AnnotationKey k : List.of(AUTH_SECRET, AUTH_SECRET_TYPE, AUTH_REALM)) {
                    if (own.containsKey(k.suffix())) {
                        deny(k, "set without auth-type (basic or digest): the location would be unprotected");
                        return null;
                    }
                }
                for (AnnotationKey k : List.of(AUTH_METHOD, AUTH_SIGNIN, AUTH_SIGNIN_REDIRECT_PARAM,
                        AUTH_RESPONSE_HEADERS, AUTH_REQUEST_REDIRECT, AUTH_CACHE_KEY, AUTH_CACHE_DURATION,
                        AUTH_ALWAYS_SET_COOKIE, AUTH_KEEPALIVE, AUTH_KEEPALIVE_REQUESTS, AUTH_KEEPALIVE_TIMEOUT)) {
                    if (own.containsKey(k.suffix())) {
                        deny(k, "set without auth-url: the location would be unprotected");
                        return null;
                    }
                }
                return null;
            }
            String t = type.trim().toLowerCase(Locale.ROOT);
            if (!t.equals("basic") && !t.equals("digest")) {
                invalid(AUTH_TYPE, "expected basic or digest");
                return null;
            }
            String realm = own.getOrDefault(AUTH_REALM.suffix(), "");
            if (realm.indexOf('"') >= 0 || realm.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                invalid(AUTH_REALM, "quotes and control characters are not allowed");
                return null;
            }
            String secretType = own.getOrDefault(AUTH_SECRET_TYPE.suffix(), "auth-file").trim();
            if (!secretType.equals("auth-file") && !secretType.equals("auth-map")) {
                invalid(AUTH_SECRET_TYPE, "expected auth-file or auth-map");
                return null;
            }
            Secret secret = secret(AUTH_SECRET);
            if (secret == null) {
                return null;
            }
            String where = "Secret " + BackendResolver.namespace(secret) + "/" + secret.getMetadata().getName();
            try {
                if (secretType.equals("auth-file")) {
                    String file = SecretIndex.value(secret, "auth");
                    if (file == null) {
                        deny(AUTH_SECRET, where + " has no key \"auth\" (auth-secret-type auth-file)");
                        return null;
                    }
                    return t.equals("basic") ? new Authentication.Basic(realm, PasswordFile.parseHtpasswd(file))
                            : new Authentication.Digest(DigestCredentials.parseHtdigest(file, realm));
                }
                Map<String, String> users = SecretIndex.values(secret);
                if (users.isEmpty()) {
                    deny(AUTH_SECRET, where + " has no users (auth-secret-type auth-map)");
                    return null;
                }
                if (t.equals("basic")) {
                    return new Authentication.Basic(realm, PasswordFile.fromMap(users));
                }
                StringBuilder lines = new StringBuilder();
                users.forEach((u, v) -> lines.append(u).append(':').append(v.trim()).append('\n'));
                return new Authentication.Digest(DigestCredentials.parseHtdigest(lines.toString(), realm));
            } catch (IllegalArgumentException e) {
                deny(AUTH_SECRET, where + " is malformed: " + e.getMessage());
                return null;
            }
        }

        /** The Secret an annotation names ({@code name} or {@code namespace/name}), or {@code null} (reported). */
        Secret secret(AnnotationKey key) {
            String ref = required(key);
            if (ref == null) {
                if (!own.containsKey(key.suffix())) {
                    deny(key, "missing: the location cannot be protected without it");
                }
                return null;
            }
            SecretIndex.Reference r = secrets.resolve(ref, namespace);
            if (r.refused() != null) {
                invalid(key, r.refused());
            } else if (r.secret() == null) {
                deny(key, "Secret " + r.key() + " not found");
            }
            return r.secret();
        }

        ExternalAuth external() {
            UrlTemplate url = template(AUTH_URL);
            String method = own.containsKey(AUTH_METHOD.suffix()) ? own.get(AUTH_METHOD.suffix()).trim() : null;
            if (method != null && !HTTP_METHOD.matcher(method).matches()) {
                invalid(AUTH_METHOD, "expected an HTTP method such as GET or POST");
            }
            UrlTemplate signin = null;
            if (own.containsKey(AUTH_SIGNIN.suffix())) {
                signin = template(AUTH_SIGNIN);
            }
            String param = own.getOrDefault(AUTH_SIGNIN_REDIRECT_PARAM.suffix(), "rd").trim();
            if (!PARAM_NAME.matcher(param).matches()) {
                invalid(AUTH_SIGNIN_REDIRECT_PARAM, "expected a query parameter name");
            }
            List<String> responseHeaders = new ArrayList<>();
            String rh = own.get(AUTH_RESPONSE_HEADERS.suffix());
            if (rh != null) {
                for (String h : rh.split(",")) {
                    String name = h.trim();
                    if (name.isEmpty()) {
                        continue;
                    }
                    if (!HEADER_NAME.matcher(name).matches()) {
                        invalid(AUTH_RESPONSE_HEADERS, "\"" + name + "\" is not a header name");
                        break;
                    }
                    responseHeaders.add(name);
                }
            }
            String requestRedirect = own.get(AUTH_REQUEST_REDIRECT.suffix());
            if (requestRedirect != null && requestRedirect.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
                invalid(AUTH_REQUEST_REDIRECT, "spaces and control characters are not allowed");
            }
            if (own.containsKey("auth-proxy-set-headers")) {
                deny("auth-proxy-set-headers", "needs ConfigMap support, which Sluice does not have yet");
            }
            HashKeyExpression cacheKey = null;
            Map<Integer, Duration> validity = Map.of();
            String key = own.get(AUTH_CACHE_KEY.suffix());
            if (key != null) {
                if (key.indexOf('$') < 0) {
                    invalid(AUTH_CACHE_KEY, "a key without variables would share one client's answer with every "
                            + "client");
                } else {
                    try {
                        cacheKey = HashKeyExpression.compile(key.trim());
                    } catch (IllegalArgumentException e) {
                        invalid(AUTH_CACHE_KEY, e.getMessage());
                    }
                }
                String durations = own.getOrDefault(AUTH_CACHE_DURATION.suffix(), DEFAULT_CACHE_DURATION);
                try {
                    validity = ExternalAuthCache.parseCacheDuration(durations);
                } catch (IllegalArgumentException e) {
                    invalid(AUTH_CACHE_DURATION, e.getMessage());
                }
            } else if (own.containsKey(AUTH_CACHE_DURATION.suffix())) {
                deny(AUTH_CACHE_DURATION, "set without auth-cache-key: nothing would be cached");
            }
            boolean alwaysSetCookie = bool(AUTH_ALWAYS_SET_COOKIE, false);
            int keepalive = integer(AUTH_KEEPALIVE, 0, 0);
            int keepaliveRequests = integer(AUTH_KEEPALIVE_REQUESTS, DEFAULT_KEEPALIVE_REQUESTS, 1);
            Duration keepaliveTimeout = DEFAULT_KEEPALIVE_TIMEOUT;
            String kt = own.get(AUTH_KEEPALIVE_TIMEOUT.suffix());
            if (kt != null) {
                try {
                    keepaliveTimeout = Durations.parse(kt);
                } catch (IllegalArgumentException e) {
                    invalid(AUTH_KEEPALIVE_TIMEOUT, "expected seconds or a duration such as 60s");
                }
            }
            if (url == null || !reasons.isEmpty()) {
                return null;
            }
            return new ExternalAuth(url, method, signin, param, responseHeaders, requestRedirect, Map.of(), cacheKey,
                    validity, alwaysSetCookie, keepalive, keepaliveRequests, keepaliveTimeout);
        }

        /** An absolute http(s) URL with a host, or {@code null} (reported). */
        /** An {@code auth-url} / {@code auth-signin}: an http(s) URL, NGINX variables allowed. */
        UrlTemplate template(AnnotationKey key) {
            String v = required(key);
            if (v == null) {
                return null;
            }
            try {
                return UrlTemplate.parse(v.trim(), prefix + key.suffix());
            } catch (IllegalArgumentException e) {
                invalid(key, e.getMessage());
                return null;
            }
        }

        URI url(AnnotationKey key) {
            String v = required(key);
            if (v == null) {
                return null;
            }
            try {
                URI u = new URI(v);
                String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
                if ((scheme.equals("http") || scheme.equals("https")) && u.getHost() != null && u.getRawFragment() == null) {
                    return u;
                }
            } catch (URISyntaxException e) {
                // reported below
            }
            invalid(key, "expected an absolute http or https URL");
            return null;
        }

        ClientCertificateAuth clientAuth() {
            boolean any = false;
            for (String k : own.keySet()) {
                if (k.startsWith("auth-tls-")) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return null;
            }
            String modeText = own.getOrDefault(AUTH_TLS_VERIFY_CLIENT.suffix(), "on").trim();
            ClientCertificateAuth.Mode mode = switch (modeText) {
                case "on" -> ClientCertificateAuth.Mode.ON;
                case "off" -> ClientCertificateAuth.Mode.OFF;
                case "optional" -> ClientCertificateAuth.Mode.OPTIONAL;
                case "optional_no_ca" -> ClientCertificateAuth.Mode.OPTIONAL_NO_CA;
                default -> {
                    invalid(AUTH_TLS_VERIFY_CLIENT, "expected on, off, optional or optional_no_ca");
                    yield null;
                }
            };
            int depth = integer(AUTH_TLS_VERIFY_DEPTH, 1, 1);
            String errorPage = null;
            if (own.containsKey(AUTH_TLS_ERROR_PAGE.suffix())) {
                URI page = url(AUTH_TLS_ERROR_PAGE);
                errorPage = page == null ? null : page.toString();
            }
            boolean pass = bool(AUTH_TLS_PASS_CERTIFICATE_TO_UPSTREAM, false);
            Secret secret = secret(AUTH_TLS_SECRET);
            if (secret == null || mode == null) {
                return null;
            }
            String where = "Secret " + BackendResolver.namespace(secret) + "/" + secret.getMetadata().getName();
            String ca = SecretIndex.value(secret, "ca.crt");
            if (ca == null) {
                deny(AUTH_TLS_SECRET, where + " has no key \"ca.crt\"");
                return null;
            }
            try {
                ClientCertificateAuth.parseCaBundle(ca);
            } catch (IllegalArgumentException e) {
                deny(AUTH_TLS_SECRET, where + " has no usable CA bundle in ca.crt: " + e.getMessage());
                return null;
            }
            return new ClientCertificateAuth(BackendResolver.namespace(secret) + "/" + secret.getMetadata().getName(),
                    ca, mode, depth, errorPage, pass);
        }
    }
}
