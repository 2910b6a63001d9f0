package dev.sluice.gateway.observe;

import java.util.Map;

/**
 * Makes a Micrometer scrape name ingress-nginx's metrics as ingress-nginx does. Prometheus' Java
 * client writes every counter with a {@code _total} suffix and takes a gauge's {@code _info}
 * suffix off (it reserves it for its info type); ingress-nginx's Go client writes names as
 * declared, so its dashboards, alerts and Flagger's canary queries read
 * {@code nginx_ingress_controller_requests}, not {@code …_requests_total}, and
 * {@code …_build_info}. The text format allows either: this writes those few names back. Runs per
 * scrape, off the data plane.
 */
public final class PrometheusText {
    /** Name on Micrometer's wire → ingress-nginx's name. */
    static final Map<String, String> NAMES = Map.of(
            MetricsConfig.PREFIX + RequestMetrics.REQUESTS + "_total", MetricsConfig.PREFIX + RequestMetrics.REQUESTS,
            MetricsConfig.PREFIX + ControllerMetrics.SUCCESS + "_total", MetricsConfig.PREFIX + ControllerMetrics.SUCCESS,
            MetricsConfig.PREFIX + ControllerMetrics.ERRORS + "_total", MetricsConfig.PREFIX + ControllerMetrics.ERRORS,
            MetricsConfig.PREFIX + "build", MetricsConfig.PREFIX + ControllerMetrics.BUILD_INFO);

    private PrometheusText() {}

    /** {@code scrape} (Prometheus text format 0.0.4) with ingress-nginx's counter names. */
    public static String ingressNginxNames(String scrape) {
        StringBuilder out = new StringBuilder(scrape.length());
        int start = 0;
        while (start < scrape.length()) {
            int end = scrape.indexOf('\n', start);
            end = end < 0 ? scrape.length() : end + 1;
            out.append(rewrite(scrape, start, end));
            start = end;
        }
        return out.toString();
    }

    private static CharSequence rewrite(String text, int start, int end) {
        String line = text.substring(start, end);
        int nameAt = line.startsWith("# HELP ") || line.startsWith("# TYPE ") ? 7 : 0;
        if (!line.startsWith(MetricsConfig.PREFIX, nameAt)) {
            return line;
        }
        for (Map.Entry<String, String> e : NAMES.entrySet()) {
            String wire = e.getKey();
            if (line.startsWith(wire, nameAt)) {
                int after = nameAt + wire.length();
                char c = after < line.length() ? line.charAt(after) : '\n';
                if (c == '{' || c == ' ') {
                    return line.substring(0, nameAt) + e.getValue() + line.substring(after);
                }
            }
        }
        return line;
    }
}
