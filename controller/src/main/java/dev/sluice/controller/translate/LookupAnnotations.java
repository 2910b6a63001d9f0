package dev.sluice.controller.translate;

import static dev.sluice.controller.translate.AnnotationKey.*;

import dev.sluice.gateway.route.HeaderRewrites;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The annotations of an Ingress that the translator completes against the rest of the cluster:
 * {@code custom-http-errors} and {@code default-backend} (a Service), {@code custom-headers} (a
 * ConfigMap), {@code server-alias} (other hosts), plus the header rewrites that need nothing more
 * ({@code upstream-vhost}, {@code proxy-redirect-*}, {@code proxy-cookie-*}).
 *
 * @param customHttpErrors the statuses {@code custom-http-errors} lists (400–599); empty without
 * @param defaultBackend   {@code default-backend}: a Service name of the Ingress's namespace, or
 *                         {@code null}
 * @param customHeaders    {@code custom-headers}: a ConfigMap as {@code name} or
 *                         {@code namespace/name}, or {@code null}
 * @param serverAliases    {@code server-alias}: lower-case host names, in the order given
 * @param headerRewrites   {@code upstream-vhost}, {@code proxy-redirect-*}, {@code proxy-cookie-*}
 *                         (the {@code custom-headers} data are added by the translator)
 */
record LookupAnnotations(Set<Integer> customHttpErrors, String defaultBackend, String customHeaders,
        List<String> serverAliases, HeaderRewrites headerRewrites) {

    static final LookupAnnotations NONE = new LookupAnnotations(Set.of(), null, null, List.of(), HeaderRewrites.NONE);

    /** ingress-nginx's DNS-1035 check of a Service name. */
    private static final Pattern SERVICE_NAME = Pattern.compile("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$");
    /** A ConfigMap: {@code name} or {@code namespace/name}, DNS-1123 subdomains. */
    private static final Pattern CONFIG_MAP = Pattern.compile(
            "^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");
    /** A host, optionally with a port, as a literal {@code Host} value. */
    private static final Pattern VHOST = Pattern.compile("^[A-Za-z0-9._\\-]+(:[0-9]{1,5})?$|^\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?$");
    /** A literal {@code proxy_redirect} / {@code proxy_cookie_*} word: no blanks, no variables, no regex. */
    private static final Pattern LITERAL = Pattern.compile("^[^\\s$~]+$");
    private static final String OFF = "off";

    public LookupAnnotations {
        customHttpErrors = Set.copyOf(customHttpErrors);
        serverAliases = List.copyOf(serverAliases);
    }

    /** Whether {@code custom-http-errors} or {@code default-backend} asks for error pages. */
    boolean errorPages() {
        return !customHttpErrors.isEmpty() || defaultBackend != null;
    }

    /**
     * Reads the keys of this group.
     *
     * @param value    the value of a key (annotation, or its configured fallback), or {@code null}
     * @param invalid  the problem message for a bad value and its consequence
     * @param problems receives the problems
     */
    static LookupAnnotations parse(Function<AnnotationKey, String> value, Invalid invalid, Consumer<String> problems) {
        Set<Integer> codes = codes(value.apply(CUSTOM_HTTP_ERRORS), invalid, problems);
        String backend = trimmed(value.apply(DEFAULT_BACKEND));
        if (backend != null && !SERVICE_NAME.matcher(backend).matches()) {
            problems.accept(invalid.message(DEFAULT_BACKEND, backend,
                    "expected the name of a Service in the Ingress's namespace; not used"));
            backend = null;
        }
        String headers = trimmed(value.apply(CUSTOM_HEADERS));
        if (headers != null && !CONFIG_MAP.matcher(headers).matches()) {
            problems.accept(invalid.message(CUSTOM_HEADERS, headers,
                    "expected a ConfigMap as name or namespace/name; no headers added"));
            headers = null;
        }
        List<String> aliases = new ArrayList<>();
        String aliasText = trimmed(value.apply(SERVER_ALIAS));
        if (aliasText != null) {
            List<String> bad = new ArrayList<>();
            for (String a : aliasText.split(",")) {
                String alias = a.trim();
                if (alias.isEmpty()) {
                    continue;
                }
                String key = IngressTranslator.hostKey(alias);
                if (key == null || key.isEmpty()) {
                    bad.add(alias);
                } else if (!aliases.contains(key)) {
                    aliases.add(key);
                }
            }
            if (!bad.isEmpty()) {
                problems.accept(invalid.message(SERVER_ALIAS, aliasText, "not host names, ignored: "
                        + String.join(", ", bad)));
            }
        }
        String vhost = trimmed(value.apply(UPSTREAM_VHOST));
        if (vhost != null && !VHOST.matcher(vhost).matches()) {
            problems.accept(invalid.message(UPSTREAM_VHOST, vhost, "expected a host name (NGINX variables are not "
                    + "supported); the client's Host is sent"));
            vhost = null;
        }
        String[] redirect = redirect(value, invalid, problems);
        String[] cookieDomain = pair(value, PROXY_COOKIE_DOMAIN, invalid, problems);
        String[] cookiePath = pair(value, PROXY_COOKIE_PATH, invalid, problems);
        HeaderRewrites rewrites = new HeaderRewrites(vhost, Map.of(),
                redirect == null ? null : redirect[0], redirect == null ? null : redirect[1],
                cookieDomain == null ? null : cookieDomain[0], cookieDomain == null ? null : cookieDomain[1],
                cookiePath == null ? null : cookiePath[0], cookiePath == null ? null : cookiePath[1]);
        if (codes.isEmpty() && backend == null && headers == null && aliases.isEmpty()
                && rewrites.equals(HeaderRewrites.NONE)) {
            return NONE;
        }
        return new LookupAnnotations(codes, backend, headers, aliases, rewrites);
    }

    /** {@code custom-http-errors}: statuses 400–599, comma separated; anything else drops the list. */
    private static Set<Integer> codes(String v, Invalid invalid, Consumer<String> problems) {
        String text = trimmed(v);
        if (text == null) {
            return Set.of();
        }
        Set<Integer> codes = new TreeSet<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            Integer code = AnnotationValues.integer(p, 400);
            if (code == null || code > 599) {
                problems.accept(invalid.message(CUSTOM_HTTP_ERRORS, text,
                        "expected statuses 400-599, comma separated; no error is intercepted"));
                return Set.of();
            }
            codes.add(code);
        }
        return codes;
    }

    /**
     * {@code proxy-redirect-from} / {@code -to} as ingress-nginx's template: {@code from} {@code off}
     * (the default) or {@code default} → no rewrite ({@code proxy_redirect default} would rewrite
     * {@code http://upstream_balancer/}, a URL no upstream sends); {@code to} {@code off} → no
     * rewrite; else {@code [from, to]}.
     */
    private static String[] redirect(Function<AnnotationKey, String> value, Invalid invalid,
            Consumer<String> problems) {
        String from = trimmed(value.apply(PROXY_REDIRECT_FROM));
        String to = trimmed(value.apply(PROXY_REDIRECT_TO));
        if (from == null || from.equals(OFF) || from.equals("default") || to == null || to.equals(OFF)) {
            return null;
        }
        if (!LITERAL.matcher(from).matches()) {
            problems.accept(invalid.message(PROXY_REDIRECT_FROM, from,
                    "only a literal prefix is supported (no blanks, NGINX variables or regexes); not rewritten"));
            return null;
        }
        if (!LITERAL.matcher(to).matches()) {
            problems.accept(invalid.message(PROXY_REDIRECT_TO, to,
                    "only a literal replacement is supported (no blanks or NGINX variables); not rewritten"));
            return null;
        }
        return new String[] {from, to};
    }

    /** {@code proxy-cookie-domain} / {@code -path}: {@code off} (the default) or {@code "from to"}. */
    private static String[] pair(Function<AnnotationKey, String> value, AnnotationKey key, Invalid invalid,
            Consumer<String> problems) {
        String v = trimmed(value.apply(key));
        if (v == null || v.equals(OFF)) {
            return null;
        }
        String[] words = v.split("\\s+");
        if (words.length != 2 || !LITERAL.matcher(words[0]).matches() || !LITERAL.matcher(words[1]).matches()) {
            problems.accept(invalid.message(key, v, "expected off or \"from to\" (literal words; NGINX variables and "
                    + "regexes are not supported); not rewritten"));
            return null;
        }
        return words;
    }

    private static String trimmed(String v) {
        if (v == null) {
            return null;
        }
        String t = v.trim();
        return t.isEmpty() ? null : t;
    }

    /** Builds the problem message for a bad value of a key. */
    interface Invalid {
        String message(AnnotationKey key, String value, String consequence);
    }
}
