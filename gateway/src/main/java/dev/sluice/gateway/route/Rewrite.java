package dev.sluice.gateway.route;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.Objects;

/**
 * ingress-nginx's {@code rewrite-target}: {@code rewrite "(?i)<path>" <target> break;}.
 *
 * <p>The whole normalised URI is replaced by the target (it is not a prefix substitution);
 * {@code $1}…{@code $9} are the capture groups of the path regex, and groups that did not take
 * part expand to the empty string. Examples with path {@code /something(/|$)(.*)} and target
 * {@code /$2}: {@code /something} → {@code /}, {@code /something/new} → {@code /new},
 * {@code /SOMETHING/x} → {@code /x}. With path {@code /something} and target {@code /}:
 * {@code /something/else} → {@code /}. The query string is kept by the caller. A target that is
 * an absolute {@code http(s)://} URL makes the request a 302 redirect.
 */
public record Rewrite(String path, String target, Pattern pattern) {
    public Rewrite {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(pattern, "pattern");
    }

    /**
     * @throws com.google.re2j.PatternSyntaxException if the path is not a regex re2j accepts
     */
    public static Rewrite of(String path, String target) {
        return new Rewrite(path, target, Pattern.compile(path, Pattern.CASE_INSENSITIVE));
    }

    /** Whether the target is an absolute URL, which turns the rewrite into a 302 redirect. */
    public boolean isRedirect() {
        return target.startsWith("http://") || target.startsWith("https://");
    }

    /**
     * The rewritten (decoded) URI path, or {@code null} when the path regex does not match and the
     * request is forwarded unchanged.
     */
    public String apply(String normalizedPath) {
        Matcher m = pattern.matcher(normalizedPath);
        if (!m.find()) {
            return null;
        }
        StringBuilder out = new StringBuilder(target.length() + 16);
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '$' && i + 1 < target.length() && Character.isDigit(target.charAt(i + 1))) {
                int group = target.charAt(++i) - '0';
                if (group <= m.groupCount()) {
                    String g = m.group(group);
                    if (g != null) {
                        out.append(g);
                    }
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rewrite r && path.equals(r.path) && target.equals(r.target);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, target);
    }

    @Override
    public String toString() {
        return "Rewrite[" + path + " -> " + target + "]";
    }
}
