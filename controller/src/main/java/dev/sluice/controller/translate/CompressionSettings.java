package dev.sluice.controller.translate;

import dev.sluice.gateway.route.CompressionPolicy;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The response compression settings of ingress-nginx's ConfigMap ({@code use-gzip},
 * {@code gzip-level}, {@code gzip-min-length}, {@code gzip-types}, {@code enable-brotli},
 * {@code brotli-level}, {@code brotli-min-length}, {@code brotli-types}) as a
 * {@link CompressionPolicy}, with a {@link Problem} for every value that cannot be read (that key
 * keeps its default, the others apply).
 *
 * @param policy   the policy to publish with the route table
 * @param problems one per bad value, about the ConfigMap
 */
public record CompressionSettings(CompressionPolicy policy, List<Problem> problems) {

    /** The ConfigMap keys read here. */
    public static final Set<String> KEYS = Set.of("use-gzip", "gzip-level", "gzip-min-length", "gzip-types",
            "enable-brotli", "brotli-level", "brotli-min-length", "brotli-types");

    public CompressionSettings {
        problems = List.copyOf(problems);
    }

    /**
     * Reads the compression keys of a ConfigMap's {@code data}; absent keys take ingress-nginx's
     * defaults.
     *
     * @param namespace the ConfigMap's namespace (for problems)
     * @param name      the ConfigMap's name (for problems)
     * @param data      the ConfigMap's {@code data}
     */
    public static CompressionSettings fromConfigMap(String namespace, String name, Map<String, String> data) {
        List<Problem> problems = new ArrayList<>();
        Reader r = new Reader(namespace, name, data, problems);
        CompressionPolicy off = CompressionPolicy.OFF;
        CompressionPolicy policy = new CompressionPolicy(
                r.bool("use-gzip", off.gzip()),
                r.integer("gzip-level", off.gzipLevel(), 1, 9),
                r.integer("gzip-min-length", (int) off.gzipMinLength(), 0, Integer.MAX_VALUE),
                r.types("gzip-types", off.gzipTypes()),
                r.bool("enable-brotli", off.brotli()),
                r.integer("brotli-level", off.brotliLevel(), 0, 11),
                r.integer("brotli-min-length", (int) off.brotliMinLength(), 0, Integer.MAX_VALUE),
                r.types("brotli-types", off.brotliTypes()));
        return new CompressionSettings(policy, problems);
    }

    private record Reader(String namespace, String name, Map<String, String> data, List<Problem> problems) {
        private String value(String key) {
            String v = data.get(key);
            return v == null || v.isBlank() ? null : v.trim();
        }

        private void invalid(String key, String v, String expected, Object fallback) {
            problems.add(new Problem("ConfigMap", namespace, name,
                    key + ": \"" + v + "\" is not " + expected + "; using the default " + fallback));
        }

        boolean bool(String key, boolean fallback) {
            String v = value(key);
            if (v == null) {
                return fallback;
            }
            Boolean b = AnnotationValues.bool(v);
            if (b == null) {
                invalid(key, v, "a boolean", fallback);
                return fallback;
            }
            return b;
        }

        int integer(String key, int fallback, int min, int max) {
            String v = value(key);
            if (v == null) {
                return fallback;
            }
            Integer n = AnnotationValues.integer(v, min);
            if (n == null || n > max) {
                invalid(key, v, max == Integer.MAX_VALUE ? "an integer >= " + min
                        : "an integer from " + min + " to " + max, fallback);
                return fallback;
            }
            return n;
        }

        /** A space-separated MIME type list, as NGINX's {@code gzip_types} reads it. */
        Set<String> types(String key, Set<String> fallback) {
            String v = value(key);
            if (v == null) {
                return fallback;
            }
            Set<String> types = new LinkedHashSet<>();
            for (String t : v.split("[\\s,]+")) {
                if (t.isEmpty()) {
                    continue;
                }
                String type = t.toLowerCase(Locale.ROOT);
                if (!type.equals("*") && !validType(type)) {
                    invalid(key, v, "a space-separated list of MIME types (" + t + ")", "list");
                    return fallback;
                }
                types.add(type);
            }
            return types;
        }

        private static boolean validType(String type) {
            int slash = type.indexOf('/');
            if (slash <= 0 || slash != type.lastIndexOf('/') || slash == type.length() - 1) {
                return false;
            }
            for (int i = 0; i < type.length(); i++) {
                char c = type.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "/.+-_*".indexOf(c) >= 0)) {
                    return false;
                }
            }
            return true;
        }
    }
}
