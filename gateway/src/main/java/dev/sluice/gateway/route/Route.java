package dev.sluice.gateway.route;

import java.util.Objects;

/**
 * One location: a path matcher, where matching requests go, and how they are handled.
 *
 * @param matcher the path and how it matches
 * @param source  {@code namespace/name} of the Ingress that declared the path (for logs, metrics
 *                and {@code /routes}); {@code "<default>"} for built-in fallbacks
 * @param backend the upstream, or {@code null} for the built-in 404 default backend
 * @param options rewrite, timeouts and retries of this location
 */
public record Route(PathMatcher matcher, String source, Backend backend, RouteOptions options) {
    /** Source name of routes Sluice makes itself (the built-in default backend). */
    public static final String BUILT_IN = "<default>";

    public Route {
        Objects.requireNonNull(matcher, "matcher");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(options, "options");
    }

    /** The fallback {@code /} of a host that answers 404 (ingress-nginx's internal default server). */
    public static Route notFound() {
        return new Route(new PathMatcher.Prefix("/"), BUILT_IN, null, RouteOptions.DEFAULTS);
    }
}
