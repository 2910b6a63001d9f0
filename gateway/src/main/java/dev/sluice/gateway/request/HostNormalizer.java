package dev.sluice.gateway.request;

import java.util.Locale;

/**
 * The host of a request as NGINX compares it: the {@code Host} header lower-cased, without port
 * and trailing dot. {@code "Shop.Example.COM:8080"} → {@code "shop.example.com"},
 * {@code "example.com."} → {@code "example.com"}, {@code "[::1]:80"} → {@code "[::1]"}.
 */
public final class HostNormalizer {
    private HostNormalizer() {}

    /** Lower-case, without port and trailing dot; {@code ""} for a missing header. */
    public static String normalize(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return "";
        }
        String h = hostHeader.trim();
        int colon;
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            h = close > 0 ? h.substring(0, close + 1) : h;
        } else if ((colon = h.lastIndexOf(':')) >= 0 && h.indexOf(':') == colon) {
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.toLowerCase(Locale.ROOT);
    }
}
