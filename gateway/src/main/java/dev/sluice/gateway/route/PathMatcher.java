package dev.sluice.gateway.route;

import dev.sluice.gateway.request.PathNormalizer;
import com.google.re2j.Pattern;
import java.util.Objects;

/**
 * How a route's path is compared with the normalised request path (percent-decoded, {@code //}
 * merged, dot segments resolved — see {@link PathNormalizer}).
 *
 * <ul>
 *   <li>{@link Exact}: {@code /foo} matches {@code /foo} only (case-sensitive).
 *   <li>{@link Prefix}: element-wise; {@code /foo} matches {@code /foo}, {@code /foo/},
 *       {@code /foo/bar}, never {@code /foobar}. {@code /} matches everything.
 *   <li>{@link Regex}: ingress-nginx's {@code location ~* "^<path>"}: case-insensitive, anchored
 *       at the start only; {@code /id/[0-9]+} matches {@code /id/123a}.
 * </ul>
 */
public sealed interface PathMatcher permits PathMatcher.Exact, PathMatcher.Prefix, PathMatcher.Regex {

    /** The path as written in the Ingress. */
    String path();

    /** Whether the normalised request path matches. */
    boolean matches(String normalizedPath);

    /** Kubernetes {@code pathType: Exact}. */
    record Exact(String path) implements PathMatcher {
        public Exact {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public boolean matches(String normalizedPath) {
            return path.equals(normalizedPath);
        }
    }

    /** Kubernetes {@code pathType: Prefix} (and ingress-nginx's {@code ImplementationSpecific}). */
    record Prefix(String path) implements PathMatcher {
        public Prefix {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public boolean matches(String p) {
            if (path.endsWith("/")) {
                // "/" matches everything; "/foo/" matches "/foo/..." (a bare "/foo" is redirected)
                return p.startsWith(path);
            }
            return p.startsWith(path)
                    && (p.length() == path.length() || p.charAt(path.length()) == '/');
        }
    }

    /**
     * A path in regex mode, compiled with re2j (linear time) as {@code (?i)^<path>}. Equality is
     * on the path text.
     */
    record Regex(String path, Pattern pattern) implements PathMatcher {
        public Regex {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(pattern, "pattern");
        }

        /**
         * Compiles {@code path} the way ingress-nginx renders it in regex mode.
         *
         * @throws com.google.re2j.PatternSyntaxException if re2j cannot compile it (for example
         *     back-references or look-around, which PCRE accepts)
         */
        public static Regex compile(String path) {
            return new Regex(path, Pattern.compile("^(?:" + path + ")", Pattern.CASE_INSENSITIVE));
        }

        @Override
        public boolean matches(String normalizedPath) {
            return pattern.matcher(normalizedPath).find();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Regex r && path.equals(r.path);
        }

        @Override
        public int hashCode() {
            return path.hashCode();
        }

        @Override
        public String toString() {
            return "Regex[" + path + "]";
        }
    }
}
