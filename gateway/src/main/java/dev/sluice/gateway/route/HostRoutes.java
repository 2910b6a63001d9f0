package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Upstream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The locations of one virtual host (ingress-nginx's "server"), merged from every Ingress that
 * names the host, with the order in which they are tried.
 *
 * <p>Normal mode (no regex on the host): an {@link PathMatcher.Exact} path wins first; then the
 * longest matching {@link PathMatcher.Prefix}; a request for {@code /foo} when only the Prefix
 * {@code /foo/} exists is redirected (301) to {@code /foo/} as NGINX does. Regex mode (some
 * Ingress on the host uses {@code use-regex} or a {@code rewrite-target}): Exact paths still
 * first (Sluice's decision), then every other path as a case-insensitive regex anchored at the
 * start, first match wins, in ingress-nginx's order: longer path strings first, equal lengths in
 * reverse byte order — so {@code /foo/bar/[A-Z0-9]{3}} is tried before {@code /foo/bar/bar}.
 *
 * <p>Immutable; equality covers the components (host, routes, mode, fallback, app-root), not the
 * lookup index derived from them.
 */
public final class HostRoutes {

    private static final Comparator<Route> BY_PATH_DESC =
            Comparator.comparing((Route r) -> r.matcher().path(), Comparator.reverseOrder());
    private static final Comparator<Route> BY_LENGTH_DESC =
            Comparator.comparingInt((Route r) -> r.matcher().path().length()).reversed();

    private final String host;
    private final List<Route> routes;
    private final boolean regexMode;
    private final Route fallback;
    private final String appRoot;
    private final String wwwRedirectTarget;

    // derived lookup structures (not part of equality)
    private final Map<String, Route> exact = new HashMap<>();
    private final Route[] ordered;
    private final Map<String, Route> slashPrefixes = new HashMap<>();

    private HostRoutes(String host, List<Route> routes, boolean regexMode, Route fallback, String appRoot,
            String wwwRedirectTarget) {
        this.host = Objects.requireNonNull(host, "host");
        this.wwwRedirectTarget = wwwRedirectTarget;
        this.routes = List.copyOf(routes);
        this.regexMode = regexMode;
        this.fallback = Objects.requireNonNull(fallback, "fallback");
        this.appRoot = appRoot;
        List<Route> rest = new ArrayList<>();
        for (Route r : this.routes) {
            if (r.matcher() instanceof PathMatcher.Exact e) {
                exact.putIfAbsent(e.path(), r);
            } else {
                rest.add(r);
                if (!regexMode && r.matcher() instanceof PathMatcher.Prefix p
                        && p.path().length() > 1 && p.path().endsWith("/")) {
                    slashPrefixes.putIfAbsent(p.path().substring(0, p.path().length() - 1), r);
                }
            }
        }
        // a Prefix "/foo" has NGINX's exact copy "= /foo", which wins over the "/foo/" auto-redirect
        for (Route r : rest) {
            if (r.matcher() instanceof PathMatcher.Prefix p) {
                slashPrefixes.remove(p.path());
            }
        }
        this.ordered = rest.toArray(new Route[0]);
    }

    /**
     * Builds a host from locations in any order and sorts them into match order.
     *
     * @param host      the host name ({@code "*.example.com"} for wildcards, {@code ""} for the
     *                  catch-all)
     * @param routes    the locations
     * @param regexMode whether the host is in regex mode
     * @param fallback  where unmatched paths go: the host's default backend or the built-in 404
     * @param appRoot   {@code app-root} (requests for exactly {@code /} get a 302 there), or
     *                  {@code null}
     */
    public static HostRoutes of(String host, List<Route> routes, boolean regexMode, Route fallback, String appRoot) {
        List<Route> sorted = new ArrayList<>(routes);
        if (regexMode) {
            // ingress-nginx: sort by path descending, then a stable sort by length descending
            sorted.sort(BY_PATH_DESC);
            sorted.sort(BY_LENGTH_DESC);
        } else {
            // longest prefix first; order among equal lengths does not change the result
            sorted.sort(BY_LENGTH_DESC.thenComparing(r -> r.matcher().path()));
        }
        return new HostRoutes(host, sorted, regexMode, fallback, appRoot, null);
    }

    /**
     * The extra virtual host of {@code from-to-www-redirect} (SPEC §7): every request for
     * {@code host} answers 308 to the same URI on {@code target}, e.g. {@code www.example.com} →
     * {@code example.com} (or the reverse).
     */
    public static HostRoutes wwwRedirect(String host, String target) {
        return new HostRoutes(host, List.of(), false, Route.notFound(), null, Objects.requireNonNull(target, "target"));
    }

    /**
     * This host with every upstream {@code u} of its locations and fallback replaced by
     * {@code replace.apply(u)}, the locations in the same order; this very host when no upstream
     * was replaced.
     */
    public HostRoutes withUpstreams(UnaryOperator<Upstream> replace) {
        Route f = fallback.withUpstreams(replace);
        List<Route> replaced = null;
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            Route n = r.withUpstreams(replace);
            if (n != r && replaced == null) {
                replaced = new ArrayList<>(routes);
            }
            if (replaced != null) {
                replaced.set(i, n);
            }
        }
        return replaced == null && f == fallback ? this
                : new HostRoutes(host, replaced == null ? routes : replaced, regexMode, f, appRoot, wwwRedirectTarget);
    }

    /** Calls {@code action} with every upstream of this host: locations' mainline and canary, fallback, error pages. */
    public void forEachUpstream(Consumer<Upstream> action) {
        for (Route r : routes) {
            r.forEachUpstream(action);
        }
        fallback.forEachUpstream(action);
    }

    /** The host every request is redirected to ({@code from-to-www-redirect}), or {@code null}. */
    public String wwwRedirectTarget() {
        return wwwRedirectTarget;
    }

    public String host() {
        return host;
    }

    /** The locations in match order. */
    public List<Route> routes() {
        return routes;
    }

    public boolean regexMode() {
        return regexMode;
    }

    public Route fallback() {
        return fallback;
    }

    /** {@code app-root} target, or {@code null}. */
    public String appRoot() {
        return appRoot;
    }

    /** Result of matching a path on this host. */
    public sealed interface Match permits Matched, SlashRedirect {}

    /** The route that serves the path (maybe the fallback). */
    public record Matched(Route route) implements Match {}

    /** NGINX's auto-redirect: {@code /foo} → {@code /foo/} when only Prefix {@code /foo/} exists. */
    public record SlashRedirect(String path) implements Match {}

    /** Finds the location for a normalised path; never {@code null}. */
    public Match match(String path) {
        Route r = exact.get(path);
        if (r != null) {
            return new Matched(r);
        }
        if (!slashPrefixes.isEmpty() && slashPrefixes.containsKey(path)) {
            return new SlashRedirect(path + "/");
        }
        for (Route candidate : ordered) {
            if (candidate.matcher().matches(path)) {
                return new Matched(candidate);
            }
        }
        return new Matched(fallback);
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof HostRoutes h
                && host.equals(h.host)
                && routes.equals(h.routes)
                && regexMode == h.regexMode
                && fallback.equals(h.fallback)
                && Objects.equals(appRoot, h.appRoot)
                && Objects.equals(wwwRedirectTarget, h.wwwRedirectTarget);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, routes, regexMode, fallback, appRoot, wwwRedirectTarget);
    }

    @Override
    public String toString() {
        return "HostRoutes[" + (host.isEmpty() ? "_" : host) + (regexMode ? " regex" : "")
                + (wwwRedirectTarget != null ? " -> " + wwwRedirectTarget : "") + " " + routes
                + " fallback=" + fallback + "]";
    }
}
