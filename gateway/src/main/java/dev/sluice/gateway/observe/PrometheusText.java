package dev.sluice.gateway.observe;

import java.util.List;

/**
 * Makes a Micrometer scrape name ingress-nginx's counters as ingress-nginx does. Prometheus'
 * Java client writes every counter with a {@code _total} suffix; ingress-nginx's Go client writes
 * the name as declared, so its dashboards, alerts and Flagger's canary queries read
 * {@code nginx_ingress_controller_requests}, not {@code …_requests_total}. The text format allows
 * either: this rewrites the few ingress-nginx counters back to their names. Runs per scrape, off
 * the data plane.
 */
public final class PrometheusText {
    /** ingress-nginx's counters, which have no {@code _total} in their names. */
    static final List<String> COUNTERS = List.of(
            MetricsConfig.PREFIX + RequestMetrics.REQUESTS,
            MetricsConfig.PREFIX + ControllerMetrics.SUCCESS,
            MetricsConfig.PREFIX + ControllerMetrics.ERRORS);

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
        for (String counter : COUNTERS) {
            String suffixed = counter + "_total";
            if (line.startsWith(suffixed, nameAt)) {
                int after = nameAt + suffixed.length();
                char c = after < line.length() ? line.charAt(after) : '\n';
                if (c == '{' || c == ' ') {
                    return line.substring(0, nameAt) + counter + line.substring(after);
                }
            }
        }
        return line;
    }
}
