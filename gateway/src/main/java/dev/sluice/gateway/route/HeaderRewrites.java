package dev.sluice.gateway.route;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Header changes of a location, as NGINX's {@code proxy_set_header Host}, {@code more_set_headers},
 * {@code proxy_redirect} and {@code proxy_cookie_domain} / {@code proxy_cookie_path} do them.
 *
 * @param upstreamHost    {@code upstream-vhost}: the {@code Host} sent upstream instead of the
 *                        client's ({@code X-Forwarded-Host} keeps the client's), or {@code null}
 * @param responseHeaders {@code custom-headers}: headers set on every response of the location
 *                        (values literal), sorted by name; empty without
 * @param redirectFrom    {@code proxy-redirect-from}: a {@code Location} or {@code Refresh} URL
 *                        starting with this text (case-sensitive) has it replaced by
 *                        {@link #redirectTo}; {@code null}: not rewritten
 * @param redirectTo      {@code proxy-redirect-to}, set whenever {@code redirectFrom} is
 * @param cookieDomainFrom {@code proxy-cookie-domain}'s first word: a {@code Set-Cookie} whose
 *                        {@code Domain} equals it (case-insensitive, a leading dot ignored) gets
 *                        {@link #cookieDomainTo}; {@code null}: not rewritten
 * @param cookieDomainTo  {@code proxy-cookie-domain}'s second word
 * @param cookiePathFrom  {@code proxy-cookie-path}'s first word: a {@code Set-Cookie} {@code Path}
 *                        starting with it (case-sensitive) has that part replaced by
 *                        {@link #cookiePathTo}; {@code null}: not rewritten
 * @param cookiePathTo    {@code proxy-cookie-path}'s second word
 */
public record HeaderRewrites(String upstreamHost, Map<String, String> responseHeaders, String redirectFrom,
        String redirectTo, String cookieDomainFrom, String cookieDomainTo, String cookiePathFrom,
        String cookiePathTo) {

    /** No changes. */
    public static final HeaderRewrites NONE = new HeaderRewrites(null, Map.of(), null, null, null, null, null, null);

    public HeaderRewrites {
        responseHeaders = Collections.unmodifiableMap(new TreeMap<>(responseHeaders));
        if ((redirectFrom == null) != (redirectTo == null)) {
            throw new IllegalArgumentException("proxy-redirect needs both from and to");
        }
        if ((cookieDomainFrom == null) != (cookieDomainTo == null)) {
            throw new IllegalArgumentException("proxy-cookie-domain needs both from and to");
        }
        if ((cookiePathFrom == null) != (cookiePathTo == null)) {
            throw new IllegalArgumentException("proxy-cookie-path needs both from and to");
        }
        if (cookieDomainFrom != null) {
            cookieDomainFrom = stripDot(cookieDomainFrom);
        }
    }

    /** Whether a response's {@code Location}, {@code Refresh} or {@code Set-Cookie} may change. */
    public boolean rewritesResponse() {
        return redirectFrom != null || cookieDomainFrom != null || cookiePathFrom != null;
    }

    /**
     * A {@code Location} value after {@code proxy-redirect}: the prefix {@link #redirectFrom}
     * replaced, else {@code value} itself.
     */
    public String location(String value) {
        if (redirectFrom == null || !value.startsWith(redirectFrom)) {
            return value;
        }
        return redirectTo + value.substring(redirectFrom.length());
    }

    /**
     * A {@code Refresh} value after {@code proxy-redirect}: the URL after {@code url=}
     * (case-insensitive) rewritten as {@link #location}, as NGINX does.
     */
    public String refresh(String value) {
        if (redirectFrom == null) {
            return value;
        }
        int url = value.toLowerCase(Locale.ROOT).indexOf("url=");
        if (url < 0) {
            return value;
        }
        int start = url + 4;
        return value.substring(0, start) + location(value.substring(start));
    }

    /** A {@code Set-Cookie} value after {@code proxy-cookie-domain} and {@code proxy-cookie-path}. */
    public String setCookie(String value) {
        if (cookieDomainFrom == null && cookiePathFrom == null) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 16);
        int from = 0;
        boolean first = true;
        while (from <= value.length()) {
            int semi = value.indexOf(';', from);
            int end = semi < 0 ? value.length() : semi;
            String part = value.substring(from, end);
            out.append(first ? part : rewriteAttribute(part));
            first = false;
            if (semi < 0) {
                break;
            }
            out.append(';');
            from = semi + 1;
        }
        return out.toString();
    }

    /** One {@code ;}-separated attribute of a cookie (with its leading blanks), rewritten if asked. */
    private String rewriteAttribute(String part) {
        int eq = part.indexOf('=');
        if (eq < 0) {
            return part;
        }
        String name = part.substring(0, eq).trim();
        String attrValue = part.substring(eq + 1);
        if (cookieDomainFrom != null && name.equalsIgnoreCase("domain")) {
            if (stripDot(attrValue.trim()).equalsIgnoreCase(cookieDomainFrom)) {
                return part.substring(0, eq + 1) + cookieDomainTo;
            }
        } else if (cookiePathFrom != null && name.equalsIgnoreCase("path")) {
            String path = attrValue.trim();
            if (path.startsWith(cookiePathFrom)) {
                return part.substring(0, eq + 1) + cookiePathTo + path.substring(cookiePathFrom.length());
            }
        }
        return part;
    }

    private static String stripDot(String domain) {
        return domain.startsWith(".") ? domain.substring(1) : domain;
    }

    /** These rewrites with another {@code upstream-vhost}. */
    public HeaderRewrites withUpstreamHost(String host) {
        return new HeaderRewrites(host, responseHeaders, redirectFrom, redirectTo, cookieDomainFrom, cookieDomainTo,
                cookiePathFrom, cookiePathTo);
    }
}
