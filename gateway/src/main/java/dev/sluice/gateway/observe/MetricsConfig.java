package dev.sluice.gateway.observe;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What bounds the ingress-nginx request metrics: the constant labels that name this controller,
 * whether {@code host} is a label, status codes or classes, the histogram buckets and the metrics
 * left out. The flags and their defaults are ingress-nginx's ({@code --metrics-per-host},
 * {@code --report-status-classes}, {@code --time-buckets}, {@code --length-buckets},
 * {@code --size-buckets}, {@code --exclude-socket-metrics}).
 *
 * @param controllerClass     {@code controller_class} label (ingress-nginx passes its
 *                            {@code --controller-class}, {@code k8s.io/ingress-nginx} by default)
 * @param controllerNamespace {@code controller_namespace} label ({@code POD_NAMESPACE}, else
 *                            {@code default}, as ingress-nginx)
 * @param controllerPod       {@code controller_pod} label ({@code POD_NAME}, else empty)
 * @param perHost             {@code --metrics-per-host}: a {@code host} label on request metrics
 * @param statusClasses       {@code --report-status-classes}: {@code status} is {@code 2xx} …
 *                            instead of the code
 * @param timeBuckets         upper bounds of the duration histograms, seconds
 * @param lengthBuckets       upper bounds of {@code request_size} / {@code response_size}, bytes
 * @param sizeBuckets         upper bounds of {@code bytes_sent}, bytes
 * @param excluded            request metrics not recorded, by name without the
 *                            {@code nginx_ingress_controller_} prefix (e.g. {@code bytes_sent})
 * @param requestMetrics      {@code --enable-metrics}: whether the request metrics are recorded at
 *                            all; {@code false} skips them on the request path entirely
 */
public record MetricsConfig(String controllerClass, String controllerNamespace, String controllerPod,
        boolean perHost, boolean statusClasses, double[] timeBuckets, double[] lengthBuckets, double[] sizeBuckets,
        Set<String> excluded, boolean requestMetrics) {

    /** The prefix of every ingress-nginx metric. */
    public static final String PREFIX = "nginx_ingress_controller_";

    /** Prometheus' {@code DefBuckets}, ingress-nginx's {@code --time-buckets} default. */
    public static final double[] TIME_BUCKETS = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
    /** {@code LinearBuckets(10, 10, 10)}, ingress-nginx's {@code --length-buckets} default. */
    public static final double[] LENGTH_BUCKETS = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    /** {@code ExponentialBuckets(10, 10, 7)}, ingress-nginx's {@code --size-buckets} default. */
    public static final double[] SIZE_BUCKETS = {10, 100, 1000, 10000, 100000, 1e6, 1e7};

    /** The request metrics {@code --exclude-socket-metrics} may name. */
    public static final Set<String> REQUEST_METRICS = Set.of("requests", "request_duration_seconds",
            "response_duration_seconds", "header_duration_seconds", "connect_duration_seconds", "request_size",
            "response_size", "bytes_sent");

    /** ingress-nginx's defaults, with the Pod labels from the environment. */
    public static final MetricsConfig DEFAULTS = forController("k8s.io/ingress-nginx");

    public MetricsConfig {
        Objects.requireNonNull(controllerClass, "controllerClass");
        Objects.requireNonNull(controllerNamespace, "controllerNamespace");
        Objects.requireNonNull(controllerPod, "controllerPod");
        timeBuckets = buckets("time", timeBuckets);
        lengthBuckets = buckets("length", lengthBuckets);
        sizeBuckets = buckets("size", sizeBuckets);
        // ingress-nginx trims the prefix too, so both spellings of a name work
        excluded = excluded.stream()
                .map(m -> m.trim().toLowerCase(Locale.ROOT))
                .map(m -> m.startsWith(PREFIX) ? m.substring(PREFIX.length()) : m)
                .filter(m -> !m.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * ingress-nginx's defaults for {@code controllerClass}; namespace and Pod from
     * {@code POD_NAMESPACE} and {@code POD_NAME} as ingress-nginx reads them.
     */
    public static MetricsConfig forController(String controllerClass) {
        String ns = System.getenv("POD_NAMESPACE");
        String pod = System.getenv("POD_NAME");
        return new MetricsConfig(controllerClass, ns == null || ns.isEmpty() ? "default" : ns, pod == null ? "" : pod,
                true, false, TIME_BUCKETS, LENGTH_BUCKETS, SIZE_BUCKETS, Set.of(), true);
    }

    /** Whether request metric {@code name} (without prefix) is recorded. */
    public boolean records(String name) {
        return requestMetrics && !excluded.contains(name);
    }

    private static double[] buckets(String kind, double[] b) {
        Objects.requireNonNull(b, kind + " buckets");
        double[] sorted = b.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (!(sorted[i] > 0) || Double.isInfinite(sorted[i]) || (i > 0 && sorted[i] == sorted[i - 1])) {
                throw new IllegalArgumentException(kind + " buckets must be distinct positive numbers: "
                        + Arrays.toString(b));
            }
        }
        return sorted;
    }

    // arrays compare by content, so a config equals another with the same flags
    @Override
    public boolean equals(Object o) {
        return o instanceof MetricsConfig c && controllerClass.equals(c.controllerClass)
                && controllerNamespace.equals(c.controllerNamespace) && controllerPod.equals(c.controllerPod)
                && perHost == c.perHost && statusClasses == c.statusClasses
                && Arrays.equals(timeBuckets, c.timeBuckets) && Arrays.equals(lengthBuckets, c.lengthBuckets)
                && Arrays.equals(sizeBuckets, c.sizeBuckets) && excluded.equals(c.excluded)
                && requestMetrics == c.requestMetrics;
    }

    @Override
    public int hashCode() {
        return Objects.hash(controllerClass, controllerNamespace, controllerPod, perHost, statusClasses,
                Arrays.hashCode(timeBuckets), Arrays.hashCode(lengthBuckets), Arrays.hashCode(sizeBuckets), excluded,
                requestMetrics);
    }

    @Override
    public String toString() {
        return "MetricsConfig[class=" + controllerClass + ", namespace=" + controllerNamespace + ", pod="
                + controllerPod + ", perHost=" + perHost + ", statusClasses=" + statusClasses + ", time="
                + Arrays.toString(timeBuckets) + ", length=" + Arrays.toString(lengthBuckets) + ", size="
                + Arrays.toString(sizeBuckets) + ", excluded=" + excluded + ", requestMetrics=" + requestMetrics + "]";
    }
}
