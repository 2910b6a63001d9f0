package dev.sluice.gateway.route;

import dev.sluice.gateway.request.PathNormalizer;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.balance.Selection;
import dev.sluice.gateway.request.HostNormalizer;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.stream.StreamTable;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The complete, immutable routing state of the data plane: virtual hosts and their locations.
 * Built by the controller from Kubernetes objects, published atomically through
 * {@link RouteTableHolder}, and read once per request.
 *
 * <p>Host lookup, as ingress-nginx's server selection: the {@code Host} header is lower-cased and
 * its port and trailing dot are dropped; an exact host wins; then a wildcard {@code *.example.com}
 * whose {@code *} stands for exactly one label of {@code [A-Za-z0-9_-]} ({@code a.example.com}
 * matches, {@code a.b.example.com} and {@code example.com} do not); anything else goes to the
 * catch-all. A named host never falls back to the catch-all's paths.
 *
 * @param hosts     exact hosts, keyed by lower-case name
 * @param wildcards wildcard hosts, keyed by the suffix after {@code *.} (lower-case)
 * @param catchAll  host-less rules and unknown hosts
 * @param tls       server certificates by SNI name, published together with the routes
 * @param streams   the TCP and UDP ports relayed besides HTTP, published together with the routes so
 *                  their listeners open and close with the table that names them
 * @param settings  the proxy-wide settings of the global ConfigMap, published with the routes so a
 *                  ConfigMap change applies from the next request on
 * @param compression how responses are compressed (ConfigMap {@code use-gzip}, {@code enable-brotli}, …);
 *                  {@link CompressionPolicy#OFF} unless set
 */
public record RouteTable(Map<String, HostRoutes> hosts, Map<String, HostRoutes> wildcards, HostRoutes catchAll,
        TlsCertificates tls, StreamTable streams, ProxySettings settings, CompressionPolicy compression) {

    /**
     * Locations whose path starts with this are never redirected to HTTPS (ingress-nginx's
     * ConfigMap {@code no-tls-redirect-locations} default), so ACME HTTP-01 challenges work.
     */
    public static final String NO_TLS_REDIRECT_LOCATION = "/.well-known/acme-challenge";

    /** A table with no routes: everything answers 404. */
    public static final RouteTable EMPTY =
            new RouteTable(Map.of(), Map.of(), HostRoutes.of("", java.util.List.of(), false, Route.notFound(), null));

    public RouteTable {
        hosts = Map.copyOf(hosts);
        wildcards = Map.copyOf(wildcards);
        Objects.requireNonNull(catchAll, "catchAll");
        tls = tls == null ? TlsCertificates.EMPTY : tls;
        streams = streams == null ? StreamTable.EMPTY : streams;
        settings = settings == null ? ProxySettings.DEFAULTS : settings;
        compression = compression == null ? CompressionPolicy.OFF : compression;
    }

    /** A table with ingress-nginx's default proxy settings and no response compression. */
    public RouteTable(Map<String, HostRoutes> hosts, Map<String, HostRoutes> wildcards, HostRoutes catchAll,
            TlsCertificates tls, StreamTable streams) {
        this(hosts, wildcards, catchAll, tls, streams, ProxySettings.DEFAULTS, CompressionPolicy.OFF);
    }

    /** A table without stream services. */
    public RouteTable(Map<String, HostRoutes> hosts, Map<String, HostRoutes> wildcards, HostRoutes catchAll,
            TlsCertificates tls) {
        this(hosts, wildcards, catchAll, tls, StreamTable.EMPTY);
    }

    /** A table without certificates of its own (every TLS connection gets the default certificate). */
    public RouteTable(Map<String, HostRoutes> hosts, Map<String, HostRoutes> wildcards, HostRoutes catchAll) {
        this(hosts, wildcards, catchAll, TlsCertificates.EMPTY);
    }

    /** This table with {@code certificates} instead of its own. */
    public RouteTable withTls(TlsCertificates certificates) {
        return new RouteTable(hosts, wildcards, catchAll, certificates, streams, settings, compression);
    }

    /** This table with {@code services} as its stream ports. */
    public RouteTable withStreams(StreamTable services) {
        return new RouteTable(hosts, wildcards, catchAll, tls, services, settings, compression);
    }

    /** This table with {@code policy} as its response compression. */
    public RouteTable withCompression(CompressionPolicy policy) {
        return new RouteTable(hosts, wildcards, catchAll, tls, streams, settings, policy);
    }

    /** This table with {@code proxySettings} (the global ConfigMap's). */
    public RouteTable withSettings(ProxySettings proxySettings) {
        return new RouteTable(hosts, wildcards, catchAll, tls, streams, proxySettings, compression);
    }

    /**
     * This table with every upstream {@code u} at {@code where} — of locations, fallbacks and error
     * pages — and of SSL passthrough hosts replaced by {@code replace.apply(u)}, for a table that
     * differs from this one only in some upstreams' endpoints. {@code where} must hold every place
     * of a replaced upstream (e.g. the {@link #placesByBackend places} of the backends replaced):
     * only those hosts are visited. Hosts without a replaced upstream are this table's own
     * instances, so the new table costs in proportion to what was replaced (plus one copy of the
     * host maps) and compares equal to this one's unchanged parts at once; this very table when no
     * upstream was replaced.
     */
    public RouteTable withUpstreams(Places where, java.util.function.UnaryOperator<Upstream> replace) {
        Map<String, HostRoutes> h = replaceValues(hosts, where.hosts(), replace);
        Map<String, HostRoutes> w = replaceValues(wildcards, where.wildcards(), replace);
        HostRoutes c = where.catchAll() ? catchAll.withUpstreams(replace) : catchAll;
        TlsCertificates t = tls.withUpstreams(replace);
        return h == hosts && w == wildcards && c == catchAll && t == tls ? this
                : new RouteTable(h, w, c, t, streams, settings, compression);
    }

    private static Map<String, HostRoutes> replaceValues(Map<String, HostRoutes> hosts, java.util.Set<String> keys,
            java.util.function.UnaryOperator<Upstream> replace) {
        java.util.Map<String, HostRoutes> out = null;
        for (String key : keys) {
            HostRoutes old = hosts.get(key);
            HostRoutes h = old == null ? null : old.withUpstreams(replace);
            if (h != old) {
                if (out == null) {
                    out = new java.util.HashMap<>(hosts);
                }
                out.put(key, h);
            }
        }
        return out == null ? hosts : out;
    }

    /**
     * Hosts of a table, by kind: exact host keys, wildcard keys (as in {@link #wildcards()}), and
     * whether the catch-all is one of them.
     */
    public record Places(java.util.Set<String> hosts, java.util.Set<String> wildcards, boolean catchAll) {
        public Places {
            hosts = java.util.Set.copyOf(hosts);
            wildcards = java.util.Set.copyOf(wildcards);
        }

        /** The hosts of all of {@code places}. */
        public static Places union(Iterable<Places> places) {
            java.util.Set<String> h = new java.util.HashSet<>();
            java.util.Set<String> w = new java.util.HashSet<>();
            boolean c = false;
            for (Places p : places) {
                h.addAll(p.hosts);
                w.addAll(p.wildcards);
                c |= p.catchAll;
            }
            return new Places(h, w, c);
        }
    }

    /**
     * Where each backend (by name) has an upstream in this table — a location's mainline or
     * canary, a fallback, error pages — for {@link #withUpstreams(Places, java.util.function.UnaryOperator)}.
     * One walk of the table; SSL passthrough upstreams are not listed (always visited).
     */
    public Map<String, Places> placesByBackend() {
        Map<String, java.util.Set<String>> inHosts = new java.util.HashMap<>();
        Map<String, java.util.Set<String>> inWildcards = new java.util.HashMap<>();
        java.util.Set<String> inCatchAll = new java.util.HashSet<>();
        hosts.forEach((key, h) -> h.forEachUpstream(u -> inHosts.computeIfAbsent(u.name(),
                n -> new java.util.HashSet<>()).add(key)));
        wildcards.forEach((key, h) -> h.forEachUpstream(u -> inWildcards.computeIfAbsent(u.name(),
                n -> new java.util.HashSet<>()).add(key)));
        catchAll.forEachUpstream(u -> inCatchAll.add(u.name()));
        java.util.Set<String> names = new java.util.HashSet<>(inHosts.keySet());
        names.addAll(inWildcards.keySet());
        names.addAll(inCatchAll);
        Map<String, Places> out = new java.util.HashMap<>();
        for (String n : names) {
            out.put(n, new Places(inHosts.getOrDefault(n, java.util.Set.of()),
                    inWildcards.getOrDefault(n, java.util.Set.of()), inCatchAll.contains(n)));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Calls {@code action} with every upstream of every location (mainline and canary sides). */
    public void forEachUpstream(java.util.function.Consumer<Upstream> action) {
        java.util.List<HostRoutes> all = new java.util.ArrayList<>(hosts.values());
        all.addAll(wildcards.values());
        all.add(catchAll);
        for (HostRoutes h : all) {
            for (Route r : h.routes()) {
                splitUpstreams(r, action);
            }
            splitUpstreams(h.fallback(), action);
        }
    }

    private static void splitUpstreams(Route r, java.util.function.Consumer<Upstream> action) {
        if (r.split() != null) {
            r.split().forEachUpstream(action);
        }
    }

    /** The virtual host serving a {@code Host} header value (which may be {@code null}). */
    public HostRoutes findHost(String hostHeader) {
        String host = HostNormalizer.normalize(hostHeader);
        if (host.isEmpty()) {
            return catchAll;
        }
        HostRoutes h = hosts.get(host);
        if (h != null) {
            return h;
        }
        if (!wildcards.isEmpty()) {
            int dot = host.indexOf('.');
            if (dot > 0 && isLabel(host, dot)) {
                h = wildcards.get(host.substring(dot + 1));
                if (h != null) {
                    return h;
                }
            }
        }
        return catchAll;
    }

    /**
     * Decides what to do with a request.
     *
     * @param hostHeader the {@code Host} header, verbatim (may be {@code null})
     * @param rawUri     the request-target as received (origin form; absolute form is accepted)
     * @param scheme     {@code http} or {@code https} ({@code X-Forwarded-Proto} when
     *                   {@code use-forwarded-headers} trusts it), for the HTTPS redirect and
     *                   redirect locations
     */
    public RoutingDecision decide(String hostHeader, String rawUri, String scheme) {
        return decide(hostHeader, rawUri, scheme, SimpleRequestView.empty());
    }

    /**
     * Decides what to do with a request, including the canary split of the matched location
     * (SPEC §5.3): the side is chosen here, once per request, and the proxy keeps it for every
     * retry. The mainline's lack of endpoints does not stop a request routed to the canary
     * (Sluice's decision, ingress-nginx #9635); the chosen side without endpoints answers 503.
     *
     * <p>Order, as ingress-nginx's request phases (SPEC §0.1): the {@code from-to-www-redirect}
     * server (308, every request); {@code app-root} (server level);
     * location selection (NGINX's trailing-slash 301); a {@code Content-Length} above the location's
     * {@code proxy-body-size} (413); a location whose access control cannot be honoured
     * ({@link AccessPolicy.Denied}: 503); an accepted CORS preflight ({@code OPTIONS}
     * with an origin the location's {@code enable-cors} accepts: 204); {@code permanent-redirect} /
     * {@code temporal-redirect} (the location's fixed redirect); a {@code rewrite-target} to an absolute URL
     * (302); the HTTPS redirect (308, {@code ssl-redirect}/{@code force-ssl-redirect}, before any
     * backend is looked at, so it also answers for a location without endpoints or a built-in
     * 404); then the backend and canary selection. The access checks of a
     * {@link AccessPolicy.Guarded} location (limits, source lists, authentication) come after this
     * decision, in the proxy.
     *
     * @param request the headers, cookies and client address the canary rule and the balancers
     *                read
     */
    public RoutingDecision decide(String hostHeader, String rawUri, String scheme, RequestView request) {
        return decide(hostHeader, rawUri, scheme, request, ThreadLocalRandom.current());
    }

    /**
     * {@link #decide(String, String, String, RequestView)} with the source of the canary weight
     * draw (the proxy's is {@link ThreadLocalRandom}; tests pass a seeded or fixed one).
     */
    public RoutingDecision decide(String hostHeader, String rawUri, String scheme, RequestView request,
            RandomGenerator canaryDraw) {
        if (rawUri.startsWith("http://") || rawUri.startsWith("https://")) {
            int start = rawUri.indexOf("//") + 2;
            int slash = rawUri.indexOf('/', start);
            int q = rawUri.indexOf('?', start);
            if (hostHeader == null || hostHeader.isEmpty()) {
                int end = slash >= 0 ? slash : (q >= 0 ? q : rawUri.length());
                hostHeader = rawUri.substring(start, end);
            }
            rawUri = slash >= 0 ? rawUri.substring(slash) : "/" + (q >= 0 ? rawUri.substring(q) : "");
        }
        int q = rawUri.indexOf('?');
        String rawPath = q >= 0 ? rawUri.substring(0, q) : rawUri;
        String query = q >= 0 ? rawUri.substring(q) : "";
        int hash = rawPath.indexOf('#');
        if (hash >= 0) {
            rawPath = rawPath.substring(0, hash);
        }
        String path = PathNormalizer.normalize(rawPath);
        if (path == null) {
            return new RoutingDecision.Respond(400, null, "bad request path");
        }
        HostRoutes host = findHost(hostHeader);
        if (host.wwwRedirectTarget() != null) {
            return new RoutingDecision.Respond(settings.httpRedirectCode(),
                    wwwLocation(scheme, host.wwwRedirectTarget(), rawUri), "from-to-www redirect");
        }
        String authority = hostHeader == null ? "" : hostHeader;
        if (host.appRoot() != null && path.equals("/")) {
            return new RoutingDecision.Respond(302, scheme + "://" + authority + host.appRoot(), "app-root");
        }
        Route route;
        HostRoutes.Match match = host.match(path);
        if (match instanceof HostRoutes.SlashRedirect s) {
            return new RoutingDecision.Respond(301, scheme + "://" + authority + PathNormalizer.escape(s.path()) + query,
                    "trailing slash");
        }
        route = ((HostRoutes.Matched) match).route();
        long maxBody = route.options().maxBodySize();
        if (maxBody > 0 && request.contentLength() > maxBody) {
            return new RoutingDecision.Respond(413, null, "request body too large", null, null, route);
        }
        if (route.options().access() instanceof AccessPolicy.Denied) {
            // ingress-nginx's "location denied": access control it cannot honour never serves
            return new RoutingDecision.Respond(503, null, "location denied", null, null, route);
        }
        CorsPolicy cors = route.options().cors();
        String corsOrigin = cors == null ? null : cors.allowOrigin(request.header("origin"));
        if (corsOrigin == null) {
            cors = null;
        } else if ("OPTIONS".equals(request.method())) {
            return new RoutingDecision.Respond(204, null, "cors preflight", cors, corsOrigin, route);
        }
        LocationRedirect fixed = route.options().redirect();
        if (fixed != null) {
            return new RoutingDecision.Respond(fixed.status(), fixed.url(), "location redirect", cors, corsOrigin, route);
        }
        TrafficSplit split = route.split();
        String upstreamUri = rawUri;
        String forwardedPrefix = null;
        Rewrite rewrite = split == null ? null : route.options().rewrite();
        if (rewrite != null) {
            String rewritten = rewrite.apply(path);
            if (rewritten != null) {
                if (rewrite.isRedirect()) {
                    return new RoutingDecision.Respond(302, rewritten + query, "rewrite-target redirect", cors,
                            corsOrigin, route);
                }
                upstreamUri = PathNormalizer.escape(rewritten) + query;
                forwardedPrefix = route.options().xForwardedPrefix();
            }
        }
        if ("http".equals(scheme) && redirectsToHttps(route, hostHeader)) {
            return new RoutingDecision.Respond(settings.httpRedirectCode(),
                    httpsLocation(authority, rawUri, route.options().preserveTrailingSlash()), "https redirect", cors,
                    corsOrigin, route);
        }
        if (split == null) {
            return new RoutingDecision.Respond(404, null, "no route", cors, corsOrigin, route);
        }
        Selection sel = split.select(request, canaryDraw);
        if (sel instanceof Selection.Unavailable u) {
            return new RoutingDecision.Respond(u.status(), null, u.reason(), cors, corsOrigin, route);
        }
        return new RoutingDecision.Forward(host, route, sel.upstream(), sel.decision(), upstreamUri, forwardedPrefix,
                corsOrigin);
    }

    /**
     * ingress-nginx's {@code redirect_to_https} (SPEC §7, §10.3): the location is not exempt (its
     * path does not start with {@value #NO_TLS_REDIRECT_LOCATION}), and either
     * {@code force-ssl-redirect} is on, or {@code ssl-redirect} is on and the request's host has TLS
     * configured (exactly or through a wildcard TLS host, even one of another Ingress).
     */
    private boolean redirectsToHttps(Route route, String hostHeader) {
        RouteOptions o = route.options();
        if (!o.forceSslRedirect() && !o.sslRedirect()) {
            return false;
        }
        if (route.matcher().path().startsWith(NO_TLS_REDIRECT_LOCATION)) {
            return false;
        }
        return o.forceSslRedirect() || tls.configured(HostNormalizer.normalize(hostHeader));
    }

    /**
     * {@code https://<Host header without port><request URI>}: the request URI (path and query, as
     * received) loses one trailing {@code /} unless {@code preserve-trailing-slash}, so
     * {@code GET /} goes to {@code https://host}. No port: {@code use-port-in-redirects} is off.
     */
    static String httpsLocation(String hostHeader, String requestUri, boolean preserveTrailingSlash) {
        String host = hostHeader.trim();
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.indexOf(':');
            host = colon >= 0 ? host.substring(0, colon) : host;
        }
        String uri = !preserveTrailingSlash && requestUri.endsWith("/")
                ? requestUri.substring(0, requestUri.length() - 1) : requestUri;
        return "https://" + host + uri;
    }

    /**
     * ingress-nginx's from-to-www redirect target {@code $scheme://<target>:$server_port<request_uri>}
     * with one trailing {@code /} stripped: {@code GET /foo/} for {@code www.example.com} over http
     * → {@code http://example.com:80/foo}, {@code GET /} over https → {@code https://example.com:443}.
     * The port is the one clients use with ingress-nginx's Service (80/443), not Sluice's listener.
     */
    static String wwwLocation(String scheme, String target, String requestUri) {
        String uri = requestUri.endsWith("/") ? requestUri.substring(0, requestUri.length() - 1) : requestUri;
        return scheme + "://" + target + ("https".equals(scheme) ? ":443" : ":80") + uri;
    }

    private static boolean isLabel(String host, int end) {
        for (int i = 0; i < end; i++) {
            char c = host.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }
}
