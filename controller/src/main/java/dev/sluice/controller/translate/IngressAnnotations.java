package dev.sluice.controller.translate;

import static dev.sluice.controller.translate.AnnotationKey.*;

import com.google.re2j.PatternSyntaxException;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.balance.AffinityCanaryBehavior;
import dev.sluice.gateway.balance.AffinityConfig;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.balance.ConsistentHashSubset;
import dev.sluice.gateway.balance.CanaryRule;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.CorsPolicy;
import dev.sluice.gateway.route.LocationRedirect;
import dev.sluice.gateway.route.ProxyTuning;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.RouteOptions;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The {@code <prefix>/*} annotations of one Ingress that Sluice implements, parsed and validated.
 *
 * <p>As ingress-nginx's parsers that swallow errors do, a value that does not validate is
 * reported and replaced by the default; it never drops the Ingress. Annotation keys under the
 * prefix that {@link AnnotationKey} does not declare are reported once per Ingress ("not supported,
 * ignored"), {@code *-snippet} annotations as "not supported, ever"; undeclared keys of the
 * access-control family are left to {@link AccessControl}, which denies the locations.
 *
 * <p>Canary Ingresses (SPEC §5.1) read only the {@code canary-*} annotations, the per-upstream
 * balancing annotations ({@code load-balance}, {@code upstream-hash-by*}) and
 * {@code affinity-canary-behavior} (the keys {@link AnnotationKey#readOnCanary}); every other
 * annotation of theirs is reported as ignored,
 * because the mainline location's settings apply to canary traffic. On a normal Ingress the
 * {@code canary-*} annotations are ignored ({@link #canaryConfigured}) and
 * {@code affinity-canary-behavior} has no effect.
 *
 * @param canary           {@code canary: "true"}
 * @param canaryConfigured some {@code canary-*} annotation is present (meaningless without
 *                         {@code canary: "true"})
 * @param useRegex         {@code use-regex}
 * @param rewriteTarget    {@code rewrite-target}, validated, or {@code null}
 * @param xForwardedPrefix {@code x-forwarded-prefix}, or {@code null}
 * @param appRoot          {@code app-root} (a relative path), or {@code null}
 * @param routeOptions     timeouts, retries, the HTTPS redirect ({@code ssl-redirect},
 *                         {@code force-ssl-redirect}, {@code preserve-trailing-slash}) and the fixed
 *                         redirect ({@code permanent-redirect}, {@code temporal-redirect}), CORS
 *                         ({@code enable-cors}, {@code cors-*}), {@code proxy-body-size},
 *                         {@code backend-protocol} and {@code proxy-ssl-*} ({@link ProxySsl}); no rewrite
 * @param balancer         {@code load-balance}, {@code upstream-hash-by*}, {@code affinity} and
 *                         {@code session-cookie-*}: how the upstreams this Ingress creates balance
 * @param canaryRule       the {@code canary-*} traffic policy; {@code null} unless {@link #canary}
 * @param affinityCanaryBehavior {@code affinity-canary-behavior} (canary Ingresses only)
 * @param sslPassthrough   {@code ssl-passthrough}: TLS connections to this Ingress's hosts are piped
 *                         unterminated to the host's {@code /} backend (with {@code --enable-ssl-passthrough})
 * @param fromToWwwRedirect {@code from-to-www-redirect}: this Ingress's hosts get a redirecting
 *                         {@code www.} twin (or the reverse)
 * @param clientAuth       {@code auth-tls-*}: the client-certificate check this Ingress asks of its
 *                         hosts, or {@code null} (the access policy in {@link #routeOptions} is
 *                         {@code Denied} when it asked for one that cannot be honoured)
 * @param serviceUpstream  {@code service-upstream}: the upstreams this Ingress creates have one
 *                         endpoint, the Service's ClusterIP and port, instead of the Pods
 * @param sslCiphers       {@code ssl-ciphers} as JDK names: the TLS 1.2 suites of this Ingress's
 *                         hosts (the oldest Ingress of a host that sets it wins), or {@code null}
 * @param lookups          {@code custom-http-errors}, {@code default-backend}, {@code custom-headers},
 *                         {@code server-alias}, completed by the translator (their header rewrites
 *                         are already in {@link #routeOptions})
 */
public record IngressAnnotations(
        boolean canary,
        boolean canaryConfigured,
        boolean useRegex,
        String rewriteTarget,
        String xForwardedPrefix,
        String appRoot,
        RouteOptions routeOptions,
        BalancerSpec balancer,
        CanaryRule canaryRule,
        AffinityCanaryBehavior affinityCanaryBehavior,
        boolean fromToWwwRedirect,
        ClientCertificateAuth clientAuth,
        boolean sslPassthrough,
        boolean serviceUpstream,
        List<String> sslCiphers,
        LookupAnnotations lookups) {

    /**
     * An NGINX directive of a snippet that controls access, at the start of a statement:
     * {@code deny all;}, {@code allow 10.0.0.0/8;}, {@code auth_basic "x";}, {@code satisfy any;},
     * {@code limit_req zone=z;}, {@code ssl_verify_client on;}, {@code return 403;}. Snippets never
     * run in Sluice; one that would have protected the location denies it instead (fail closed).
     * {@code add_header X-Frame-Options deny;} is not one: there {@code deny} is an argument; nor is
     * {@code auth_request_set} (it copies a header of the auth answer; {@code auth-response-headers}
     * does that in Sluice, and without it the application gets less, not more).
     */
    private static final Pattern SNIPPET_ACCESS_DIRECTIVE = Pattern.compile(
            "(?m)(?:^|[;{}])\\s*(?:allow|deny|auth_(?!request_set\\b)[a-z_]+|satisfy|limit_[a-z_]+|ssl_verify_client"
                    + "|ssl_client_certificate|access_by_lua[a-z_]*|return\\s+(?:40[1-4]|444))(?=[\\s;])");

    /** ingress-nginx's charset for canary header/cookie names and header values. */
    private static final Pattern CANARY_NAME = Pattern.compile("^[-._~a-zA-Z0-9/:]+$");
    /** A header value list {@code a||b||c} (Sluice's extension, #4467). */
    private static final Pattern CANARY_VALUES = Pattern.compile("^[-._~a-zA-Z0-9/:|]+$");
    private static final Pattern COOKIE_NAME = Pattern.compile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$");
    private static final Pattern COOKIE_ATTRIBUTE = Pattern.compile("^[\\x21-\\x3a\\x3c-\\x7e]+$");

    /** No annotations: a normal Ingress with every default. */
    private static final IngressAnnotations NONE = new IngressAnnotations(false, false, false, null, null, null,
            RouteOptions.DEFAULTS, BalancerSpec.DEFAULT, null, AffinityCanaryBehavior.STICKY, false, null, false, false, null,
            LookupAnnotations.NONE);

    /** ingress-nginx's {@code RegexPathWithCapture} validator for {@code rewrite-target}. */
    private static final Pattern REWRITE_TARGET_SYNTAX = Pattern.compile("^/?[-._~a-zA-Z0-9/:$]*$");
    private static final Pattern ABSOLUTE_URL = Pattern.compile("^https?://[^\\s/?#]+[^\\s]*$");
    // no control character: the value becomes a Location header
    private static final Pattern APP_ROOT_SYNTAX = Pattern.compile("^/(?!/)[^\\s\\p{Cntrl}]*$");
    // ingress-nginx's cors validators (annotations/cors/main.go)
    private static final Pattern CORS_ORIGIN = Pattern.compile("^https?://(\\*\\.)?[A-Za-z0-9\\-.]*(:\\d+)?$");
    private static final Pattern CORS_METHODS = Pattern.compile("^([A-Za-z]+,?\\s?)+$");
    private static final Pattern CORS_HEADERS = Pattern.compile("^([A-Za-z0-9\\-_]+,?\\s?)+$");
    private static final Pattern CORS_EXPOSE = Pattern.compile("^(([A-Za-z0-9\\-_]+|\\*),?\\s?)+$");
    private static final Pattern BODY_SIZE = Pattern.compile("^(\\d+)([kKmMgG]?)$");
    private static final Pattern HEADER_VALUE = Pattern.compile("^[\\x21-\\x7e]+$");

    /**
     * Reads the annotations of {@code ingress}.
     *
     * @param prefix   {@code --annotations-prefix}
     * @param problems receives one message per problem found
     */
    public static IngressAnnotations parse(Ingress ingress, String prefix, Consumer<String> problems) {
        return parse(ingress, prefix, new SecretIndex(List.of()), problems);
    }

    /**
     * Reads the annotations of {@code ingress}, with the Secrets its access-control annotations
     * may name ({@link AccessControl}).
     *
     * @param prefix   {@code --annotations-prefix}
     * @param secrets  the snapshot's Secrets
     * @param problems receives one message per problem found
     */
    static IngressAnnotations parse(Ingress ingress, String prefix, SecretIndex secrets, Consumer<String> problems) {
        return parse(ingress, prefix, secrets, GlobalSettings.NONE, problems);
    }

    /**
     * Reads the annotations of {@code ingress} under the global ConfigMap: a key that
     * {@linkplain AnnotationKey#takesConfigMapDefault() takes its default from the ConfigMap} and is
     * absent reads the ConfigMap's (already validated) value, and {@code global-auth-url} protects
     * the locations unless the Ingress has its own {@code auth-url} or sets
     * {@code enable-global-auth: "false"}.
     *
     * @param global the global ConfigMap's settings
     */
    static IngressAnnotations parse(Ingress ingress, String prefix, SecretIndex secrets, GlobalSettings global,
            Consumer<String> problems) {
        Map<String, String> all = ingress.getMetadata() == null ? null : ingress.getMetadata().getAnnotations();
        if ((all == null || all.isEmpty()) && global.neutralForIngress()) {
            return NONE;
        }
        String p = prefix + "/";
        // sorted, so problems list the keys in a stable order
        Map<String, String> own = new TreeMap<>();
        for (Map.Entry<String, String> e : (all == null ? Map.<String, String>of() : all).entrySet()) {
            if (e.getKey().startsWith(p)) {
                own.put(e.getKey().substring(p.length()), e.getValue() == null ? "" : e.getValue());
            }
        }
        if (own.isEmpty() && global.neutralForIngress()) {
            return NONE;
        }
        // annotation, else the ConfigMap's key of the same name, else the built-in default; an
        // invalid annotation falls back to the ConfigMap's value, as in ingress-nginx (a typo in one
        // Ingress must not lift a site-wide limit back to the built-in default)
        Map<String, String> effective = new TreeMap<>(global.annotationDefaults());
        for (Map.Entry<String, String> e : own.entrySet()) {
            String configMapValue = global.annotationDefaults().get(e.getKey());
            AnnotationKey key = AnnotationKey.of(e.getKey());
            if (configMapValue != null && key != null && key.scope() != AnnotationKey.Scope.ACCESS_CONTROL) {
                List<String> found = problemsAlone(BackendResolver.namespace(ingress), ingress.getMetadata().getName(),
                        prefix, e.getKey(), e.getValue(), secrets);
                if (!found.isEmpty()) {
                    String m = found.get(0);
                    int using = m.indexOf("; using");
                    problems.accept((using < 0 ? m : m.substring(0, using)) + "; using the ConfigMap's value \""
                            + AnnotationValues.quoted(configMapValue) + "\"");
                    continue;
                }
            }
            effective.put(e.getKey(), e.getValue());
        }
        Reader r = new Reader(p, effective, problems);

        boolean canary = r.bool(CANARY, false);
        boolean canaryConfigured = false;
        List<String> unsupported = new ArrayList<>();
        List<String> snippets = new ArrayList<>();
        List<String> inherited = new ArrayList<>();
        for (String key : own.keySet()) {
            AnnotationKey declared = AnnotationKey.of(key);
            if (key.endsWith("-snippet")) {
                snippets.add(p + key);
            } else if (declared != null && declared.canaryPolicy()) {
                canaryConfigured = true;
            } else if (declared == null && !AnnotationKey.inAccessControlFamily(key)) {
                // an undeclared access-control key is not "ignored": AccessControl denies the locations
                unsupported.add(p + key);
            } else if (canary && (declared == null || !declared.readOnCanary())) {
                inherited.add(p + key);
            }
        }
        List<String> accessSnippets = new ArrayList<>();
        if (!snippets.isEmpty()) {
            problems.accept("snippet annotations are not supported, ever (ignored): " + String.join(", ", snippets));
            for (String key : snippets) {
                if (SNIPPET_ACCESS_DIRECTIVE.matcher(own.get(key.substring(p.length()))).find()) {
                    accessSnippets.add(key);
                }
            }
        }
        if (!unsupported.isEmpty()) {
            problems.accept("annotations not supported, ignored: " + String.join(", ", unsupported));
        }
        if (canary) {
            if (!inherited.isEmpty()) {
                problems.accept("annotations of a canary Ingress are ignored, the mainline location's apply: "
                        + String.join(", ", inherited));
            }
            return new IngressAnnotations(true, canaryConfigured, false, null, null, null, RouteOptions.DEFAULTS,
                    balancer(r, false), canaryRule(r), AffinityCanaryBehavior.parse(r.string(AFFINITY_CANARY_BEHAVIOR)),
                    false, null, false, r.bool(SERVICE_UPSTREAM, false), null, LookupAnnotations.NONE);
        }

        boolean useRegex = r.bool(USE_REGEX, false);
        String rewriteTarget = r.string(REWRITE_TARGET);
        if (rewriteTarget != null && rewriteTarget.isEmpty()) {
            rewriteTarget = null;
        }
        if (rewriteTarget != null && !REWRITE_TARGET_SYNTAX.matcher(rewriteTarget).matches()
                && !ABSOLUTE_URL.matcher(rewriteTarget).matches()) {
            problems.accept(r.invalid(REWRITE_TARGET, rewriteTarget,
                    "allowed: a path of [-._~a-zA-Z0-9/:$] or an absolute http(s) URL; no rewrite"));
            rewriteTarget = null;
        }
        String xForwardedPrefix = r.string(X_FORWARDED_PREFIX);
        if (xForwardedPrefix != null && !xForwardedPrefix.isEmpty() && !HEADER_VALUE.matcher(xForwardedPrefix).matches()) {
            problems.accept(r.invalid(X_FORWARDED_PREFIX, xForwardedPrefix, "header not sent"));
            xForwardedPrefix = null;
        }
        if (xForwardedPrefix != null && xForwardedPrefix.isEmpty()) {
            xForwardedPrefix = null; // ingress-nginx sends no header for an empty value
        }
        String appRoot = r.string(APP_ROOT);
        if (appRoot != null && !APP_ROOT_SYNTAX.matcher(appRoot).matches()) {
            problems.accept(r.invalid(APP_ROOT, appRoot, "it must be a path starting with / (absolute URLs are "
                    + "rejected as by ingress-nginx); no app-root redirect"));
            appRoot = null;
        }

        Duration connect = r.duration(PROXY_CONNECT_TIMEOUT, RouteOptions.DEFAULT_CONNECT_TIMEOUT);
        Duration send = r.duration(PROXY_SEND_TIMEOUT, RouteOptions.DEFAULT_SEND_TIMEOUT);
        Duration read = r.duration(PROXY_READ_TIMEOUT, RouteOptions.DEFAULT_READ_TIMEOUT);
        int tries = r.tries(PROXY_NEXT_UPSTREAM_TRIES, RouteOptions.DEFAULT_NEXT_UPSTREAM_TRIES);
        RouteOptions options = RouteOptions.DEFAULTS.withTimeouts(connect, send, read).withNextUpstreamTries(tries)
                .withHttpsRedirect(r.bool(SSL_REDIRECT, RouteOptions.DEFAULTS.sslRedirect()),
                        r.bool(FORCE_SSL_REDIRECT, RouteOptions.DEFAULTS.forceSslRedirect()),
                        r.bool(PRESERVE_TRAILING_SLASH, RouteOptions.DEFAULTS.preserveTrailingSlash()))
                .withRedirect(locationRedirect(r))
                .withCors(r.bool(ENABLE_CORS, false) ? cors(r) : null)
                .withMaxBodySize(bodySize(r))
                .withBackendProtocol(backendProtocol(r))
                .withTuning(tuning(r))
                .withMirror(mirror(r));
        LookupAnnotations lookups = LookupAnnotations.parse(r::string, r::invalid, problems);
        options = options.withHeaderRewrites(lookups.headerRewrites());
        String namespace = BackendResolver.namespace(ingress);
        // the ConfigMap's source lists apply where the Ingress has none of its own; a problem with
        // one names the ConfigMap's key, not an annotation the Ingress does not have
        Map<String, String> accessOwn = own;
        Map<String, String> fromConfigMap = new TreeMap<>();
        for (Map.Entry<String, String> d : global.annotationDefaults().entrySet()) {
            AnnotationKey k = AnnotationKey.of(d.getKey());
            if (k.scope() == AnnotationKey.Scope.ACCESS_CONTROL && !own.containsKey(d.getKey())) {
                if (accessOwn == own) {
                    accessOwn = new TreeMap<>(own);
                }
                accessOwn.put(d.getKey(), d.getValue());
                fromConfigMap.put("annotation " + p + d.getKey(), "ConfigMap " + global.source() + " key " + d.getKey());
            }
        }
        UnaryOperator<String> origin = text -> {
            for (Map.Entry<String, String> e : fromConfigMap.entrySet()) {
                text = text.replace(e.getKey(), e.getValue());
            }
            return text;
        };
        AccessControl.Result access = AccessControl.parse(accessOwn, p, namespace,
                namespace + "/" + ingress.getMetadata().getName(), secrets, global.limitReqStatus(),
                global.limitConnStatus(), m -> problems.accept(origin.apply(m)));
        if (!fromConfigMap.isEmpty() && access.policy() instanceof AccessPolicy.Denied d) {
            access = new AccessControl.Result(new AccessPolicy.Denied(origin.apply(d.reason())), access.clientAuth());
        }
        ProxySsl.Result upstreamTls = ProxySsl.parse(own, p, namespace, secrets, problems);
        BackendProtocol protocol = options.backendProtocol();
        if (ProxySsl.present(own) && protocol != BackendProtocol.HTTPS && protocol != BackendProtocol.AUTO_HTTP
                && protocol != BackendProtocol.GRPCS) {
            problems.accept("annotations " + p + "proxy-ssl-* have no effect with " + p + "backend-protocol "
                    + protocol);
        }
        AccessPolicy policy = withGlobalAuth(access.policy(), own, p, global, problems);
        if (upstreamTls.denied() != null) {
            // fail closed: proxy-ssl-verify (or the Secret) cannot be honoured
            policy = new AccessPolicy.Denied(policy instanceof AccessPolicy.Denied d
                    ? d.reason() + "; " + upstreamTls.denied() : upstreamTls.denied());
        }
        if (!accessSnippets.isEmpty()) {
            String why = String.join(", ", accessSnippets) + " holds access-control directives (allow, deny, auth_*, "
                    + "satisfy, limit_*, ssl_verify_client, return 401/403...), which Sluice cannot run";
            problems.accept(why + "; every location of this Ingress answers 503 (location denied)");
            policy = new AccessPolicy.Denied(policy instanceof AccessPolicy.Denied d ? d.reason() + "; " + why : why);
        }
        return new IngressAnnotations(false, canaryConfigured, useRegex, rewriteTarget, xForwardedPrefix, appRoot,
                options.withUpstreamTls(upstreamTls.tls()).withAccess(policy), balancer(r, true), null,
                AffinityCanaryBehavior.STICKY, r.bool(FROM_TO_WWW_REDIRECT, false), access.clientAuth(),
                r.bool(SSL_PASSTHROUGH, false), r.bool(SERVICE_UPSTREAM, false), sslCiphers(r),
                lookups);
    }

    /**
     * The problems of one annotation read alone, without the ConfigMap: how a value is validated
     * before it stands in for another (a ConfigMap key as an annotation's default, a bad annotation
     * replaced by the ConfigMap's value).
     *
     * @param suffix the annotation's key after {@code prefix/}
     */
    static List<String> problemsAlone(String namespace, String name, String prefix, String suffix, String value,
            SecretIndex secrets) {
        List<String> found = new ArrayList<>();
        parse(GlobalSettings.probe(namespace, name, Map.of(prefix + "/" + suffix, value)), prefix, secrets,
                GlobalSettings.NONE, found::add);
        return found;
    }

    /**
     * The ConfigMap {@code ingress}'s {@code custom-headers} names, as {@code namespace/name} (the
     * Ingress's namespace when the value has none), or {@code null}: what cluster mode must watch
     * for the translator to see it.
     */
    public static String customHeadersConfigMap(Ingress ingress, String prefix) {
        Map<String, String> all = ingress.getMetadata() == null ? null : ingress.getMetadata().getAnnotations();
        String v = all == null ? null : all.get(prefix + "/" + CUSTOM_HEADERS.suffix());
        if (v == null || v.isBlank()) {
            return null;
        }
        String ref = v.trim();
        return ref.indexOf('/') >= 0 ? ref : BackendResolver.namespace(ingress) + "/" + ref;
    }

    /**
     * Adds the ConfigMap's {@code global-auth-url} to a location's policy (ingress-nginx applies it
     * to every location without its own {@code auth-url} whose Ingress does not set
     * {@code enable-global-auth: "false"}). Fail closed: a global authentication that cannot be
     * honoured denies the location, and so does one that would have to be combined with the
     * Ingress's basic or digest authentication (Sluice enforces one authentication per location).
     */
    private static AccessPolicy withGlobalAuth(AccessPolicy policy, Map<String, String> own, String prefix,
            GlobalSettings global, Consumer<String> problems) {
        AccessPolicy globalAuth = global.globalAuth();
        if (globalAuth == null || own.containsKey(AUTH_URL.suffix())
                || AnnotationValues.bool(own.getOrDefault(ENABLE_GLOBAL_AUTH.suffix(), "true")) == Boolean.FALSE
                || policy instanceof AccessPolicy.Denied) {
            return policy; // an invalid enable-global-auth has denied the locations already
        }
        if (globalAuth instanceof AccessPolicy.Denied d) {
            return new AccessPolicy.Denied("ConfigMap " + global.source() + " global-auth-*: " + d.reason());
        }
        dev.sluice.gateway.access.Authentication auth = ((AccessPolicy.Guarded) globalAuth).authentication();
        if (policy instanceof AccessPolicy.Guarded g) {
            if (g.authentication() != null) {
                String why = "annotation " + prefix + AUTH_TYPE.suffix() + " together with the global-auth-url of "
                        + "ConfigMap " + global.source() + ": Sluice enforces one authentication per location (set "
                        + prefix + ENABLE_GLOBAL_AUTH.suffix() + ": \"false\" to use only this Ingress's)";
                problems.accept(why + "; every location of this Ingress answers 503 (location denied)");
                return new AccessPolicy.Denied(why);
            }
            return new AccessPolicy.Guarded(g.deny(), g.allow(), g.limits(), auth, g.satisfyAny());
        }
        return globalAuth;
    }

    /**
     * {@code temporal-redirect} (code 300–307, default 302) if set and valid, else
     * {@code permanent-redirect} (code 300–308, default 301), else {@code null} (SPEC §7). The URL
     * must be an absolute http(s) URL without {@code $} (ingress-nginx's validator); a bad URL is
     * reported and the annotation ignored, a bad code is reported and the default used.
     */
    private static LocationRedirect locationRedirect(Reader r) {
        LocationRedirect temporal = redirect(r, TEMPORAL_REDIRECT, TEMPORAL_REDIRECT_CODE, 302, 307);
        LocationRedirect permanent = redirect(r, PERMANENT_REDIRECT, PERMANENT_REDIRECT_CODE, 301, 308);
        return temporal != null ? temporal : permanent;
    }

    private static LocationRedirect redirect(Reader r, AnnotationKey key, AnnotationKey codeKey, int defaultCode,
            int maxCode) {
        String url = r.string(key);
        if (url == null || url.isEmpty()) {
            return null;
        }
        if (!ABSOLUTE_URL.matcher(url).matches() || url.indexOf('$') >= 0) {
            r.problems().accept(r.invalid(key, url, "expected an absolute http(s) URL without $; no redirect"));
            return null;
        }
        int code = defaultCode;
        String codeText = r.string(codeKey);
        if (codeText != null) {
            try {
                code = Integer.parseInt(codeText.trim());
            } catch (NumberFormatException e) {
                code = -1;
            }
            if (code < 300 || code > maxCode) {
                r.problems().accept(r.invalid(codeKey, codeText,
                        "expected 300-" + maxCode + "; using " + defaultCode));
                code = defaultCode;
            }
        }
        return new LocationRedirect(code, url);
    }

    /**
     * The {@code cors-*} settings of an Ingress with {@code enable-cors} (SPEC §7), validated as
     * ingress-nginx does: an origin entry that is not {@code *} or {@code http(s)://[*.]host[:port]}
     * is reported and dropped ({@code *} anywhere allows every origin); a bad method, header or
     * expose list, credentials flag or max age is reported and the default used.
     */
    private static CorsPolicy cors(Reader r) {
        List<String> origins = new ArrayList<>();
        String originText = r.string(CORS_ALLOW_ORIGIN);
        if (originText == null) {
            origins.add("*");
        } else {
            List<String> dropped = new ArrayList<>();
            for (String o : originText.split(",")) {
                String origin = o.trim();
                if (origin.equals("*")) {
                    origins = new ArrayList<>(List.of("*"));
                    dropped.clear();
                    break;
                }
                if (CORS_ORIGIN.matcher(origin).matches()) {
                    origins.add(origin);
                } else {
                    dropped.add(origin);
                }
            }
            if (!dropped.isEmpty()) {
                r.problems().accept(r.invalid(CORS_ALLOW_ORIGIN, originText, "entries must be * or "
                        + "http(s)://[*.]host[:port]; ignored: " + String.join(", ", dropped)));
            }
        }
        String methods = corsList(r, CORS_ALLOW_METHODS, CORS_METHODS, CorsPolicy.DEFAULT_ALLOW_METHODS);
        String headers = corsList(r, CORS_ALLOW_HEADERS, CORS_HEADERS, CorsPolicy.DEFAULT_ALLOW_HEADERS);
        String expose = corsList(r, CORS_EXPOSE_HEADERS, CORS_EXPOSE, null);
        boolean credentials = r.bool(CORS_ALLOW_CREDENTIALS, true);
        long maxAge = r.integer(CORS_MAX_AGE, (int) CorsPolicy.DEFAULT_MAX_AGE, 0);
        return new CorsPolicy(origins, methods, headers, expose, credentials, maxAge);
    }

    private static String corsList(Reader r, AnnotationKey key, Pattern valid, String fallback) {
        String v = r.string(key);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        if (!valid.matcher(v).matches()) {
            r.problems().accept(r.invalid(key, v, fallback == null ? "not sent" : "using the default " + fallback));
            return fallback;
        }
        return v;
    }

    /**
     * {@code proxy-body-size} as NGINX's size syntax: a number of bytes with an optional unit
     * {@code k}, {@code m} or {@code g} (either case, powers of 1024): {@code 8m} = 8388608;
     * {@code 0} = unlimited. Anything else is reported and the default 1m used.
     */
    private static long bodySize(Reader r) {
        String v = r.string(PROXY_BODY_SIZE);
        if (v == null) {
            return RouteOptions.DEFAULT_MAX_BODY_SIZE;
        }
        java.util.regex.Matcher m = BODY_SIZE.matcher(v.trim());
        if (m.matches()) {
            int shift = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                default -> 0;
            };
            try {
                long n = Long.parseLong(m.group(1));
                if (n <= (Long.MAX_VALUE >> shift)) {
                    return n << shift;
                }
            } catch (NumberFormatException e) {
                // too many digits: reported below
            }
        }
        r.problems().accept(r.invalid(PROXY_BODY_SIZE, v, "expected a size such as 8m, 512k or 0 (unlimited); "
                + "using the default 1m"));
        return RouteOptions.DEFAULT_MAX_BODY_SIZE;
    }

    /**
     * {@code proxy-http-version} ({@code 1.0} or {@code 1.1}), {@code proxy-request-buffering} and
     * {@code proxy-buffering} ({@code on}/{@code off}), {@code proxy-buffer-size} (a size, kept
     * within {@link ProxyTuning#MIN_RESPONSE_HEADER_LIMIT}..{@link ProxyTuning#MAX_RESPONSE_HEADER_LIMIT})
     * and {@code enable-access-log}; a bad value is reported and the default used.
     * {@code proxy-buffering: on} is reported: Sluice streams responses either way.
     */
    private static ProxyTuning tuning(Reader r) {
        ProxyTuning d = ProxyTuning.DEFAULTS;
        String version = r.string(PROXY_HTTP_VERSION);
        boolean http10 = false;
        if (version != null && !version.trim().equals("1.1")) {
            if (version.trim().equals("1.0")) {
                http10 = true;
            } else {
                r.problems().accept(r.invalid(PROXY_HTTP_VERSION, version, "expected 1.0 or 1.1; using 1.1"));
            }
        }
        boolean requestBuffering = onOff(r, PROXY_REQUEST_BUFFERING, d.bufferRequestBody());
        if (onOff(r, PROXY_BUFFERING, false)) {
            r.problems().accept("annotation " + r.prefix() + PROXY_BUFFERING.suffix() + ": on is accepted, but Sluice "
                    + "streams responses with back-pressure either way (the upstream is read as fast as the client "
                    + "takes the response)");
        }
        int headerLimit = d.responseHeaderLimit();
        String size = r.string(PROXY_BUFFER_SIZE);
        if (size != null) {
            Long bytes = AnnotationValues.size(size);
            if (bytes == null) {
                r.problems().accept(r.invalid(PROXY_BUFFER_SIZE, size, "expected a size such as 4k or 16k; using "
                        + PROXY_BUFFER_SIZE.defaultValue()));
            } else if (bytes < ProxyTuning.MIN_RESPONSE_HEADER_LIMIT || bytes > ProxyTuning.MAX_RESPONSE_HEADER_LIMIT) {
                headerLimit = (int) Math.max(ProxyTuning.MIN_RESPONSE_HEADER_LIMIT,
                        Math.min(ProxyTuning.MAX_RESPONSE_HEADER_LIMIT, bytes));
                r.problems().accept(r.invalid(PROXY_BUFFER_SIZE, size, "Sluice takes 1k to 1m; using " + headerLimit
                        + " bytes"));
            } else {
                headerLimit = bytes.intValue();
            }
        }
        return new ProxyTuning(http10, requestBuffering, headerLimit, r.bool(ENABLE_ACCESS_LOG, d.accessLog()));
    }

    /**
     * {@code ssl-ciphers}: cipher names separated by {@code :} (OpenSSL's, mapped to the JDK's, or
     * IANA's), as {@code proxy-ssl-ciphers} reads them; OpenSSL's keywords ({@code ALL},
     * {@code HIGH}, {@code !aNULL}) or a cipher this JDK does not know are reported and the default
     * suites kept. {@code null}: not set.
     */
    private static List<String> sslCiphers(Reader r) {
        String v = r.string(SSL_CIPHERS);
        if (v == null || v.isBlank()) {
            return null;
        }
        List<String> unknown = new ArrayList<>();
        List<String> ciphers = ProxySsl.jdkCiphers(v, unknown);
        if (!unknown.isEmpty() || ciphers.isEmpty()) {
            r.problems().accept(r.invalid(SSL_CIPHERS, v, (unknown.isEmpty() ? "no cipher named"
                    : "not a cipher this JDK supports: " + String.join(", ", unknown))
                    + " (OpenSSL keywords such as HIGH or !aNULL are not supported); Sluice's default ciphers are "
                    + "offered"));
            return null;
        }
        return List.copyOf(ciphers);
    }

    /** NGINX's {@code on}/{@code off} (case-insensitive); anything else is reported and {@code fallback}. */
    private static boolean onOff(Reader r, AnnotationKey key, boolean fallback) {
        String v = r.string(key);
        if (v == null) {
            return fallback;
        }
        String t = v.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("on") || t.equals("off")) {
            return t.equals("on");
        }
        r.problems().accept(r.invalid(key, v, "expected on or off; using " + (fallback ? "on" : "off")));
        return fallback;
    }

    /** These annotations with the locations denied (503) for {@code reason}, and no client-certificate check. */
    IngressAnnotations denied(String reason) {
        return new IngressAnnotations(canary, canaryConfigured, useRegex, rewriteTarget, xForwardedPrefix, appRoot,
                routeOptions.withAccess(new dev.sluice.gateway.access.AccessPolicy.Denied(reason)), balancer,
                canaryRule, affinityCanaryBehavior, fromToWwwRedirect, null, sslPassthrough, serviceUpstream,
                sslCiphers, lookups);
    }

    /** These annotations with other location options (the translator completed {@link #lookups}). */
    IngressAnnotations withRouteOptions(RouteOptions options) {
        return new IngressAnnotations(canary, canaryConfigured, useRegex, rewriteTarget, xForwardedPrefix, appRoot,
                options, balancer, canaryRule, affinityCanaryBehavior, fromToWwwRedirect, clientAuth, sslPassthrough,
                serviceUpstream, sslCiphers, lookups);
    }

    /**
     * {@code backend-protocol} (SPEC §7): {@code HTTP}, {@code HTTPS}, {@code AUTO_HTTP},
     * {@code GRPC}, {@code GRPCS} or {@code FCGI}, case-insensitive; anything else is reported and
     * {@code HTTP} used, as ingress-nginx's parser does.
     */
    private static BackendProtocol backendProtocol(Reader r) {
        String v = r.string(BACKEND_PROTOCOL);
        if (v == null) {
            return BackendProtocol.HTTP;
        }
        BackendProtocol p = BackendProtocol.parse(v);
        if (p == null) {
            r.problems().accept(r.invalid(BACKEND_PROTOCOL, v, "expected HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS or FCGI; "
                    + "using HTTP"));
            return BackendProtocol.HTTP;
        }
        if (p == BackendProtocol.FCGI) {
            r.problems().accept("annotation " + r.prefix() + BACKEND_PROTOCOL.suffix() + ": FCGI is not supported; "
                    + "every request of the location answers 502");
        }
        return p;
    }

    /** Whether this Ingress declared {@code affinity: cookie} (its locations set sticky cookies). */
    public boolean affinity() {
        return balancer.affinity() != null;
    }

    /**
     * The {@code canary-*} policy (SPEC §5.1). Bad names are reported and ignored; a bad
     * {@code canary-by-header-pattern} is reported and ignored; a bad weight is reported and 0; a
     * bad total is reported and {@value CanaryRule#DEFAULT_WEIGHT_TOTAL}.
     */
    private static CanaryRule canaryRule(Reader r) {
        String header = r.matching(CANARY_BY_HEADER, CANARY_NAME, "the header is not used");
        String values = r.matching(CANARY_BY_HEADER_VALUE, CANARY_VALUES, "no header value selects the canary");
        com.google.re2j.Pattern pattern = null;
        String patternText = r.string(CANARY_BY_HEADER_PATTERN);
        if (patternText != null && !patternText.isEmpty()) {
            try {
                pattern = com.google.re2j.Pattern.compile(patternText);
            } catch (PatternSyntaxException e) {
                r.problems().accept(r.invalid(CANARY_BY_HEADER_PATTERN, patternText,
                        "not a valid re2j regex (" + e.getDescription() + "); the pattern is ignored"));
            }
        }
        String cookie = r.matching(CANARY_BY_COOKIE, CANARY_NAME, "the cookie is not used");
        int weight = r.integer(CANARY_WEIGHT, 0, 0);
        int total = r.integer(CANARY_WEIGHT_TOTAL, CanaryRule.DEFAULT_WEIGHT_TOTAL, 1);
        return new CanaryRule(header, splitHeaderValues(values), pattern, cookie, weight, total);
    }

    /**
     * Splits a {@code canary-by-header-value} annotation into its values: {@code "v1||v2"} →
     * {@code [v1, v2]}; empty parts are dropped, so a plain value yields a single-element list.
     */
    static List<String> splitHeaderValues(String annotation) {
        if (annotation == null || annotation.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int from = 0;
        while (from <= annotation.length()) {
            int sep = annotation.indexOf("||", from);
            int end = sep < 0 ? annotation.length() : sep;
            if (end > from) {
                out.add(annotation.substring(from, end));
            }
            if (sep < 0) {
                break;
            }
            from = sep + 2;
        }
        return List.copyOf(out);
    }

    /**
     * The balancing of the upstreams this Ingress creates (SPEC §6.2, §6.3). A canary Ingress
     * reads no affinity: its backend copies the mainline's (or none, with
     * {@code affinity-canary-behavior: legacy}).
     */
    private static BalancerSpec balancer(Reader r, boolean withAffinity) {
        String lb = r.string(LOAD_BALANCE);
        BalancerSpec.Algorithm algorithm = BalancerSpec.Algorithm.parse(lb);
        if (lb != null && !lb.equalsIgnoreCase("ewma") && !lb.equalsIgnoreCase("round_robin")) {
            r.problems().accept(r.invalid(LOAD_BALANCE, lb, "expected round_robin or ewma; using round_robin"));
        }
        BalancerSpec spec = BalancerSpec.of(algorithm);
        String hashBy = r.string(UPSTREAM_HASH_BY);
        if (hashBy != null && !hashBy.isBlank()) {
            boolean subset = r.bool(UPSTREAM_HASH_BY_SUBSET, false);
            int size = r.integer(UPSTREAM_HASH_BY_SUBSET_SIZE, ConsistentHashSubset.DEFAULT_SUBSET_SIZE, 1);
            try {
                spec = (subset ? BalancerSpec.hashBySubset(hashBy, size) : BalancerSpec.hashBy(hashBy))
                        .withAlgorithm(algorithm);
            } catch (IllegalArgumentException e) {
                r.problems().accept(r.invalid(UPSTREAM_HASH_BY, hashBy, e.getMessage() + "; not hashing"));
            }
        }
        if (!withAffinity) {
            return spec;
        }
        String affinity = r.string(AFFINITY);
        if (affinity == null || affinity.isEmpty()) {
            return spec;
        }
        if (!affinity.equals("cookie")) {
            r.problems().accept(r.invalid(AFFINITY, affinity, "only \"cookie\" is supported; no session affinity"));
            return spec;
        }
        AffinityConfig.Builder b = AffinityConfig.builder();
        String mode = r.string(AFFINITY_MODE);
        if (mode != null && !mode.equals("balanced") && !mode.equals("persistent")) {
            r.problems().accept(r.invalid(AFFINITY_MODE, mode, "expected balanced or persistent; using balanced"));
        } else {
            b.mode(AffinityConfig.Mode.parse(mode));
        }
        b.cookieName(r.matching(SESSION_COOKIE_NAME, COOKIE_NAME, "using " + AffinityConfig.DEFAULT_COOKIE_NAME));
        b.path(r.matching(SESSION_COOKIE_PATH, COOKIE_ATTRIBUTE, "using the location path"));
        b.domain(r.matching(SESSION_COOKIE_DOMAIN, COOKIE_ATTRIBUTE, "no Domain attribute"));
        b.expiresSeconds(r.seconds(SESSION_COOKIE_EXPIRES));
        b.maxAgeSeconds(r.seconds(SESSION_COOKIE_MAX_AGE));
        String sameSite = r.string(SESSION_COOKIE_SAMESITE);
        if (sameSite != null && !sameSite.isEmpty()) {
            AffinityConfig.SameSite ss = AffinityConfig.SameSite.parse(sameSite);
            if (ss == null) {
                r.problems().accept(r.invalid(SESSION_COOKIE_SAMESITE, sameSite,
                        "expected None, Lax or Strict; no SameSite attribute"));
            }
            b.sameSite(ss);
        }
        b.conditionalSameSiteNone(r.bool(SESSION_COOKIE_CONDITIONAL_SAMESITE_NONE, false));
        b.secure(r.bool(SESSION_COOKIE_SECURE, false));
        b.partitioned(r.bool(SESSION_COOKIE_PARTITIONED, false));
        b.changeOnFailure(r.bool(SESSION_COOKIE_CHANGE_ON_FAILURE, false));
        return spec.withAffinity(b.build());
    }

    /**
     * {@code mirror-target} with {@code mirror-host} and {@code mirror-request-body}, or {@code null}
     * (no mirroring). A target that is not a usable http(s) URL is reported and ignored.
     */
    private static MirrorTarget mirror(Reader r) {
        String target = r.string(MIRROR_TARGET);
        if (target == null || target.isBlank()) {
            return null;
        }
        boolean body = r.bool(MIRROR_REQUEST_BODY, true);
        try {
            return MirrorTarget.parse(target, r.string(MIRROR_HOST), body);
        } catch (IllegalArgumentException e) {
            r.problems().accept(r.invalid(MIRROR_TARGET, target, e.getMessage() + "; no mirroring"));
            return null;
        }
    }

    /** Typed access to the annotations under the prefix, reporting bad values. */
    private record Reader(String prefix, Map<String, String> values, Consumer<String> problems) {

        String string(AnnotationKey key) {
            return value(key);
        }

        /**
         * The value of {@code key}; a value holding a control character is reported and read as
         * absent (the default applies): it could only be a mistake or an attempt to split the
         * header, URL or log line it would end up in. The access-control annotations are not read
         * here: {@link AccessControl} denies their locations instead.
         */
        private String value(AnnotationKey key) {
            String v = values.get(key.suffix());
            if (v != null && hasControlCharacter(v)) {
                problems.accept(invalid(key, v, "control characters are not allowed; the default applies"));
                return null;
            }
            return v;
        }

        private static boolean hasControlCharacter(String v) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return true;
                }
            }
            return false;
        }

        /** The value when it matches {@code valid}; otherwise reported and {@code null}. */
        String matching(AnnotationKey key, Pattern valid, String consequence) {
            String v = value(key);
            if (v == null || v.isEmpty()) {
                return null;
            }
            if (!valid.matcher(v).matches()) {
                problems.accept(invalid(key, v, consequence));
                return null;
            }
            return v;
        }

        /** A decimal integer of at least {@code min}; otherwise reported and {@code fallback}. */
        int integer(AnnotationKey key, int fallback, int min) {
            String v = value(key);
            if (v == null) {
                return fallback;
            }
            Integer n = AnnotationValues.integer(v, min);
            if (n == null) {
                problems.accept(invalid(key, v, "expected an integer >= " + min + "; using " + fallback));
                return fallback;
            }
            return n;
        }

        /** Whole seconds ({@code session-cookie-expires}, {@code -max-age}); otherwise reported and {@code null}. */
        Long seconds(AnnotationKey key) {
            String v = value(key);
            if (v == null || v.isEmpty()) {
                return null;
            }
            try {
                long n = Long.parseLong(v.trim());
                if (n >= 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problems.accept(invalid(key, v, "expected whole seconds; attribute not set"));
            return null;
        }

        /** Go's {@code strconv.ParseBool}, as ingress-nginx uses. */
        boolean bool(AnnotationKey key, boolean fallback) {
            String v = value(key);
            if (v == null) {
                return fallback;
            }
            Boolean b = AnnotationValues.bool(v);
            if (b == null) {
                problems.accept(invalid(key, v, "expected true or false; using " + fallback));
                return fallback;
            }
            return b;
        }

        Duration duration(AnnotationKey key, Duration fallback) {
            String v = value(key);
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
        int tries(AnnotationKey key, int fallback) {
            String v = value(key);
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

        String invalid(AnnotationKey key, String value, String consequence) {
            return "invalid value \"" + AnnotationValues.quoted(value) + "\" for annotation " + prefix + key.suffix() + ": " + consequence;
        }
    }
}
