package dev.sluice.controller.translate;

import dev.sluice.gateway.route.RouteOptions;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The {@code <prefix>/*} annotations of one Ingress that Sluice implements, parsed and validated.
 *
 * <p>As ingress-nginx's parsers that swallow errors do, a value that does not validate is
 * reported and replaced by the default; it never drops the Ingress. Annotation keys under the
 * prefix that Sluice does not implement are reported once per Ingress ("not supported, ignored"),
 * {@code *-snippet} annotations as "not supported, ever".
 *
 * @param canary           {@code canary: "true"}
 * @param canaryConfigured some {@code canary-*} annotation is present (meaningless without
 *                         {@code canary: "true"})
 * @param useRegex         {@code use-regex}
 * @param rewriteTarget    {@code rewrite-target}, validated, or {@code null}
 * @param xForwardedPrefix {@code x-forwarded-prefix}, or {@code null}
 * @param appRoot          {@code app-root} (a relative path), or {@code null}
 * @param routeOptions     timeouts and retries (no rewrite)
 */
public record IngressAnnotations(
        boolean canary,
        boolean canaryConfigured,
        boolean useRegex,
        String rewriteTarget,
        String xForwardedPrefix,
        String appRoot,
        RouteOptions routeOptions) {

    /** Suffixes (after {@code <prefix>/}) Sluice implements, apart from {@code canary*}. */
    public static final Set<String> SUPPORTED = Set.of(
            "use-regex", "rewrite-target", "x-forwarded-prefix", "app-root",
            "proxy-connect-timeout", "proxy-send-timeout", "proxy-read-timeout", "proxy-next-upstream-tries");

    /** ingress-nginx's {@code RegexPathWithCapture} validator for {@code rewrite-target}. */
    private static final Pattern REWRITE_TARGET = Pattern.compile("^/?[-._~a-zA-Z0-9/:$]*$");
    private static final Pattern ABSOLUTE_URL = Pattern.compile("^https?://[^\\s/?#]+[^\\s]*$");
    private static final Pattern APP_ROOT = Pattern.compile("^/(?!/)[^\\s]*$");
    private static final Pattern HEADER_VALUE = Pattern.compile("^[\\x21-\\x7e]+$");

    /**
     * Reads the annotations of {@code ingress}.
     *
     * @param prefix   {@code --annotations-prefix}
     * @param problems receives one message per problem found
     */
    public static IngressAnnotations parse(Ingress ingress, String prefix, Consumer<String> problems) {
        Map<String, String> all = ingress.getMetadata() == null ? null : ingress.getMetadata().getAnnotations();
        if (all == null || all.isEmpty()) {
            return new IngressAnnotations(false, false, false, null, null, null, RouteOptions.DEFAULTS);
        }
        String p = prefix + "/";
        // sorted, so problems list the keys in a stable order
        Map<String, String> own = new TreeMap<>();
        for (Map.Entry<String, String> e : all.entrySet()) {
            if (e.getKey().startsWith(p)) {
                own.put(e.getKey().substring(p.length()), e.getValue() == null ? "" : e.getValue());
            }
        }
        if (own.isEmpty()) {
            return new IngressAnnotations(false, false, false, null, null, null, RouteOptions.DEFAULTS);
        }
        Reader r = new Reader(p, own, problems);

        boolean canary = r.bool("canary", false);
        boolean canaryConfigured = false;
        List<String> unsupported = new ArrayList<>();
        List<String> snippets = new ArrayList<>();
        for (String key : own.keySet()) {
            if (key.endsWith("-snippet")) {
                snippets.add(p + key);
            } else if (key.startsWith("canary-")) {
                canaryConfigured = true;
            } else if (!key.equals("canary") && !SUPPORTED.contains(key)) {
                unsupported.add(p + key);
            }
        }
        if (!snippets.isEmpty()) {
            problems.accept("snippet annotations are not supported, ever (ignored): " + String.join(", ", snippets));
        }
        if (!unsupported.isEmpty()) {
            problems.accept("annotations not supported, ignored: " + String.join(", ", unsupported));
        }

        boolean useRegex = r.bool("use-regex", false);
        String rewriteTarget = r.string("rewrite-target");
        if (rewriteTarget != null && rewriteTarget.isEmpty()) {
            rewriteTarget = null;
        }
        if (rewriteTarget != null && !REWRITE_TARGET.matcher(rewriteTarget).matches()
                && !ABSOLUTE_URL.matcher(rewriteTarget).matches()) {
            problems.accept(r.invalid("rewrite-target", rewriteTarget,
                    "allowed: a path of [-._~a-zA-Z0-9/:$] or an absolute http(s) URL; no rewrite"));
            rewriteTarget = null;
        }
        String xForwardedPrefix = r.string("x-forwarded-prefix");
        if (xForwardedPrefix != null && !xForwardedPrefix.isEmpty() && !HEADER_VALUE.matcher(xForwardedPrefix).matches()) {
            problems.accept(r.invalid("x-forwarded-prefix", xForwardedPrefix, "header not sent"));
            xForwardedPrefix = null;
        }
        if (xForwardedPrefix != null && xForwardedPrefix.isEmpty()) {
            xForwardedPrefix = null; // ingress-nginx sends no header for an empty value
        }
        String appRoot = r.string("app-root");
        if (appRoot != null && !APP_ROOT.matcher(appRoot).matches()) {
            problems.accept(r.invalid("app-root", appRoot, "it must be a path starting with / (absolute URLs are "
                    + "rejected as by ingress-nginx); no app-root redirect"));
            appRoot = null;
        }

        Duration connect = r.duration("proxy-connect-timeout", RouteOptions.DEFAULT_CONNECT_TIMEOUT);
        Duration send = r.duration("proxy-send-timeout", RouteOptions.DEFAULT_SEND_TIMEOUT);
        Duration read = r.duration("proxy-read-timeout", RouteOptions.DEFAULT_READ_TIMEOUT);
        int tries = r.tries("proxy-next-upstream-tries", RouteOptions.DEFAULT_NEXT_UPSTREAM_TRIES);
        RouteOptions options = RouteOptions.DEFAULTS.withTimeouts(connect, send, read).withNextUpstreamTries(tries);
        return new IngressAnnotations(canary, canaryConfigured, useRegex, rewriteTarget, xForwardedPrefix, appRoot,
                options);
    }

    /** Typed access to the annotations under the prefix, reporting bad values. */
    private record Reader(String prefix, Map<String, String> values, Consumer<String> problems) {

        String string(String key) {
            return values.get(key);
        }

        /** Go's {@code strconv.ParseBool}, as ingress-nginx uses. */
        boolean bool(String key, boolean fallback) {
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            return switch (v.trim()) {
                case "1", "t", "T", "TRUE", "true", "True" -> true;
                case "0", "f", "F", "FALSE", "false", "False" -> false;
                default -> {
                    problems.accept(invalid(key, v, "expected true or false; using " + fallback));
                    yield fallback;
                }
            };
        }

        Duration duration(String key, Duration fallback) {
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                Duration d = Durations.parse(v);
                if (!d.isZero()) {
                    return d;
                }
            } catch (IllegalArgumentException e) {
                // reported below
            }
            problems.accept(invalid(key, v, "expected seconds or a duration such as 30s, 500ms, 5m; using the "
                    + "default " + fallback.toSeconds() + "s"));
            return fallback;
        }

        /** {@code proxy-next-upstream-tries}: 0 means unlimited in NGINX. */
        int tries(String key, int fallback) {
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                int n = Integer.parseInt(v.trim());
                if (n == 0) {
                    return Integer.MAX_VALUE;
                }
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problems.accept(invalid(key, v, "expected a number >= 0; using the default " + fallback));
            return fallback;
        }

        String invalid(String key, String value, String consequence) {
            return "invalid value \"" + value + "\" for annotation " + prefix + key + ": " + consequence;
        }
    }
}
