package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.PathNormalizer;
import dev.sluice.gateway.request.RequestView;
import io.netty.util.NetUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A compiled {@code upstream-hash-by} value: NGINX text with variables, evaluated per request to
 * the consistent-hash key. Compiled once when the route table is built; evaluation does no
 * parsing.
 *
 * <p>Grammar: literal text with {@code $name} or {@code ${name}} variables (names are letters,
 * digits and {@code _}; {@code ${...}} separates a name from following text). Examples:
 * {@code $request_uri}, {@code $binary_remote_addr}, {@code ${request_uri}-text},
 * {@code $http_x_tenant$cookie_session}, {@code $host$uri}. Variables (as in NGINX; a missing
 * header, cookie or argument is the empty string):
 * <ul>
 *   <li>{@code $request_uri} raw request-target; {@code $uri} normalised (decoded) path;
 *       {@code $args} / {@code $query_string} the query; {@code $is_args} {@code ?} or empty;</li>
 *   <li>{@code $remote_addr} client IP text; {@code $binary_remote_addr} its 4 or 16 bytes;</li>
 *   <li>{@code $escaped_request_uri} the request-target percent-encoded as ingress-nginx's
 *       {@code set_escape_uri} ({@link #escapeUri});</li>
 *   <li>{@code $host}; {@code $best_http_host} the {@code Host} header as received;
 *       {@code $scheme} and {@code $pass_access_scheme}; {@code $https} ({@code on} or empty);</li>
 *   <li>{@code $http_<name>} request header, {@code _} standing for {@code -}
 *       ({@code $http_x_user_id} reads {@code X-User-Id});</li>
 *   <li>{@code $cookie_<name>} cookie (name as written); {@code $arg_<name>} query argument
 *       (first, raw, name case-insensitive).</li>
 * </ul>
 * Any other variable is rejected by {@link #compile} (the translator reports the Ingress).
 */
public final class HashKeyExpression {
    private final String source;
    private final Part[] parts;

    private HashKeyExpression(String source, List<Part> parts) {
        this.source = source;
        this.parts = parts.toArray(new Part[0]);
    }

    /**
     * Compiles {@code expression}.
     *
     * @throws IllegalArgumentException for an empty expression, a bad variable name, an unclosed
     *                                  {@code ${} or an unsupported variable
     */
    public static HashKeyExpression compile(String expression) {
        return compile(expression, "upstream-hash-by");
    }

    /**
     * Compiles {@code expression}, naming it {@code what} (the annotation) in error messages.
     *
     * @throws IllegalArgumentException as {@link #compile(String)}
     */
    public static HashKeyExpression compile(String expression, String what) {
        Objects.requireNonNull(expression, "expression");
        if (expression.isEmpty()) {
            throw new IllegalArgumentException("empty " + what + " expression");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        final int n = expression.length();
        while (i < n) {
            char c = expression.charAt(i);
            if (c != '$') {
                literal.append(c);
                i++;
                continue;
            }
            String name;
            if (i + 1 < n && expression.charAt(i + 1) == '{') {
                int close = expression.indexOf('}', i + 2);
                if (close < 0) {
                    throw new IllegalArgumentException("missing '}' in " + what + ": " + expression);
                }
                name = expression.substring(i + 2, close);
                for (int k = 0; k < name.length(); k++) {
                    if (!isNameChar(name.charAt(k))) {
                        name = "";
                        break;
                    }
                }
                i = close + 1;
            } else {
                int j = i + 1;
                while (j < n && isNameChar(expression.charAt(j))) {
                    j++;
                }
                name = expression.substring(i + 1, j);
                i = j;
            }
            if (name.isEmpty()) {
                throw new IllegalArgumentException("invalid variable name in " + what + ": " + expression);
            }
            if (literal.length() > 0) {
                parts.add(literal(literal.toString()));
                literal.setLength(0);
            }
            parts.add(variable(name, expression, what));
        }
        if (literal.length() > 0) {
            parts.add(literal(literal.toString()));
        }
        return new HashKeyExpression(expression, parts);
    }

    /** The expression as written in the annotation. */
    public String source() {
        return source;
    }

    /** The hash key of {@code req}. */
    public String evaluate(RequestView req) {
        if (parts.length == 1) {
            return parts[0].value(req);
        }
        StringBuilder sb = new StringBuilder(64);
        for (Part p : parts) {
            sb.append(p.value(req));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HashKeyExpression e && source.equals(e.source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    @Override
    public String toString() {
        return source;
    }

    @FunctionalInterface
    private interface Part {
        String value(RequestView req);
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    private static Part literal(String text) {
        return req -> text;
    }

    private static Part variable(String name, String expression, String what) {
        // NGINX variable names are case-insensitive.
        final String lower = name.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "request_uri":
                return RequestView::requestUri;
            case "escaped_request_uri":
                return req -> escapeUri(req.requestUri());
            case "uri":
                return req -> {
                    String path = path(req.requestUri());
                    String normalized = PathNormalizer.normalize(path);
                    return normalized != null ? normalized : path;
                };
            case "args":
            case "query_string":
                return req -> query(req.requestUri());
            case "is_args":
                return req -> req.requestUri().indexOf('?') >= 0 ? "?" : "";
            case "remote_addr":
                return RequestView::remoteAddress;
            case "binary_remote_addr":
                return req -> {
                    byte[] b = NetUtil.createByteArrayFromIpAddressString(req.remoteAddress());
                    return b == null ? req.remoteAddress() : new String(b, StandardCharsets.ISO_8859_1);
                };
            case "host":
                return RequestView::host;
            case "best_http_host":
                return req -> orEmpty(req.header("host"));
            case "scheme":
            case "pass_access_scheme":
                return req -> req.https() ? "https" : "http";
            case "https":
                return req -> req.https() ? "on" : "";
            default:
                break;
        }
        if (lower.startsWith("http_") && lower.length() > 5) {
            final String header = lower.substring(5).replace('_', '-');
            return req -> orEmpty(req.header(header));
        }
        if (lower.startsWith("cookie_") && lower.length() > 7) {
            final String cookie = name.substring(7);
            return req -> orEmpty(req.cookie(cookie));
        }
        if (lower.startsWith("arg_") && lower.length() > 4) {
            final String arg = lower.substring(4);
            return req -> arg(req.requestUri(), arg);
        }
        throw new IllegalArgumentException("unsupported variable $" + name + " in " + what + ": " + expression);
    }

    /**
     * The set-misc module's {@code set_escape_uri}: every byte but {@code [A-Za-z0-9-._~]}
     * percent-encoded, so {@code /?a=b&c=d} becomes {@code %2F%3Fa%3Db%26c%3Dd}.
     */
    public static String escapeUri(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String path(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    private static String query(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? "" : uri.substring(q + 1);
    }

    /** NGINX {@code ngx_http_arg}: the first {@code name=value} pair, name case-insensitive, value raw. */
    private static String arg(String uri, String lowerName) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return "";
        }
        int i = q + 1;
        final int n = uri.length();
        final int len = lowerName.length();
        while (i < n) {
            int amp = uri.indexOf('&', i);
            int end = amp < 0 ? n : amp;
            if (end - i > len && uri.charAt(i + len) == '=' && uri.regionMatches(true, i, lowerName, 0, len)) {
                return uri.substring(i + len + 1, end);
            }
            i = end + 1;
        }
        return "";
    }
}
