package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * One location: a path matcher, where matching requests go, and how they are handled.
 *
 * <p>The target is a {@link TrafficSplit}: the mainline upstream and, when a canary Ingress is
 * attached to this host + path + pathType, the canary upstream with its rule. The location's
 * options (rewrite, timeouts, retries) apply to both sides, as ingress-nginx applies the mainline
 * location's configuration to canary traffic (SPEC §5.1).
 *
 * @param matcher      the path and how it matches
 * @param source       {@code namespace/name} of the Ingress that declared the path (for logs,
 *                     metrics and {@code /routes}); {@code "<default>"} for built-in fallbacks
 * @param split        where requests go, or {@code null} for the built-in 404 default backend
 * @param options      rewrite, timeouts and retries of this location
 * @param affinityPath the default {@code Path} of the sticky cookie when the Ingress that declared
 *                     this location enabled {@code affinity: cookie} (the location's path), or
 *                     {@code null}: this location never sets a sticky cookie (SPEC §6.3)
 */
public record Route(PathMatcher matcher, String source, TrafficSplit split, RouteOptions options,
        String affinityPath) {
    /** Source name of routes Sluice makes itself (the built-in default backend). */
    public static final String BUILT_IN = "<default>";

    public Route {
        Objects.requireNonNull(matcher, "matcher");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(options, "options");
    }

    /** A location without canary and without affinity, balanced round robin. */
    public Route(PathMatcher matcher, String source, Backend backend, RouteOptions options) {
        this(matcher, source, backend == null ? null : TrafficSplit.of(Upstream.of(backend, BalancerSpec.DEFAULT)),
                options, null);
    }

    /** The mainline backend, or {@code null} for the built-in 404 default backend. */
    public Backend backend() {
        return split == null ? null : split.mainline().backend();
    }

    /** This location with another split (a canary attached). */
    public Route withSplit(TrafficSplit s) {
        return new Route(matcher, source, s, options, affinityPath);
    }

    /**
     * This location with every upstream {@code u} (its split's and its error pages') replaced by
     * {@code replace.apply(u)}; this very location when no upstream was replaced.
     */
    public Route withUpstreams(UnaryOperator<Upstream> replace) {
        TrafficSplit s = split == null ? null : split.withUpstreams(replace);
        ErrorPages pages = options.errorPages();
        ErrorPages p = pages == null ? null : pages.withUpstreams(replace);
        if (s == split && p == pages) {
            return this;
        }
        return new Route(matcher, source, s, p == pages ? options : options.withErrorPages(p), affinityPath);
    }

    /** Calls {@code action} with this location's upstreams: its split's mainline and canary, its error pages'. */
    public void forEachUpstream(Consumer<Upstream> action) {
        if (split != null) {
            split.forEachUpstream(action);
        }
        if (options.errorPages() != null && options.errorPages().backend() != null) {
            action.accept(options.errorPages().backend());
        }
    }

    /** The fallback {@code /} of a host that answers 404 (ingress-nginx's internal default server). */
    public static Route notFound() {
        return new Route(new PathMatcher.Prefix("/"), BUILT_IN, (TrafficSplit) null, RouteOptions.DEFAULTS, null);
    }
}
