package dev.sluice.gateway.route;

import java.util.Locale;
import java.util.Set;

/**
 * How proxied responses are compressed, from ingress-nginx's ConfigMap keys ({@code use-gzip},
 * {@code gzip-*}, {@code enable-brotli}, {@code brotli-*}); applies to the whole table.
 *
 * <p>A type list holds lower-case MIME types without parameters; {@code *} matches every type, and
 * {@code text/html} always matches, as in NGINX's {@code gzip_types} / {@code brotli_types}.
 *
 * @param gzip            {@code use-gzip} (default false)
 * @param gzipLevel       {@code gzip-level}, 1..9 (default 1)
 * @param gzipMinLength   {@code gzip-min-length} in bytes (default 256): compared with
 *                        {@code Content-Length} when the response has one
 * @param gzipTypes       {@code gzip-types}
 * @param brotli          {@code enable-brotli} (default false)
 * @param brotliLevel     {@code brotli-level}, 0..11 (default 4)
 * @param brotliMinLength {@code brotli-min-length} in bytes (default 20)
 * @param brotliTypes     {@code brotli-types}
 */
public record CompressionPolicy(
        boolean gzip,
        int gzipLevel,
        long gzipMinLength,
        Set<String> gzipTypes,
        boolean brotli,
        int brotliLevel,
        long brotliMinLength,
        Set<String> brotliTypes) {

    public static final int DEFAULT_GZIP_LEVEL = 1;
    public static final long DEFAULT_GZIP_MIN_LENGTH = 256;
    public static final int DEFAULT_BROTLI_LEVEL = 4;
    public static final long DEFAULT_BROTLI_MIN_LENGTH = 20;

    /** ingress-nginx's {@code gzip-types} default. */
    public static final Set<String> DEFAULT_GZIP_TYPES = Set.of(
            "application/atom+xml", "application/javascript", "application/x-javascript", "application/json",
            "application/rss+xml", "application/vnd.ms-fontobject", "application/x-font-ttf",
            "application/x-web-app-manifest+json", "application/xhtml+xml", "application/xml", "font/opentype",
            "image/svg+xml", "image/x-icon", "text/css", "text/javascript", "text/plain", "text/x-component");

    /** ingress-nginx's {@code brotli-types} default: the gzip list and {@code application/xml+rss}. */
    public static final Set<String> DEFAULT_BROTLI_TYPES = Set.of(
            "application/xml+rss", "application/atom+xml", "application/javascript", "application/x-javascript",
            "application/json", "application/rss+xml", "application/vnd.ms-fontobject", "application/x-font-ttf",
            "application/x-web-app-manifest+json", "application/xhtml+xml", "application/xml", "font/opentype",
            "image/svg+xml", "image/x-icon", "text/css", "text/javascript", "text/plain", "text/x-component");

    /** ingress-nginx's defaults: both codings off. */
    public static final CompressionPolicy OFF = new CompressionPolicy(false, DEFAULT_GZIP_LEVEL,
            DEFAULT_GZIP_MIN_LENGTH, DEFAULT_GZIP_TYPES, false, DEFAULT_BROTLI_LEVEL, DEFAULT_BROTLI_MIN_LENGTH,
            DEFAULT_BROTLI_TYPES);

    public CompressionPolicy {
        gzipTypes = Set.copyOf(gzipTypes);
        brotliTypes = Set.copyOf(brotliTypes);
        if (gzipLevel < 1 || gzipLevel > 9) {
            throw new IllegalArgumentException("gzipLevel must be 1..9: " + gzipLevel);
        }
        if (brotliLevel < 0 || brotliLevel > 11) {
            throw new IllegalArgumentException("brotliLevel must be 0..11: " + brotliLevel);
        }
        if (gzipMinLength < 0 || brotliMinLength < 0) {
            throw new IllegalArgumentException("minimum lengths must be >= 0");
        }
    }

    /** Whether any coding is on (otherwise responses pass untouched, without {@code Vary}). */
    public boolean enabled() {
        return gzip || brotli;
    }

    /** Whether gzip applies to a response of this {@code Content-Type} and length ({@code -1}: unknown). */
    public boolean gzipApplies(String contentType, long contentLength) {
        return gzip && (contentLength < 0 || contentLength >= gzipMinLength) && matches(gzipTypes, contentType);
    }

    /** Whether brotli applies to a response of this {@code Content-Type} and length ({@code -1}: unknown). */
    public boolean brotliApplies(String contentType, long contentLength) {
        return brotli && (contentLength < 0 || contentLength >= brotliMinLength) && matches(brotliTypes, contentType);
    }

    private static boolean matches(Set<String> types, String contentType) {
        if (contentType == null) {
            return false; // NGINX matches no type list against a response without Content-Type
        }
        if (types.contains("*")) {
            return true;
        }
        int semi = contentType.indexOf(';');
        String mime = (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
        return mime.equals("text/html") || types.contains(mime);
    }
}
