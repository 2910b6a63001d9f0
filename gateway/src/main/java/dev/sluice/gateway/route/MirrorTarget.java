package dev.sluice.gateway.route;

import dev.sluice.gateway.request.Endpoint;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Where copies of a location's requests go ({@code mirror-target}, {@code mirror-host},
 * {@code mirror-request-body}): NGINX's {@code mirror} to a location that does
 * {@code proxy_pass <mirror-target>} with {@code Host: <mirror-host>}.
 *
 * <p>The target is an absolute {@code http} or {@code https} URL whose path and query may use
 * {@code $request_uri}, {@code $uri}, {@code $args}, {@code $is_args}, {@code $host} and
 * {@code $scheme}, e.g. {@code https://mirror.example.com$request_uri}. A target without a path
 * sends the request's own URI.
 *
 * @param https       whether the copy goes over TLS
 * @param endpoint    the target's host (IP literal or DNS name) and port
 * @param uriTemplate the target's path and query with its variables, or {@code ""} (the request's URI)
 * @param host        the {@code Host} header of the copies
 * @param requestBody whether the copies carry the request body ({@code mirror-request-body}, default on)
 */
public record MirrorTarget(boolean https, Endpoint endpoint, String uriTemplate, String host, boolean requestBody) {

    private static final Set<String> VARIABLES = Set.of("request_uri", "uri", "args", "is_args", "host", "scheme");

    public MirrorTarget {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(uriTemplate, "uriTemplate");
        Objects.requireNonNull(host, "host");
    }

    /**
     * Reads the annotations' values.
     *
     * @param target      {@code mirror-target}
     * @param host        {@code mirror-host}, or {@code null} for the target's host name
     * @param requestBody {@code mirror-request-body}
     * @throws IllegalArgumentException when the target is not a usable URL (the message says why)
     */
    public static MirrorTarget parse(String target, String host, boolean requestBody) {
        String t = target.trim();
        int schemeEnd = t.indexOf("://");
        if (schemeEnd < 0) {
            throw new IllegalArgumentException("not an absolute http(s) URL");
        }
        String scheme = t.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme must be http or https");
        }
        int pathStart = t.length();
        for (int i = schemeEnd + 3; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '/' || c == '?' || c == '$') {
                pathStart = i;
                break;
            }
        }
        String authority = t.substring(schemeEnd + 3, pathStart);
        String template = t.substring(pathStart);
        URI uri;
        try {
            uri = new URI(scheme + "://" + authority + "/");
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad host or port: " + e.getReason());
        }
        if (uri.getHost() == null || uri.getUserInfo() != null) {
            throw new IllegalArgumentException("no host name (or user info, which is not supported)");
        }
        int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        if (port > 65535) {
            throw new IllegalArgumentException("port out of range");
        }
        checkVariables(template);
        if (template.startsWith("?")) {
            template = "/" + template;
        }
        String hostName = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
                : uri.getHost();
        String hostHeader = host == null || host.isBlank() ? hostName : host.trim();
        if (!hostHeader.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("mirror-host is not a host name");
        }
        return new MirrorTarget(scheme.equals("https"), Endpoint.of(hostName, port), template, hostHeader,
                requestBody);
    }

    private static void checkVariables(String template) {
        for (int i = template.indexOf('$'); i >= 0; i = template.indexOf('$', i + 1)) {
            String name = variableAt(template, i);
            if (!VARIABLES.contains(name)) {
                throw new IllegalArgumentException("variable $" + name + " is not supported (only $"
                        + String.join(", $", VARIABLES.stream().sorted().toList()) + ")");
            }
        }
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("the path may not contain spaces or control characters");
            }
        }
    }

    private static String variableAt(String template, int dollar) {
        int end = dollar + 1;
        while (end < template.length()) {
            char c = template.charAt(end);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
                break;
            }
            end++;
        }
        return template.substring(dollar + 1, end);
    }

    /**
     * The request-target of a copy.
     *
     * @param requestUri the client's request URI as received (path and query)
     * @param requestHost the request's host ({@code $host})
     * @param scheme     {@code http} or {@code https}
     */
    public String uri(String requestUri, String requestHost, String scheme) {
        if (uriTemplate.isEmpty()) {
            return requestUri;
        }
        if (uriTemplate.indexOf('$') < 0) {
            return uriTemplate;
        }
        int q = requestUri.indexOf('?');
        String path = q >= 0 ? requestUri.substring(0, q) : requestUri;
        String args = q >= 0 ? requestUri.substring(q + 1) : "";
        StringBuilder out = new StringBuilder(uriTemplate.length() + requestUri.length());
        int from = 0;
        for (int i = uriTemplate.indexOf('$'); i >= 0; i = uriTemplate.indexOf('$', from)) {
            out.append(uriTemplate, from, i);
            String name = variableAt(uriTemplate, i);
            out.append(switch (name) {
                case "request_uri" -> requestUri;
                case "uri" -> path;
                case "args" -> args;
                case "is_args" -> args.isEmpty() ? "" : "?";
                case "host" -> requestHost;
                default -> scheme;
            });
            from = i + 1 + name.length();
        }
        out.append(uriTemplate, from, uriTemplate.length());
        return out.toString();
    }
}
