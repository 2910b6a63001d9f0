package dev.sluice.gateway.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.Authentication;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.access.RequestLimits;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.CanaryRule;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.CompressionPolicy;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.stream.StreamService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON view of a {@link RouteTable} served on {@code /routes}. The model classes are not
 * Jackson beans, so the mapping is written out here and is the documented shape:
 *
 * <pre>{@code
 * {
 *   "generation": 3,
 *   "hosts": {
 *     "shop.example.com": { ...host... },      exact hosts, sorted by name
 *     "*.example.com":    { ...host... },      wildcard hosts, sorted by suffix
 *     "_":                { ...host... }       the catch-all (host-less rules, unknown hosts)
 *   },
 *   "streams": [ stream... ]                      TCP and UDP ports, by protocol then port
 * }
 * stream = { "protocol": "TCP" | "UDP", "port": 9000, "backend": "default-echo-9000",
 *            "endpoints": ["10.1.0.7:9000", ...], "proxyProtocolIn": false, "proxyProtocolOut": false,
 *            "source": "ingress-nginx/tcp-services 9000" }
 * host  = { "regexMode": false, "appRoot": null, "tls": "default/shop-tls" | "default" | null,
 *           "routes": [ route... ] (match order), "fallback": route }
 *           ("tls": the host's certificate Secret; "default": TLS configured, default certificate;
 *           null: no TLS of its own)
 * route = { "path": "/user", "match": "Prefix" | "Exact" | "Regex", "source": "default/web",
 *           "rewriteTarget": "/" | null, "sslRedirect": true, "forceSslRedirect": false,
 *           "backend": "default-user-service-v1-80" | null,
 *           "endpoints": ["10.1.0.7:80", ...], "problem": "..." | null,
 *           "balancer": "RoundRobin" | ..., "canary": canary | null, "access": access | null,
 *           "proxy": { "connectTimeoutMs": 5000, "sendTimeoutMs": 60000, "readTimeoutMs": 60000,
 *                      "nextUpstreamTries": 3, "bodySizeLimit": 1048576, "backendProtocol": "HTTP", ... } }
 * access = { "denied": "reason" } (answers 503) | { "deny": "10.1.0.0/16" | null, "allow": "10.0.0.0/8" | null,
 *            "satisfy": "all" | "any", "auth": "basic" | "digest" | "external" | null,
 *            "authUrl": "..." (external), "limits": { "connections": 0, "rps": true, "rpm": false,
 *            "rate": true } | null }
 * canary = { "backend": "default-user-service-v2-80", "endpoints": [...], "problem": ... | null,
 *            "header": "x-canary" | null, "headerValues": [...], "headerPattern": "..." | null,
 *            "cookie": "canary" | null, "weight": 20, "weightTotal": 100,
 *            "affinityCanaryBehavior": "STICKY" | "LEGACY" }
 * }</pre>
 *
 * A {@code null} backend is the built-in 404 default backend (source {@code <default>}); a
 * backend with no endpoints answers 503 and usually carries a {@code problem}.
 */
public final class RoutesJson {
    /** Host key of the catch-all server, as ingress-nginx names it. */
    public static final String CATCH_ALL = "_";

    /**
     * Builds the trees. Not an {@code ObjectMapper}: creating one is about a tenth of a second of
     * CPU in a fresh JVM, and the controller renders a table (for its hash) on the way to ready.
     */
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonFactory COMPACT = new JsonFactory();

    private RoutesJson() {}

    /** The pretty printer of {@link #renderText}, created on the first request for it. */
    private static final class Text {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** The view of {@code table}, published as generation {@code generation}. */
    public static ObjectNode render(RouteTable table, long generation) {
        return render(table, generation, true);
    }

    /**
     * {@link #render(RouteTable, long)} without the endpoint addresses (the {@code endpoints}
     * arrays are left out): what the controller hashes for {@code config_hash}, which, as in
     * ingress-nginx, does not change when only endpoints do.
     */
    public static ObjectNode renderWithoutEndpoints(RouteTable table) {
        return render(table, 0, false);
    }

    private static ObjectNode render(RouteTable table, long generation, boolean withEndpoints) {
        ObjectNode root = NODES.objectNode();
        root.put("generation", generation);
        CompressionPolicy compression = table.compression();
        root.putObject("compression").put("gzip", compression.gzip()).put("brotli", compression.brotli());
        ObjectNode hosts = root.putObject("hosts");
        for (Map.Entry<String, HostRoutes> e : new TreeMap<>(table.hosts()).entrySet()) {
            hosts.set(e.getKey(), host(e.getValue(), tls(table, e.getKey()), withEndpoints));
        }
        for (Map.Entry<String, HostRoutes> e : new TreeMap<>(table.wildcards()).entrySet()) {
            hosts.set("*." + e.getKey(), host(e.getValue(), tls(table, "*." + e.getKey()), withEndpoints));
        }
        hosts.set(CATCH_ALL, host(table.catchAll(), null, withEndpoints));
        ArrayNode streams = root.putArray("streams");
        for (StreamService s : table.streams().services()) {
            ObjectNode n = streams.addObject();
            n.put("protocol", s.protocol().name());
            n.put("port", s.port());
            n.put("backend", s.backend());
            if (withEndpoints) {
                ArrayNode eps = n.putArray("endpoints");
                s.endpoints().forEach(e -> eps.add(e.toString()));
            }
            n.put("proxyProtocolIn", s.proxyProtocolIn());
            n.put("proxyProtocolOut", s.proxyProtocolOut());
            n.put("source", s.source());
        }
        return root;
    }

    /**
     * {@code tree} as compact JSON in UTF-8, byte for byte what {@code ObjectMapper.writeValueAsBytes}
     * writes for it (fields in insertion order, no white space), without an {@code ObjectMapper}.
     */
    public static byte[] compactJson(JsonNode tree) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = COMPACT.createGenerator(out)) {
            write(tree, g);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to memory", e); // cannot happen
        }
        return out.toByteArray();
    }

    private static void write(JsonNode node, JsonGenerator g) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> field : node.properties()) {
                    g.writeFieldName(field.getKey());
                    write(field.getValue(), g);
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode element : node) {
                    write(element, g);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(node.textValue());
            case BOOLEAN -> g.writeBoolean(node.booleanValue());
            case NULL -> g.writeNull();
            case NUMBER -> {
                switch (node.numberType()) {
                    case INT -> g.writeNumber(node.intValue());
                    case LONG -> g.writeNumber(node.longValue());
                    case BIG_INTEGER -> g.writeNumber(node.bigIntegerValue());
                    case FLOAT -> g.writeNumber(node.floatValue());
                    case DOUBLE -> g.writeNumber(node.doubleValue());
                    case BIG_DECIMAL -> g.writeNumber(node.decimalValue());
                }
            }
            case BINARY -> g.writeBinary(node.binaryValue());
            default -> throw new IllegalArgumentException("cannot write a " + node.getNodeType() + " node");
        }
    }

    /** {@link #render} as pretty-printed text (people read it with curl). */
    public static String renderText(RouteTable table, long generation) {
        try {
            return Text.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(render(table, generation)) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e); // cannot happen
        }
    }

    /** The certificate Secret of a host key, {@code "default"}, or {@code null} (no TLS entry). */
    private static String tls(RouteTable table, String key) {
        TlsCertificate c = table.tls().byHost().get(key);
        if (c != null) {
            return c.secret();
        }
        return table.tls().defaultHosts().contains(key) ? "default" : null;
    }

    private static JsonNode host(HostRoutes h, String tls, boolean withEndpoints) {
        ObjectNode node = NODES.objectNode();
        node.put("regexMode", h.regexMode());
        node.put("appRoot", h.appRoot());
        if (h.wwwRedirectTarget() != null) {
            node.put("wwwRedirectTarget", h.wwwRedirectTarget());
        }
        node.put("tls", tls);
        ArrayNode routes = node.putArray("routes");
        for (Route r : h.routes()) {
            routes.add(route(r, withEndpoints));
        }
        node.set("fallback", route(h.fallback(), withEndpoints));
        return node;
    }

    private static void access(ObjectNode node, AccessPolicy policy) {
        if (policy instanceof AccessPolicy.Denied d) {
            node.putObject("access").put("denied", d.reason());
        } else if (policy instanceof AccessPolicy.Guarded g) {
            ObjectNode a = node.putObject("access");
            a.put("deny", g.deny() == null ? null : g.deny().toString());
            a.put("allow", g.allow() == null ? null : g.allow().toString());
            a.put("satisfy", g.satisfyAny() ? "any" : "all");
            Authentication auth = g.authentication();
            a.put("auth", auth == null ? null : auth instanceof Authentication.Basic ? "basic"
                    : auth instanceof Authentication.Digest ? "digest" : "external");
            if (auth instanceof ExternalAuth e) {
                a.put("authUrl", e.url().toString());
            }
            RequestLimits l = g.limits();
            if (l == null) {
                a.putNull("limits");
            } else {
                a.putObject("limits").put("connections", l.connections()).put("rps", l.rps() != null)
                        .put("rpm", l.rpm() != null).put("rate", l.bandwidth() != null);
            }
        } else {
            node.putNull("access");
        }
    }

    private static JsonNode route(Route r, boolean withEndpoints) {
        ObjectNode node = NODES.objectNode();
        node.put("path", r.matcher().path());
        node.put("match", matchKind(r.matcher()));
        node.put("source", r.source());
        node.put("rewriteTarget", r.options().rewrite() == null ? null : r.options().rewrite().target());
        node.put("sslRedirect", r.options().sslRedirect());
        node.put("forceSslRedirect", r.options().forceSslRedirect());
        MirrorTarget mirror = r.options().mirror();
        if (mirror != null) {
            node.put("mirror", (mirror.https() ? "https://" : "http://") + mirror.endpoint() + mirror.uriTemplate());
        }
        backend(node, r.backend(), withEndpoints);
        access(node, r.options().access());
        responseOptions(node, r.options());
        proxyOptions(node, r.options());
        TrafficSplit split = r.split();
        node.put("balancer", split == null ? null : split.mainline().spec().kind().toString());
        if (split == null || !split.hasCanary()) {
            node.putNull("canary");
            return node;
        }
        ObjectNode canary = node.putObject("canary");
        backend(canary, split.canary().backend(), withEndpoints);
        CanaryRule rule = split.rule();
        canary.put("header", rule.header());
        ArrayNode values = canary.putArray("headerValues");
        rule.headerValues().forEach(values::add);
        canary.put("headerPattern", rule.headerPattern() == null ? null : rule.headerPattern().pattern());
        canary.put("cookie", rule.cookie());
        canary.put("weight", rule.weight());
        canary.put("weightTotal", rule.weightTotal());
        canary.put("affinityCanaryBehavior", split.affinityCanaryBehavior().toString());
        return node;
    }

    /** {@code custom-http-errors} / {@code default-backend} and the header rewrites, when the location has them. */
    /**
     * The location's proxy settings, so that {@code /routes} shows them and {@code config_hash}
     * changes with them (an annotation change is a reload in ingress-nginx). Never a key or a CA.
     */
    private static void proxyOptions(ObjectNode node, dev.sluice.gateway.route.RouteOptions o) {
        ObjectNode p = node.putObject("proxy");
        p.put("connectTimeoutMs", o.connectTimeout().toMillis());
        p.put("sendTimeoutMs", o.sendTimeout().toMillis());
        p.put("readTimeoutMs", o.readTimeout().toMillis());
        p.put("nextUpstreamTries", o.nextUpstreamTries());
        p.put("bodySizeLimit", o.maxBodySize());
        p.put("backendProtocol", o.backendProtocol().name());
        p.put("preserveTrailingSlash", o.preserveTrailingSlash());
        p.put("xForwardedPrefix", o.xForwardedPrefix());
        p.put("redirect", o.redirect() == null ? null : o.redirect().status() + " " + o.redirect().url());
        p.put("cors", o.cors() == null ? null : o.cors().toString());
        p.put("http10", o.tuning().http10());
        p.put("requestBuffering", o.tuning().bufferRequestBody());
        p.put("responseHeaderLimit", o.tuning().responseHeaderLimit());
        p.put("accessLog", o.tuning().accessLog());
        dev.sluice.gateway.route.UpstreamTls tls = o.upstreamTls();
        p.put("upstreamTls", tls == null ? null : "secret=" + tls.secret() + " verify=" + tls.verify() + " depth="
                + tls.verifyDepth() + " name=" + tls.name() + " serverName=" + tls.serverName());
    }

    private static void responseOptions(ObjectNode node, dev.sluice.gateway.route.RouteOptions o) {
        dev.sluice.gateway.route.ErrorPages pages = o.errorPages();
        if (pages != null) {
            ObjectNode e = node.putObject("errorPages");
            ArrayNode codes = e.putArray("codes");
            pages.codes().stream().sorted().forEach(codes::add);
            e.put("defaultBackend", pages.backend() == null ? null : pages.backend().name());
            e.put("replacesService", pages.replacesService());
        }
        dev.sluice.gateway.route.HeaderRewrites h = o.headerRewrites();
        if (!h.equals(dev.sluice.gateway.route.HeaderRewrites.NONE)) {
            ObjectNode n = node.putObject("headers");
            n.put("upstreamVhost", h.upstreamHost());
            ArrayNode names = n.putArray("customHeaders");
            h.responseHeaders().keySet().forEach(names::add);
            n.put("proxyRedirect", h.redirectFrom() == null ? null : h.redirectFrom() + " " + h.redirectTo());
            n.put("proxyCookieDomain", h.cookieDomainFrom() == null ? null
                    : h.cookieDomainFrom() + " " + h.cookieDomainTo());
            n.put("proxyCookiePath", h.cookiePathFrom() == null ? null : h.cookiePathFrom() + " " + h.cookiePathTo());
        }
    }

    private static void backend(ObjectNode node, Backend b, boolean withEndpoints) {
        node.put("backend", b == null ? null : b.name());
        ArrayNode endpoints = withEndpoints ? node.putArray("endpoints") : null;
        if (b != null && withEndpoints) {
            for (Endpoint ep : b.endpoints()) {
                endpoints.add(ep.toString());
            }
        }
        node.put("problem", b == null ? null : b.problem());
    }

    private static String matchKind(PathMatcher m) {
        // pattern-matching switch is not final in Java 17
        if (m instanceof PathMatcher.Exact) {
            return "Exact";
        }
        return m instanceof PathMatcher.Regex ? "Regex" : "Prefix";
    }
}
