package dev.sluice.controller.translate;

import com.google.re2j.PatternSyntaxException;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the locations of one virtual host while Ingresses are processed oldest first, and
 * turns them into {@link HostRoutes} once every Ingress has been seen (regex mode is a property
 * of the whole host, so matchers can only be built at the end). Used by one translation only.
 */
final class HostBuilder {

    /** Kubernetes path types after ingress-nginx's normalisation (ImplementationSpecific = Prefix). */
    enum PathKind { EXACT, PREFIX }

    /**
     * One declared path, before the host's mode is known.
     *
     * @param split        the mainline upstream and, once attached, the canary
     * @param affinityPath the sticky cookie's default path when the Ingress declared affinity
     * @param regexTrigger this path's Ingress uses {@code use-regex}, or a {@code rewrite-target}
     *                     that differs from this path, which puts the whole host into regex mode
     * @param canarySource {@code namespace/name} of the attached canary Ingress, or {@code null}
     */
    record PendingPath(String path, PathKind kind, String namespace, String name, TrafficSplit split,
            RouteOptions options, String affinityPath, boolean regexTrigger, String canarySource) {
        String source() {
            return namespace + "/" + name;
        }

        PendingPath withCanary(TrafficSplit s, String canary) {
            return new PendingPath(path, kind, namespace, name, s, options, affinityPath, regexTrigger, canary);
        }
    }

    private record PathKey(String path, PathKind kind) {}

    private final String host;
    private final Map<PathKey, PendingPath> paths = new LinkedHashMap<>();
    private Route fallback;
    private boolean fallbackRegexTrigger;
    private String appRoot;

    /**
     * @param host                 {@code foo.com}, {@code *.foo.com}, or {@code ""} (catch-all)
     * @param fallback             where unmatched paths go
     * @param fallbackRegexTrigger the Ingress that created the host uses regex mode; its annotations
     *                             also apply to the host's fallback location in ingress-nginx
     */
    HostBuilder(String host, Route fallback, boolean fallbackRegexTrigger) {
        this.host = host;
        this.fallback = fallback;
        this.fallbackRegexTrigger = fallbackRegexTrigger;
    }

    String host() {
        return host;
    }

    void fallback(Route route) {
        this.fallback = route;
    }

    Route fallback() {
        return fallback;
    }

    /** The location declared with exactly this path string and type, or {@code null}. */
    PendingPath find(String path, PathKind kind) {
        return paths.get(new PathKey(path, kind));
    }

    /** Replaces the location with the same path and type (a canary was attached to it). */
    void replace(PendingPath p) {
        paths.replace(new PathKey(p.path(), p.kind()), p);
    }

    /** Sets {@code app-root} unless an older Ingress on this host already did. */
    void offerAppRoot(String target) {
        if (appRoot == null) {
            appRoot = target;
        }
    }

    /**
     * Adds a path unless the same path string with the same type is already there (the oldest
     * Ingress wins, SPEC §1.4).
     *
     * @return the path that was there before, or {@code null} when {@code p} was added
     */
    PendingPath add(PendingPath p) {
        return paths.putIfAbsent(new PathKey(p.path(), p.kind()), p);
    }

    /** Builds the host; paths whose regex cannot be compiled are reported and left out. */
    HostRoutes build(ProblemSink problems) {
        return build(problems, PathMatcher.Regex::compile);
    }

    /**
     * {@link #build(ProblemSink)} with the regex locations compiled by {@code regexes} (which
     * throws {@link PatternSyntaxException} as {@link PathMatcher.Regex#compile} does).
     */
    HostRoutes build(ProblemSink problems, java.util.function.Function<String, PathMatcher.Regex> regexes) {
        boolean regexMode = fallbackRegexTrigger;
        for (PendingPath p : paths.values()) {
            regexMode |= p.regexTrigger();
        }
        List<Route> routes = new ArrayList<>(paths.size());
        for (PendingPath p : paths.values()) {
            PathMatcher matcher;
            if (p.kind() == PathKind.EXACT) {
                // Sluice's decision: Exact stays exact in regex mode (ingress-nginx bug #10618)
                matcher = new PathMatcher.Exact(p.path());
            } else if (regexMode) {
                try {
                    matcher = regexes.apply(p.path());
                } catch (PatternSyntaxException e) {
                    problems.report(p.namespace(), p.name(), "invalid regex path \"" + p.path() + "\" on host "
                            + display(host) + " (regex mode): " + e.getMessage() + "; path skipped");
                    continue;
                }
            } else {
                matcher = new PathMatcher.Prefix(p.path());
            }
            routes.add(new Route(matcher, p.source(), p.split(), p.options(), p.affinityPath()));
        }
        return HostRoutes.of(host, routes, regexMode, fallback, appRoot);
    }

    static String display(String host) {
        return host.isEmpty() ? "_ (no host)" : host;
    }
}
