package dev.sluice.controller.cli;

import dev.sluice.gateway.observe.MetricsConfig;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * ingress-nginx's metric flags, as a picocli mixin of {@link Main} so that they stay together:
 * they bound the number of series the request metrics can have (a {@code host} label or not,
 * status codes or classes, how many buckets, which metrics at all). Names, defaults and list
 * syntax (comma-separated) are ingress-nginx's.
 */
final class MetricsFlags {
    @Option(names = "--enable-metrics", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            paramLabel = "true|false",
            description = "Record the request metrics (nginx_ingress_controller_requests, the duration and size"
                    + " histograms); false skips them on the request path, /metrics keeps the controller's own"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean enabled = true;

    @Option(names = "--metrics-per-host", arity = "0..1", fallbackValue = "true", defaultValue = "true",
            paramLabel = "true|false",
            description = "Label request metrics with the matched host (default: ${DEFAULT-VALUE}).")
    boolean perHost = true;

    @Option(names = "--report-status-classes", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false",
            description = "Use status classes (2xx, 3xx, 4xx and 5xx) instead of status codes in metrics"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean statusClasses;

    @Option(names = "--time-buckets", split = ",", paramLabel = "S,S,…",
            description = "Buckets (seconds) of the duration histograms (default: .005,.01,.025,.05,.1,.25,.5,1,2.5,5,10).")
    List<Double> timeBuckets;

    @Option(names = "--length-buckets", split = ",", paramLabel = "N,N,…",
            description = "Buckets (bytes) of request_size and response_size (default: 10,20,…,100).")
    List<Double> lengthBuckets;

    @Option(names = "--size-buckets", split = ",", paramLabel = "N,N,…",
            description = "Buckets (bytes) of bytes_sent (default: 10,100,…,1e7).")
    List<Double> sizeBuckets;

    @Option(names = "--exclude-socket-metrics", split = ",", paramLabel = "NAME,…",
            description = "Request metrics not to record, with or without the nginx_ingress_controller_ prefix,"
                    + " e.g. bytes_sent,header_duration_seconds.")
    List<String> excluded;

    /**
     * The metric configuration for {@code controllerClass} (the {@code controller_class} label);
     * {@link IllegalArgumentException} for buckets that are not distinct positive numbers or an
     * excluded name that is not a request metric.
     */
    MetricsConfig config(String controllerClass) {
        MetricsConfig d = MetricsConfig.forController(controllerClass);
        MetricsConfig c = new MetricsConfig(d.controllerClass(), d.controllerNamespace(), d.controllerPod(), perHost,
                statusClasses, orDefault(timeBuckets, d.timeBuckets()), orDefault(lengthBuckets, d.lengthBuckets()),
                orDefault(sizeBuckets, d.sizeBuckets()), excluded == null ? Set.of() : Set.copyOf(excluded), enabled);
        for (String name : c.excluded()) {
            if (!MetricsConfig.REQUEST_METRICS.contains(name)) {
                throw new IllegalArgumentException("--exclude-socket-metrics: " + name + " is not one of "
                        + new java.util.TreeSet<>(MetricsConfig.REQUEST_METRICS));
            }
        }
        return c;
    }

    private static double[] orDefault(List<Double> given, double[] fallback) {
        return given == null || given.isEmpty() ? fallback : given.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
