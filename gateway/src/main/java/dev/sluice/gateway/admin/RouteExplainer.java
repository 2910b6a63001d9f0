package dev.sluice.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.Authentication;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.access.RequestLimits;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.CanaryDecision;
import dev.sluice.gateway.balance.CanaryRule;
import dev.sluice.gateway.balance.Selection;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.request.HostNormalizer;
import dev.sluice.gateway.request.PathNormalizer;
import dev.sluice.gateway.request.SimpleRequestView;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.LocationRedirect;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RoutingDecision;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Explains how a {@link RouteTable} routes one request: which virtual host and location matched
 * and why every other location of the host did not, the canary decision and its reason, the
 * backend and its endpoints, and the access-control and redirect steps that apply. The decision
 * itself is the data plane's own ({@link RouteTable#decide}, {@link HostRoutes#match},
 * {@link PathMatcher#matches}); this class only reports it and says why.
 *
 * <p>Served on {@code /routes/explain?host=&path=&method=&header=Name:value&cookie=name=value}
 * (JSON, or text with {@code format=text}) and by {@code sluice explain}. JSON shape:
 *
 * <pre>{@code
 * { "request": { "host", "path", "normalizedPath", "method", "scheme", "headers": {..}, "cookies": {..} },
 *   "host": { "name": "shop.test" | "*.example.com" | "_", "how": "exact host" | "wildcard" | "catch-all: ...",
 *             "regexMode": false },
 *   "candidates": [ { "path", "match", "source", "result": "matched" | "shadowed" | "no match",
 *                     "reason", "problem" } ],            the host's locations in match order
 *   "otherHosts": [ { "host", "path", "source" } ],        locations elsewhere the path would match
 *   "location": { "path", "match", "source", "fallback": false } | null,
 *   "decision": { "action": "forward" | "respond", "status", "location", "reason" },
 *   "canary": { "decision": "HEADER_ALWAYS", "side": "canary", "reason", "backend", "weight", .. } | null,
 *   "backend": { "name", "service", "endpoints": [..], "problem" } | null,
 *   "access": [ "step", .. ], "redirects": [ "step", .. ], "upstreamUri" }
 * }</pre>
 */
public final class RouteExplainer {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private RouteExplainer() {}

    /**
     * One request to explain.
     *
     * @param host    the {@code Host} header (may be empty)
     * @param path    the request-target (path and query)
     * @param method  the method
     * @param scheme  {@code http} or {@code https}
     * @param headers extra headers, name to value
     * @param cookies cookies, name to value
     */
    public record Request(String host, String path, String method, String scheme, Map<String, String> headers,
            Map<String, String> cookies) {
        public Request {
            host = host == null ? "" : host;
            path = path == null || path.isEmpty() ? "/" : path;
            method = method == null || method.isEmpty() ? "GET" : method.toUpperCase(Locale.ROOT);
            scheme = scheme == null || scheme.isEmpty() ? "http" : scheme;
            headers = Map.copyOf(headers);
            cookies = Map.copyOf(cookies);
        }

        /** A request for a URL ({@code http://host/path?query}): host, path and scheme from it. */
        public static Request of(String url, String method, Map<String, String> headers, Map<String, String> cookies) {
            URI u = URI.create(url);
            if (u.getScheme() == null || u.getRawAuthority() == null) {
                throw new IllegalArgumentException("not an absolute http(s) URL: " + url);
            }
            String target = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
                    + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
            String host = headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("host"))
                    .map(Map.Entry::getValue).findFirst().orElse(u.getRawAuthority());
            return new Request(host, target, method, u.getScheme().toLowerCase(Locale.ROOT), headers, cookies);
        }
    }

    /** The explanation of {@code request} on {@code table}, as JSON. */
    public static ObjectNode explain(RouteTable table, Request request) {
        SimpleRequestView.Builder view = SimpleRequestView.builder().method(request.method())
                .requestUri(request.path()).https("https".equals(request.scheme()));
        request.headers().forEach(view::header);
        request.cookies().forEach(view::cookie);
        view.header("host", request.host());
        long length = -1;
        String cl = request.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("content-length"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
        if (cl != null) {
            try {
                length = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
        }
        view.contentLength(length);
        SimpleRequestView built = view.build();
        RoutingDecision decision = table.decide(request.host(), request.path(), request.scheme(), built);

        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode req = root.putObject("request");
        req.put("host", request.host());
        req.put("path", request.path());
        int q = request.path().indexOf('?');
        String normalized = PathNormalizer.normalize(q >= 0 ? request.path().substring(0, q) : request.path());
        req.put("normalizedPath", normalized);
        req.put("method", request.method());
        req.put("scheme", request.scheme());
        req.set("headers", MAPPER.valueToTree(new TreeMap<>(request.headers())));
        req.set("cookies", MAPPER.valueToTree(new TreeMap<>(request.cookies())));

        HostRoutes host = table.findHost(request.host());
        ObjectNode h = root.putObject("host");
        h.put("name", hostKey(table, host));
        h.put("how", hostHow(table, host, request.host()));
        h.put("regexMode", host.regexMode());

        Route matched = decision instanceof RoutingDecision.Forward f ? f.route()
                : ((RoutingDecision.Respond) decision).route();
        if (matched == null && normalized != null && host.match(normalized) instanceof HostRoutes.Matched m) {
            matched = m.route(); // answered before the location's own steps (www redirect, app-root)
        }
        ArrayNode candidates = root.putArray("candidates");
        if (normalized != null) {
            for (Route r : host.routes()) {
                candidates.add(candidate(r, matched, normalized, host));
            }
        }
        ArrayNode others = root.putArray("otherHosts");
        if (normalized != null) {
            otherHosts(table, host, normalized, others);
        }

        if (matched == null) {
            root.putNull("location");
        } else {
            ObjectNode loc = root.putObject("location");
            loc.put("path", matched.matcher().path());
            loc.put("match", kind(matched.matcher()));
            loc.put("source", matched.source());
            loc.put("fallback", matched == host.fallback());
            if (matched == host.fallback()) {
                loc.put("why", matched.split() == null
                        ? "no location of the host matches: the built-in default backend answers 404"
                        : "no location of the host matches: the default backend serves it");
            }
        }

        ObjectNode d = root.putObject("decision");
        if (decision instanceof RoutingDecision.Forward f) {
            d.put("action", "forward");
            d.putNull("status");
            d.putNull("location");
            d.put("reason", "proxied to " + f.backend().name());
            root.put("upstreamUri", f.upstreamUri());
        } else {
            RoutingDecision.Respond r = (RoutingDecision.Respond) decision;
            d.put("action", "respond");
            d.put("status", r.status());
            d.put("location", r.location());
            d.put("reason", r.reason());
            root.putNull("upstreamUri");
        }

        // the side a request was sent to, or for a 503 without endpoints the side that has none
        Selection selection = decision instanceof RoutingDecision.Forward f ? new Selection.Serve(f.upstream(), f.canary())
                : atSelection(matched, (RoutingDecision.Respond) decision) ? matched.split().select(built) : null;
        canary(root, matched, selection, decision);
        Backend backend = selection != null ? selection.upstream().backend()
                : matched == null || matched.split() == null ? null : matched.split().mainline().backend();
        if (backend == null) {
            root.putNull("backend");
        } else {
            ObjectNode b = root.putObject("backend");
            b.put("name", backend.name());
            b.put("service", backend.service());
            ArrayNode eps = b.putArray("endpoints");
            backend.endpoints().forEach(e -> eps.add(e.toString()));
            b.put("problem", backend.problem());
        }
        ArrayNode access = root.putArray("access");
        ArrayNode redirects = root.putArray("redirects");
        if (matched != null) {
            accessSteps(matched.options(), access);
        }
        redirectSteps(table, host, matched, request, redirects);
        return root;
    }

    private static ObjectNode candidate(Route r, Route matched, String path, HostRoutes host) {
        ObjectNode c = MAPPER.createObjectNode();
        c.put("path", r.matcher().path());
        c.put("match", kind(r.matcher()));
        c.put("source", r.source());
        boolean matches = r.matcher().matches(path);
        if (r == matched) {
            c.put("result", "matched");
            c.put("reason", matchedWhy(r, host));
        } else if (matches) {
            c.put("result", "shadowed");
            c.put("reason", matched == null ? "matches, but the request was answered before location selection"
                    : "matches too, but " + kind(matched.matcher()) + " " + matched.matcher().path()
                            + " comes first: " + order(host));
        } else {
            c.put("result", "no match");
            c.put("reason", noMatchWhy(r.matcher(), path));
        }
        Backend b = r.backend();
        c.put("problem", b == null ? null : b.problem());
        return c;
    }

    private static String order(HostRoutes host) {
        return host.regexMode()
                ? "Exact paths first, then regex mode's order (longer path strings first, equal lengths in reverse"
                        + " byte order), first match wins"
                : "Exact paths first, then the longest matching prefix";
    }

    private static String matchedWhy(Route r, HostRoutes host) {
        PathMatcher m = r.matcher();
        if (m instanceof PathMatcher.Exact) {
            return "Exact path equals the request path";
        }
        if (m instanceof PathMatcher.Regex) {
            return "first location in regex order whose case-insensitive regex ^(" + m.path()
                    + ") matches the start of the path";
        }
        return host.regexMode() ? "first location in regex order whose path matches the start of the path"
                : "longest Prefix path containing the request path element-wise";
    }

    private static String noMatchWhy(PathMatcher m, String path) {
        if (m instanceof PathMatcher.Exact) {
            return "Exact " + m.path() + " is not " + path;
        }
        if (m instanceof PathMatcher.Regex) {
            return "regex ^(" + m.path() + ") (case-insensitive) does not match the start of " + path;
        }
        return "Prefix " + m.path() + " does not contain " + path + " element-wise";
    }

    private static void otherHosts(RouteTable table, HostRoutes chosen, String path, ArrayNode out) {
        List<HostRoutes> all = new ArrayList<>();
        new TreeMap<>(table.hosts()).values().forEach(all::add);
        new TreeMap<>(table.wildcards()).values().forEach(all::add);
        all.add(table.catchAll());
        for (HostRoutes other : all) {
            if (other == chosen) {
                continue;
            }
            for (Route r : other.routes()) {
                if (r.matcher().matches(path)) {
                    ObjectNode o = out.addObject();
                    o.put("host", other.host().isEmpty() ? RoutesJson.CATCH_ALL : other.host());
                    o.put("path", r.matcher().path());
                    o.put("match", kind(r.matcher()));
                    o.put("source", r.source());
                    o.put("reason", "the path matches, but the request's host is served by "
                            + hostKey(table, chosen));
                }
            }
        }
    }

    /**
     * Whether a local answer came from the last step of {@link RouteTable#decide}, the side
     * selection (a 503 for a side without endpoints): every earlier step has a reason of its own.
     */
    private static boolean atSelection(Route matched, RoutingDecision.Respond r) {
        return matched != null && matched.split() != null && r.status() == 503
                && !"location denied".equals(r.reason());
    }

    private static void canary(ObjectNode root, Route matched, Selection selection, RoutingDecision decision) {
        TrafficSplit split = matched == null ? null : matched.split();
        if (split == null || !split.hasCanary()) {
            root.putNull("canary");
            return;
        }
        ObjectNode c = root.putObject("canary");
        c.put("backend", split.canary().backend().name());
        CanaryRule rule = split.rule();
        c.put("header", rule.header());
        c.put("cookie", rule.cookie());
        c.put("weight", rule.weight());
        c.put("weightTotal", rule.weightTotal());
        if (selection == null) {
            c.putNull("decision");
            c.putNull("side");
            c.put("reason", "not consulted: the request is answered before the canary rule ("
                    + ((RoutingDecision.Respond) decision).reason() + ")");
            return;
        }
        CanaryDecision d = selection.decision();
        c.put("decision", d.name());
        c.put("side", d.canary() ? "canary" : "mainline");
        c.put("reason", canaryWhy(d, rule, split));
    }

    private static String canaryWhy(CanaryDecision d, CanaryRule rule, TrafficSplit split) {
        return switch (d) {
            case NO_CANARY -> "no canary is attached";
            case CANARY_UNAVAILABLE -> "the canary " + split.canary().name() + " has no ready endpoints: mainline";
            case MAINLINE_AFFINITY -> "the request carries the mainline's session-affinity cookie";
            case CANARY_AFFINITY -> "the request carries a session-affinity cookie issued by the canary";
            case HEADER_VALUE -> "header " + rule.header() + " is one of canary-by-header-value " + rule.headerValues();
            case HEADER_PATTERN -> "header " + rule.header() + " matches canary-by-header-pattern "
                    + rule.headerPattern().pattern();
            case HEADER_ALWAYS -> "header " + rule.header() + ": always";
            case HEADER_NEVER -> "header " + rule.header() + ": never (cookie and weight not consulted)";
            case COOKIE_ALWAYS -> "cookie " + rule.cookie() + "=always";
            case COOKIE_NEVER -> "cookie " + rule.cookie() + "=never (weight not consulted)";
            case WEIGHT_CANARY, WEIGHT_MAINLINE -> weightWhy(rule, d);
        };
    }

    private static String weightWhy(CanaryRule rule, CanaryDecision d) {
        String nothing = (rule.header() == null && rule.cookie() == null) ? ""
                : "no canary header or cookie decided; ";
        if (rule.weight() <= 0) {
            return nothing + "canary-weight 0: mainline";
        }
        if (rule.weight() >= rule.weightTotal()) {
            return nothing + "canary-weight " + rule.weight() + " of " + rule.weightTotal() + ": every request to the canary";
        }
        return nothing + "weighted draw: " + rule.weight() + " of " + rule.weightTotal()
                + " requests go to the canary; this draw chose the " + (d.canary() ? "canary" : "mainline");
    }

    private static void accessSteps(RouteOptions o, ArrayNode out) {
        AccessPolicy policy = o.access();
        if (policy instanceof AccessPolicy.Denied denied) {
            out.add("location denied (503): " + denied.reason());
            return;
        }
        if (o.maxBodySize() > 0) {
            out.add("proxy-body-size: a Content-Length above " + o.maxBodySize() + " bytes answers 413");
        }
        if (o.cors() != null) {
            out.add("enable-cors: accepted origins get CORS headers; their OPTIONS preflight answers 204");
        }
        if (policy instanceof AccessPolicy.Guarded g) {
            RequestLimits l = g.limits();
            if (l != null) {
                if (l.connections() > 0) {
                    out.add("limit-connections: " + l.connections() + " per client address, then 503");
                }
                if (l.rps() != null) {
                    out.add("limit-rps: requests per second per client address, excess answers 503");
                }
                if (l.rpm() != null) {
                    out.add("limit-rpm: requests per minute per client address, excess answers 503");
                }
                if (l.bandwidth() != null) {
                    out.add("limit-rate: response bandwidth limited");
                }
            }
            if (g.deny() != null) {
                out.add("denylist-source-range " + g.deny() + ": matching clients get 403"
                        + (g.satisfyAny() && g.authentication() != null ? " unless they authenticate (satisfy any)" : ""));
            }
            if (g.allow() != null) {
                out.add("whitelist-source-range " + g.allow() + ": other clients get 403"
                        + (g.satisfyAny() ? " unless they authenticate (satisfy any)" : ""));
            }
            Authentication auth = g.authentication();
            if (auth instanceof ExternalAuth e) {
                out.add("auth-url " + e.url() + ": a 2xx lets the request through, 401/403 are returned");
            } else if (auth instanceof Authentication.Basic) {
                out.add("auth-type basic: without valid credentials 401");
            } else if (auth instanceof Authentication.Digest) {
                out.add("auth-type digest: without valid credentials 401");
            }
        }
    }

    private static void redirectSteps(RouteTable table, HostRoutes host, Route matched, Request request,
            ArrayNode out) {
        if (host.wwwRedirectTarget() != null) {
            out.add("from-to-www-redirect: every request goes to " + host.wwwRedirectTarget()
                    + " (" + table.settings().httpRedirectCode() + ")");
        }
        if (host.appRoot() != null) {
            out.add("app-root: / answers 302 to " + host.appRoot());
        }
        if (matched == null) {
            return;
        }
        RouteOptions o = matched.options();
        LocationRedirect fixed = o.redirect();
        if (fixed != null) {
            out.add("location redirect: " + fixed.status() + " to " + fixed.url());
        }
        if (o.rewrite() != null) {
            out.add("rewrite-target " + o.rewrite().target() + (o.rewrite().isRedirect() ? " (absolute URL: 302)" : ""));
        }
        if (o.forceSslRedirect()) {
            out.add("force-ssl-redirect: http requests answer " + table.settings().httpRedirectCode() + " to https");
        } else if (o.sslRedirect()) {
            boolean tls = table.tls().configured(HostNormalizer.normalize(request.host()));
            out.add("ssl-redirect: " + (tls ? "the host has TLS, so http requests answer "
                    + table.settings().httpRedirectCode() + " to https" : "no TLS for the host: no redirect"));
        }
    }

    private static String hostKey(RouteTable table, HostRoutes host) {
        if (host == table.catchAll()) {
            return RoutesJson.CATCH_ALL;
        }
        return host.host();
    }

    private static String hostHow(RouteTable table, HostRoutes host, String header) {
        if (host != table.catchAll()) {
            return host.host().startsWith("*.") ? "wildcard" : "exact host";
        }
        String n = HostNormalizer.normalize(header);
        return n.isEmpty() ? "catch-all: no Host" : "catch-all: no rule names " + n;
    }

    private static String kind(PathMatcher m) {
        if (m instanceof PathMatcher.Exact) {
            return "Exact";
        }
        return m instanceof PathMatcher.Regex ? "Regex" : "Prefix";
    }

    /** {@link #explain} as text for people. */
    public static String text(JsonNode e) {
        StringBuilder s = new StringBuilder();
        JsonNode req = e.get("request");
        s.append(req.get("method").asText()).append(' ').append(req.get("scheme").asText()).append("://")
                .append(req.get("host").asText()).append(req.get("path").asText()).append('\n');
        req.get("headers").fields().forEachRemaining(f -> s.append("  header ").append(f.getKey()).append(": ")
                .append(f.getValue().asText()).append('\n'));
        req.get("cookies").fields().forEachRemaining(f -> s.append("  cookie ").append(f.getKey()).append('=')
                .append(f.getValue().asText()).append('\n'));
        JsonNode h = e.get("host");
        s.append("\nhost:      ").append(h.get("name").asText()).append(" (").append(h.get("how").asText())
                .append(h.get("regexMode").asBoolean() ? ", regex mode" : "").append(")\n");
        JsonNode loc = e.get("location");
        if (loc != null && !loc.isNull()) {
            s.append("location:  ").append(loc.get("match").asText()).append(' ').append(loc.get("path").asText())
                    .append(" from ").append(loc.get("source").asText());
            if (loc.has("why")) {
                s.append(" — ").append(loc.get("why").asText());
            }
            s.append('\n');
        }
        JsonNode d = e.get("decision");
        s.append("decision:  ");
        if ("forward".equals(d.get("action").asText())) {
            s.append("forward to ").append(e.get("backend").get("name").asText()).append(" as ")
                    .append(e.get("upstreamUri").asText());
        } else {
            s.append("answer ").append(d.get("status").asInt()).append(" (").append(d.get("reason").asText()).append(')');
            if (!d.get("location").isNull()) {
                s.append(" Location: ").append(d.get("location").asText());
            }
        }
        s.append('\n');
        JsonNode c = e.get("canary");
        if (c != null && !c.isNull()) {
            s.append("canary:    ").append(c.get("backend").asText()).append(": ")
                    .append(c.get("side").isNull() ? "not consulted" : c.get("side").asText())
                    .append(" — ").append(c.get("reason").asText()).append('\n');
        }
        JsonNode b = e.get("backend");
        if (b != null && !b.isNull()) {
            s.append("backend:   ").append(b.get("name").asText());
            List<String> eps = new ArrayList<>();
            b.get("endpoints").forEach(ep -> eps.add(ep.asText()));
            s.append(eps.isEmpty() ? " (no ready endpoints)" : " " + String.join(", ", eps));
            if (!b.get("problem").isNull()) {
                s.append(" — problem: ").append(b.get("problem").asText());
            }
            s.append('\n');
        }
        list(s, "access:", e.get("access"));
        list(s, "redirects:", e.get("redirects"));
        s.append("\ncandidates (match order):\n");
        for (JsonNode cand : e.get("candidates")) {
            s.append(Objects.equals(cand.get("result").asText(), "matched") ? "  * " : "  - ")
                    .append(cand.get("match").asText()).append(' ').append(cand.get("path").asText())
                    .append(" (").append(cand.get("source").asText()).append("): ").append(cand.get("result").asText())
                    .append(" — ").append(cand.get("reason").asText());
            if (!cand.get("problem").isNull()) {
                s.append("; problem: ").append(cand.get("problem").asText());
            }
            s.append('\n');
        }
        for (JsonNode o : e.get("otherHosts")) {
            s.append("  - host ").append(o.get("host").asText()).append(' ').append(o.get("match").asText()).append(' ')
                    .append(o.get("path").asText()).append(" (").append(o.get("source").asText()).append("): ")
                    .append(o.get("reason").asText()).append('\n');
        }
        JsonNode ignored = e.get("ignored");
        if (ignored != null) {
            for (JsonNode i : ignored) {
                s.append("  - ").append(i.asText()).append('\n');
            }
        }
        JsonNode problems = e.get("problems");
        if (problems != null && problems.size() > 0) {
            s.append("\nproblems:\n");
            problems.forEach(p -> s.append("  ").append(p.asText()).append('\n'));
        }
        return s.toString();
    }

    private static void list(StringBuilder s, String title, JsonNode items) {
        if (items == null || items.isEmpty()) {
            return;
        }
        s.append(String.format(Locale.ROOT, "%-11s", title));
        boolean first = true;
        for (JsonNode i : items) {
            if (!first) {
                s.append("           ");
            }
            s.append(i.asText()).append('\n');
            first = false;
        }
    }

    /** {@link #explain} pretty-printed. */
    public static String json(JsonNode e) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(e) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new IllegalStateException("cannot serialise a JSON tree", x);
        }
    }
}
