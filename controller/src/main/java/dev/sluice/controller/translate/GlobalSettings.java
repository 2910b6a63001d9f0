package dev.sluice.controller.translate;

import com.google.re2j.PatternSyntaxException;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.RequestBlocks;
import dev.sluice.gateway.access.RequestLimits;
import dev.sluice.gateway.access.SourceRanges;
import dev.sluice.gateway.route.ForwardedTrust;
import dev.sluice.gateway.route.ListenerSettings;
import dev.sluice.gateway.route.ProxySettings;
import dev.sluice.gateway.route.RouteOptions;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * ingress-nginx's global ConfigMap ({@code --configmap namespace/name}) parsed once per
 * translation: what the data plane reads per request ({@link #proxy()}), the defaults it gives
 * annotations ({@link #annotationDefaults()}), the global external authentication, the limit
 * statuses, and the raw data for parsers that live elsewhere (compression).
 *
 * <p>Every value is validated; a bad one is reported as a {@link Problem} of kind
 * {@code ConfigMap} naming the ConfigMap and the key, and that key's default applies. Keys Sluice
 * does not implement are reported too (once: the sync loop logs a problem when it first appears).
 * A bad {@code global-auth-*} value never leaves locations open: every location that global
 * authentication would cover answers 503 instead.
 *
 * @param source             the ConfigMap as {@code namespace/name}, or {@code null} (no
 *                           {@code --configmap})
 * @param data               the ConfigMap's data as read (empty without one)
 * @param annotationDefaults valid ConfigMap values of the annotation keys that take their default
 *                           from it ({@link AnnotationKey#takesConfigMapDefault()}), by suffix
 * @param proxy              the per-request settings published in the route table
 * @param globalAuth         {@code global-auth-url} and its siblings as a policy with external
 *                           authentication only, {@link AccessPolicy.Denied} when they cannot be
 *                           honoured, or {@code null} when none is configured
 * @param limitReqStatus     {@code limit-req-status-code} (503)
 * @param limitConnStatus    {@code limit-conn-status-code} (503)
 * @param customHttpErrors   {@code custom-http-errors}: the statuses the default backend answers
 *                           for every location (applied as the default of the annotation of the
 *                           same name)
 */
public record GlobalSettings(
        String source,
        Map<String, String> data,
        Map<String, String> annotationDefaults,
        ProxySettings proxy,
        AccessPolicy globalAuth,
        int limitReqStatus,
        int limitConnStatus,
        List<Integer> customHttpErrors) {

    /** The Problem kind of ConfigMap problems. */
    static final String KIND = "ConfigMap";

    /** No ConfigMap: ingress-nginx's defaults. */
    public static final GlobalSettings NONE = new GlobalSettings(null, Map.of(), Map.of(), ProxySettings.DEFAULTS,
            null, RequestLimits.DEFAULT_REJECT_STATUS, RequestLimits.DEFAULT_REJECT_STATUS, List.of());

    /** Keys read here or through {@link #annotationDefaults} (besides the {@code global-auth-*} ones). */
    static final Set<String> IMPLEMENTED = Set.of(
            "use-forwarded-headers", "forwarded-for-header", "compute-full-forwarded-for", "enable-real-ip",
            "proxy-real-ip-cidr", "hsts", "hsts-max-age", "hsts-include-subdomains", "hsts-preload",
            "http-redirect-code", "add-headers", "proxy-set-headers", "hide-headers", "block-cidrs",
            "block-user-agents", "block-referers", "limit-req-status-code", "limit-conn-status-code",
            "custom-http-errors", "allow-snippet-annotations", "use-proxy-protocol", "keep-alive",
            "client-body-timeout", "large-client-header-buffers", "keep-alive-requests", "client-header-timeout");

    /**
     * Keys accepted but not applied, with what the operator should know; reported once each.
     */
    static final Map<String, String> NOT_APPLIED = notApplied();

    /** Dropped from a {@code global-auth-*} key, it leaves the {@code auth-*} annotation of the same meaning. */
    private static final String GLOBAL_AUTH_PREFIX = "global-";

    private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$");
    private static final Pattern HEADER_VALUE = Pattern.compile("^[\\t\\x20-\\x7e\\x80-\\xff]*$");
    private static final Set<Integer> REDIRECT_CODES = Set.of(301, 302, 307, 308);
    private static final Pattern HEADER_BUFFERS = Pattern.compile("^(\\d{1,4})\\s+(\\d{1,7})([kKmM]?)$");
    /** The most header bytes {@code large-client-header-buffers} may allow. */
    private static final long MAX_HEADER_BYTES = 1 << 20;

    public GlobalSettings {
        data = Collections.unmodifiableMap(new TreeMap<>(data));
        annotationDefaults = Map.copyOf(annotationDefaults);
        customHttpErrors = List.copyOf(customHttpErrors);
    }

    private static Map<String, String> notApplied() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ssl-protocols", "not applied: Sluice's server TLS offers TLSv1.2 and TLSv1.3");
        m.put("ssl-ciphers", "not applied: Sluice's server TLS uses the JDK's default cipher suites");
        for (String k : List.of("upstream-keepalive-connections", "upstream-keepalive-timeout",
                "upstream-keepalive-requests")) {
            m.put(k, "not applied: Sluice's upstream connection pool keeps its own limits");
        }
        m.put("proxy-next-upstream", "not applied: Sluice retries on connect errors and timeouts "
                + "(ingress-nginx's default \"error timeout\")");
        m.put("proxy-next-upstream-timeout", "not applied: retries are bounded by proxy-next-upstream-tries only");
        m.put("log-format-upstream", "accepted, not applied: Sluice's access log format is fixed (--access-log)");
        m.put("enable-multi-accept", "not applied: Sluice's listeners always accept every waiting connection "
                + "(up to 256) per event-loop turn, as ingress-nginx's default (true) does");
        return Collections.unmodifiableMap(m);
    }

    /** Whether this changes nothing for an Ingress without annotations. */
    boolean neutralForIngress() {
        return annotationDefaults.isEmpty() && globalAuth == null;
    }

    /**
     * The options of a location no Ingress annotates (the default backend): the built-in defaults
     * with the ConfigMap's annotation defaults applied; no global authentication.
     */
    RouteOptions defaultRouteOptions(String prefix, SecretIndex secrets) {
        if (annotationDefaults.isEmpty()) {
            return RouteOptions.DEFAULTS;
        }
        GlobalSettings defaultsOnly = new GlobalSettings(source, data, annotationDefaults, proxy, null, limitReqStatus,
                limitConnStatus, customHttpErrors);
        return IngressAnnotations.parse(probe("", "", Map.of()), prefix, secrets, defaultsOnly, m -> { })
                .routeOptions();
    }

    /** An Ingress with only these annotations, to run the annotation parser on ConfigMap values. */
    static Ingress probe(String namespace, String name, Map<String, String> annotations) {
        Ingress probe = new Ingress();
        ObjectMeta meta = new ObjectMeta();
        meta.setNamespace(namespace);
        meta.setName(name);
        meta.setAnnotations(annotations);
        probe.setMetadata(meta);
        return probe;
    }

    /**
     * The ConfigMaps a translation with {@code --configmap ref} reads: the global one and those its
     * {@code add-headers} / {@code proxy-set-headers} name ({@code namespace/name}), so cluster mode
     * can watch exactly these.
     */
    public static Set<String> referencedConfigMaps(String ref, List<ConfigMap> configMaps) {
        Set<String> out = new LinkedHashSet<>();
        if (ref == null) {
            return out;
        }
        out.add(ref);
        for (ConfigMap c : configMaps) {
            if (ref.equals(BackendResolver.key(c)) && c.getData() != null) {
                for (String k : List.of("add-headers", "proxy-set-headers")) {
                    String v = c.getData().get(k);
                    if (v != null && !v.isBlank()) {
                        out.add(qualified(v.trim(), BackendResolver.namespace(c)));
                    }
                }
            }
        }
        return out;
    }

    private static String qualified(String ref, String namespace) {
        return ref.indexOf('/') < 0 ? namespace + "/" + ref : ref;
    }

    /**
     * Reads the global ConfigMap.
     *
     * @param ref        {@code --configmap} as {@code namespace/name}, or {@code null}
     * @param configMaps the snapshot's ConfigMaps
     * @param prefix     {@code --annotations-prefix}, for validating annotation defaults
     * @param secrets    the snapshot's Secrets
     * @param problems   receives the problems found
     */
    static GlobalSettings parse(String ref, List<ConfigMap> configMaps, String prefix, SecretIndex secrets,
            Consumer<Problem> problems) {
        if (ref == null) {
            return NONE;
        }
        int slash = ref.indexOf('/');
        String namespace = ref.substring(0, Math.max(slash, 0));
        String name = ref.substring(slash + 1);
        Map<String, ConfigMap> byKey = new LinkedHashMap<>();
        for (ConfigMap c : configMaps) {
            byKey.put(BackendResolver.key(c), c);
        }
        ConfigMap cm = byKey.get(ref);
        if (cm == null) {
            problems.accept(new Problem(KIND, namespace, name, "not found (--configmap); ingress-nginx's defaults "
                    + "apply until it exists"));
            return new GlobalSettings(ref, Map.of(), Map.of(), ProxySettings.DEFAULTS, null,
                    RequestLimits.DEFAULT_REJECT_STATUS, RequestLimits.DEFAULT_REJECT_STATUS, List.of());
        }
        Map<String, String> data = cm.getData() == null ? Map.of() : cm.getData();
        return new Reader(namespace, name, data, byKey, prefix, secrets, problems).read();
    }

    /** One reading of one ConfigMap, reporting as it goes. */
    private static final class Reader {
        private final String namespace;
        private final String name;
        private final Map<String, String> data;
        private final Map<String, ConfigMap> configMaps;
        private final String prefix;
        private final SecretIndex secrets;
        private final Consumer<Problem> problems;

        Reader(String namespace, String name, Map<String, String> data, Map<String, ConfigMap> configMaps,
                String prefix, SecretIndex secrets, Consumer<Problem> problems) {
            this.namespace = namespace;
            this.name = name;
            this.data = new TreeMap<>(data);
            this.configMaps = configMaps;
            this.prefix = prefix;
            this.secrets = secrets;
            this.problems = problems;
        }

        GlobalSettings read() {
            List<String> unsupported = new ArrayList<>();
            for (Map.Entry<String, String> e : data.entrySet()) {
                String k = e.getKey();
                AnnotationKey annotation = AnnotationKey.of(k);
                if (IMPLEMENTED.contains(k) || k.startsWith("global-auth-") || k.equals("enable-global-auth")
                        || annotation != null && annotation.takesConfigMapDefault()) {
                    continue;
                }
                if (NOT_APPLIED.containsKey(k)) {
                    report(k, NOT_APPLIED.get(k));
                } else if (CompressionSettings.KEYS.contains(k)) {
                    continue; // read by CompressionSettings
                } else {
                    unsupported.add(k);
                }
            }
            if (!unsupported.isEmpty()) {
                problems.accept(new Problem(KIND, namespace, name, "keys not supported by Sluice, ignored: "
                        + String.join(", ", unsupported)));
            }
            if (bool("allow-snippet-annotations", false)) {
                report("allow-snippet-annotations", "accepted, but snippet annotations never run in Sluice");
            }

            ForwardedTrust forwarded = new ForwardedTrust(
                    bool("use-forwarded-headers", false),
                    bool("enable-real-ip", false),
                    headerName("forwarded-for-header", ForwardedTrust.DEFAULT_FORWARDED_FOR_HEADER),
                    bool("compute-full-forwarded-for", false),
                    ranges("proxy-real-ip-cidr", ForwardedTrust.DEFAULT_TRUSTED_PROXIES, "0.0.0.0/0"));
            String hsts = null;
            if (bool("hsts", true)) {
                long maxAge = integer("hsts-max-age", 31536000, 0, Integer.MAX_VALUE);
                hsts = "max-age=" + maxAge
                        + (bool("hsts-include-subdomains", true) ? "; includeSubDomains" : "")
                        + (bool("hsts-preload", false) ? "; preload" : "");
            }
            int redirectCode = ProxySettings.DEFAULT_HTTP_REDIRECT_CODE;
            String rc = data.get("http-redirect-code");
            if (rc != null) {
                Integer code = AnnotationValues.integer(rc, 0);
                if (code != null && REDIRECT_CODES.contains(code)) {
                    redirectCode = code;
                } else {
                    invalid("http-redirect-code", rc, "expected 301, 302, 307 or 308", "using the default 308");
                }
            }
            List<String> hidden = new ArrayList<>();
            for (String h : list("hide-headers")) {
                if (HEADER_NAME.matcher(h).matches()) {
                    hidden.add(h.toLowerCase(Locale.ROOT));
                } else {
                    invalid("hide-headers", h, "not a header name", "entry skipped");
                }
            }
            int[] headerBuffers = headerBuffers();
            ProxySettings proxy = new ProxySettings(forwarded, hsts, redirectCode, headers("add-headers"),
                    headers("proxy-set-headers"), hidden, blocks(), new ListenerSettings(
                            bool("use-proxy-protocol", false), seconds("keep-alive"), seconds("client-body-timeout"),
                            headerBuffers[0], headerBuffers[1], keepAliveRequests(), seconds("client-header-timeout")));
            List<Integer> customHttpErrors = customHttpErrors();
            return new GlobalSettings(namespace + "/" + name, data, annotationDefaults(), proxy, globalAuth(),
                    status("limit-req-status-code"), status("limit-conn-status-code"), customHttpErrors);
        }

        /**
         * The values of the annotation keys that default to the ConfigMap, each checked by the
         * annotation parser itself (one key at a time, so a problem names its key).
         */
        private Map<String, String> annotationDefaults() {
            Map<String, String> out = new TreeMap<>();
            for (AnnotationKey k : AnnotationKey.values()) {
                String v = data.get(k.suffix());
                if (v == null || !k.takesConfigMapDefault()) {
                    continue;
                }
                List<String> found = IngressAnnotations.problemsAlone(namespace, name, prefix, k.suffix(), v, secrets);
                if (found.isEmpty()) {
                    out.put(k.suffix(), v);
                } else if (k.scope() == AnnotationKey.Scope.ACCESS_CONTROL) {
                    // fail closed: the bad list stays, so every location it covers is denied
                    out.put(k.suffix(), v);
                    String why = why(found.get(0), k.suffix());
                    int consequence = why.indexOf("; every location");
                    invalid(k.suffix(), v, consequence < 0 ? why : why.substring(0, consequence),
                            "every location without its own " + k.suffix() + " annotation answers 503 (location denied)");
                } else {
                    invalid(k.suffix(), v, why(found.get(0), k.suffix()),
                            "using the default " + k.docDefault().replace("`", ""));
                }
            }
            return out;
        }

        /** The explanation in an annotation parser's message, without its key and consequence. */
        private static String why(String message, String suffix) {
            int at = message.indexOf(suffix + ": ");
            String why = at < 0 ? message : message.substring(at + suffix.length() + 2);
            int using = why.indexOf("; using");
            return using < 0 ? why : why.substring(0, using);
        }

        /**
         * {@code global-auth-url} and its siblings, read by the {@code auth-*} annotation parser
         * ({@link AccessControl}) so both validate alike; fail closed like the annotations.
         */
        private AccessPolicy globalAuth() {
            Map<String, String> own = new TreeMap<>();
            for (Map.Entry<String, String> e : data.entrySet()) {
                if (e.getKey().startsWith("global-auth-")) {
                    own.put(e.getKey().substring(GLOBAL_AUTH_PREFIX.length()), e.getValue() == null ? "" : e.getValue());
                }
            }
            String url = own.get(AnnotationKey.AUTH_URL.suffix());
            if (url == null || url.isBlank()) {
                own.remove(AnnotationKey.AUTH_URL.suffix());
                if (!own.isEmpty()) {
                    problems.accept(new Problem(KIND, namespace, name, "keys without global-auth-url have no effect: "
                            + String.join(", ", own.keySet().stream().map(k -> GLOBAL_AUTH_PREFIX + k).toList())));
                }
                return null;
            }
            List<String> reasons = new ArrayList<>();
            AccessControl.Result r = AccessControl.parse(own, GLOBAL_AUTH_PREFIX, namespace, namespace + "/" + name,
                    secrets, reasons::add);
            for (String reason : reasons) {
                String text = reason.replace("annotation " + GLOBAL_AUTH_PREFIX, "key " + GLOBAL_AUTH_PREFIX)
                        .replace("every location of this Ingress answers 503 (location denied)",
                                "every location under global authentication answers 503 (location denied)");
                problems.accept(new Problem(KIND, namespace, name, text));
            }
            return r.policy();
        }

        /**
         * {@code block-cidrs}, {@code block-user-agents}, {@code block-referers}. Fail closed: a bad
         * entry makes every request answer 503 until it is fixed, as an access-control annotation
         * that cannot be honoured denies its location; skipping it would let in whom it names.
         */
        private RequestBlocks blocks() {
            List<String> bad = new ArrayList<>();
            for (String entry : list("block-cidrs")) {
                try {
                    SourceRanges.parse(entry);
                } catch (IllegalArgumentException e) {
                    bad.add(blockProblem("block-cidrs", entry, e.getMessage()));
                }
            }
            for (String key : List.of("block-user-agents", "block-referers")) {
                for (String entry : list(key)) {
                    try {
                        RequestBlocks.check(entry);
                    } catch (PatternSyntaxException e) {
                        bad.add(blockProblem(key, entry, "not a valid re2j regex (" + e.getDescription() + ")"));
                    }
                }
            }
            if (!bad.isEmpty()) {
                return RequestBlocks.unusable(String.join("; ", bad));
            }
            List<String> cidrs = list("block-cidrs");
            return new RequestBlocks(cidrs.isEmpty() ? null : SourceRanges.parse(String.join(",", cidrs)),
                    list("block-user-agents"), list("block-referers"));
        }

        private String blockProblem(String key, String entry, String why) {
            invalid(key, entry, why, "every request on every host answers 503 until the entry is fixed");
            return key + " entry \"" + entry + "\": " + why;
        }

        /** The headers of the ConfigMap {@code key} names ({@code add-headers}, {@code proxy-set-headers}). */
        private Map<String, String> headers(String key) {
            String ref = data.get(key);
            if (ref == null || ref.isBlank()) {
                return Map.of();
            }
            String qualified = qualified(ref.trim(), namespace);
            ConfigMap cm = configMaps.get(qualified);
            if (cm == null) {
                invalid(key, ref, "ConfigMap " + qualified + " not found", "no headers added");
                return Map.of();
            }
            Map<String, String> out = new LinkedHashMap<>();
            Map<String, String> values = cm.getData() == null ? Map.of() : new TreeMap<>(cm.getData());
            for (Map.Entry<String, String> h : values.entrySet()) {
                String value = h.getValue() == null ? "" : h.getValue();
                if (!HEADER_NAME.matcher(h.getKey()).matches() || !HEADER_VALUE.matcher(value).matches()) {
                    invalid(key, h.getKey() + ": " + value, "ConfigMap " + qualified
                            + " has an entry that is not a header name and value", "header not set");
                } else if (value.indexOf('$') >= 0) {
                    invalid(key, h.getKey() + ": " + value, "ConfigMap " + qualified
                            + " uses an NGINX variable, which Sluice does not expand", "header not set");
                } else {
                    out.put(h.getKey(), value);
                }
            }
            return out;
        }

        private List<Integer> customHttpErrors() {
            List<Integer> out = new ArrayList<>();
            for (String s : list("custom-http-errors")) {
                Integer code = AnnotationValues.integer(s, 100);
                if (code != null && code <= 599) {
                    out.add(code); // a bad list is reported once, by the annotation's own parser
                }
            }
            return out;
        }

        private int status(String key) {
            return integer(key, RequestLimits.DEFAULT_REJECT_STATUS, 400, 599);
        }

        private boolean bool(String key, boolean fallback) {
            String v = data.get(key);
            if (v == null) {
                return fallback;
            }
            Boolean b = AnnotationValues.bool(v);
            if (b == null) {
                invalid(key, v, "expected true or false", "using the default " + fallback);
                return fallback;
            }
            return b;
        }

        private int integer(String key, int fallback, int min, int max) {
            String v = data.get(key);
            if (v == null) {
                return fallback;
            }
            Integer n = AnnotationValues.integer(v, min);
            if (n == null || n > max) {
                invalid(key, v, "expected an integer from " + min + " to " + max, "using the default " + fallback);
                return fallback;
            }
            return n;
        }

        /**
         * {@code large-client-header-buffers: "<number> <size>"} (NGINX's syntax, e.g. {@code 4 8k}):
         * {@code [size, number × size]} as the longest request line and the most header bytes, or
         * {@code [0, 0]} (the listener's 8 KiB and 32 KiB) when absent or invalid (reported).
         */
        private int[] headerBuffers() {
            String v = data.get("large-client-header-buffers");
            if (v == null) {
                return new int[] {0, 0};
            }
            java.util.regex.Matcher m = HEADER_BUFFERS.matcher(v.trim());
            if (m.matches()) {
                long number = Long.parseLong(m.group(1));
                long size = Long.parseLong(m.group(2)) << switch (m.group(3).toLowerCase(Locale.ROOT)) {
                    case "k" -> 10;
                    case "m" -> 20;
                    default -> 0;
                };
                if (number >= 1 && size >= 1024 && number * size <= MAX_HEADER_BYTES) {
                    return new int[] {(int) size, (int) (number * size)};
                }
            }
            invalid("large-client-header-buffers", v, "expected \"<number> <size>\" such as 4 8k (at least 1k, "
                    + "at most 1m in all)", "using the default 4 8k");
            return new int[] {0, 0};
        }

        /** {@code keep-alive-requests}: at least 1; absent or invalid (reported): no limit, Sluice's own. */
        private int keepAliveRequests() {
            String v = data.get("keep-alive-requests");
            if (v == null) {
                return 0;
            }
            Integer n = AnnotationValues.integer(v, 1);
            if (n == null) {
                invalid("keep-alive-requests", v, "expected an integer >= 1", "no limit (Sluice's default)");
                return 0;
            }
            return n;
        }

        /**
         * Whole seconds or a duration such as {@code 75s} (NGINX's time syntax), at least one
         * second; {@code null} when absent or invalid (reported): the listener's own value.
         */
        private java.time.Duration seconds(String key) {
            String v = data.get(key);
            if (v == null) {
                return null;
            }
            try {
                java.time.Duration d = Durations.parse(v);
                if (d.compareTo(java.time.Duration.ofSeconds(1)) >= 0) {
                    return d;
                }
            } catch (IllegalArgumentException e) {
                // reported below
            }
            invalid(key, v, "expected at least 1 second, e.g. 75 or 75s", "using Sluice's listener default");
            return null;
        }

        private String headerName(String key, String fallback) {
            String v = data.get(key);
            if (v == null) {
                return fallback;
            }
            if (!HEADER_NAME.matcher(v.trim()).matches()) {
                invalid(key, v, "expected a header name", "using the default " + fallback);
                return fallback;
            }
            return v.trim();
        }

        private SourceRanges ranges(String key, SourceRanges fallback, String fallbackText) {
            String v = data.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return SourceRanges.parse(v);
            } catch (IllegalArgumentException e) {
                invalid(key, v, e.getMessage(), "using the default " + fallbackText);
                return fallback;
            }
        }

        /** A comma-separated list, entries trimmed, empty ones dropped. */
        private List<String> list(String key) {
            String v = data.get(key);
            if (v == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String s : v.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
            return out;
        }

        private void report(String key, String message) {
            problems.accept(new Problem(KIND, namespace, name, "key " + key + ": " + message));
        }

        private void invalid(String key, String value, String why, String consequence) {
            problems.accept(new Problem(KIND, namespace, name, "invalid value \"" + value + "\" for key " + key
                    + ": " + why + "; " + consequence));
        }
    }
}
