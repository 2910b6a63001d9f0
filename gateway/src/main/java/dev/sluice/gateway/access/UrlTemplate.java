package dev.sluice.gateway.access;

import dev.sluice.gateway.balance.HashKeyExpression;
import dev.sluice.gateway.request.RequestView;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An absolute http(s) URL as an ingress-nginx annotation writes it, with NGINX variables expanded
 * per request ({@code auth-url}, {@code auth-signin}). The variables are those of
 * {@link HashKeyExpression}, among them {@code $host}, {@code $request_uri},
 * {@code $escaped_request_uri}, {@code $scheme}, {@code $http_<name>}. Examples, for
 * {@code GET /a?b=c} on {@code app.example.com}:
 * <ul>
 *   <li>{@code https://$host/oauth2/auth} → {@code https://app.example.com/oauth2/auth};</li>
 *   <li>{@code https://auth.example.com/start?rd=$escaped_request_uri} →
 *       {@code https://auth.example.com/start?rd=%2Fa%3Fb%3Dc}.</li>
 * </ul>
 * The scheme is always literal. A URL without variables is parsed once.
 *
 * @param source the URL as written
 * @param fixed  the parsed URL when it has no variables, else {@code null}
 * @param text   the compiled text when it has variables, else {@code null}
 */
public record UrlTemplate(String source, URI fixed, HashKeyExpression text) {
    private static final Pattern VARIABLE = Pattern.compile("\\$(\\{[A-Za-z0-9_]*}|[A-Za-z0-9_]*)");

    public UrlTemplate {
        Objects.requireNonNull(source, "source");
        if ((fixed == null) == (text == null)) {
            throw new IllegalArgumentException("a URL is either fixed or has variables");
        }
    }

    /**
     * Reads {@code source}.
     *
     * @param what the annotation, for messages
     * @throws IllegalArgumentException when it is not an absolute http or https URL with a host
     *                                  (with every variable standing for a word), or uses a variable
     *                                  Sluice does not know
     */
    public static UrlTemplate parse(String source, String what) {
        String lower = source.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
            throw new IllegalArgumentException("expected an absolute http or https URL");
        }
        boolean variables = source.indexOf('$') >= 0;
        URI probe = uri(variables ? VARIABLE.matcher(source).replaceAll("x") : source);
        if (probe == null || probe.getHost() == null || probe.getRawFragment() != null) {
            throw new IllegalArgumentException("expected an absolute http or https URL");
        }
        if (!variables) {
            return new UrlTemplate(source, probe, null);
        }
        return new UrlTemplate(source, null, HashKeyExpression.compile(source, what));
    }

    /** A URL without variables, already parsed. */
    public static UrlTemplate of(URI url) {
        return new UrlTemplate(url.toString(), url, null);
    }

    /** Whether a variable stands in the URL's scheme-and-authority part: its host is the request's. */
    public boolean variableHost() {
        if (text == null) {
            return false;
        }
        int start = source.indexOf("://") + 3;
        int end = start;
        while (end < source.length() && "/?#".indexOf(source.charAt(end)) < 0) {
            end++;
        }
        return source.substring(start, end).indexOf('$') >= 0;
    }

    /** The URL text for {@code request}. */
    public String expand(RequestView request) {
        return text == null ? source : text.evaluate(request);
    }

    /**
     * The URL for {@code request}.
     *
     * @throws IllegalArgumentException when the expanded text is not a URL with a host (an empty
     *                                  or odd {@code Host}, for example)
     */
    public URI resolve(RequestView request) {
        if (fixed != null) {
            return fixed;
        }
        URI u = uri(text.evaluate(request));
        if (u == null || u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException("not a URL once expanded: " + source);
        }
        return u;
    }

    private static URI uri(String s) {
        try {
            return new URI(s);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return source;
    }
}
