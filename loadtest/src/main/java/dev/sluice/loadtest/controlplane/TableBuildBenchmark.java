package dev.sluice.loadtest.controlplane;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Translation;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.controller.translate.ConfigurationKey;
import dev.sluice.gateway.observe.MetricsConfig;
import dev.sluice.gateway.observe.ProxyMetrics;
import dev.sluice.gateway.observe.RequestMetrics;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Control-plane table build at scale: {@link IngressFleet} (10,000 Ingresses by default) translated
 * by the real {@link IngressTranslator}, then published to a {@link RouteTableHolder} (which binds
 * the balancers; no TLS-context or metrics listeners are registered, unlike in a running Sluice), as
 * the sync loop does at every rebuild. Reports median, p99 and worst of the
 * translation alone and of translate + publish, in CPU time of this thread
 * ({@code ThreadMXBean.getCurrentThreadCpuTime}, not disturbed by other processes on a loaded
 * machine) and in wall time, after warm-up rounds.
 *
 * <p>With {@code --change endpoints} every round first replaces one EndpointSlice (a different one
 * each round, one Pod address changed) by a new object, as an informer or the manifest watcher
 * hands over a changed slice, so a translator that reuses per-object work between rebuilds is
 * measured on the rebuild an endpoint change causes (an endpoint refresh since round 10); with
 * {@code --change ingress} one Ingress is replaced by an equal copy, which makes every round a full
 * translation (reusing the per-object work of the unchanged Ingresses); without either
 * ({@code none}) every round translates the very same objects.
 *
 * <p>With {@code --metrics on} the publish also runs what a running Sluice registers for its request
 * metrics (the event loops' caches start over at every table; the series of dropped locations are
 * removed when the configuration may have changed), over one series per location recorded before
 * the measured rounds, and the holder is told, as the sync loop tells it, whether only endpoint
 * addresses changed ({@code --metrics always-retain}: never told, as before that hint existed).
 *
 * <pre>{@code
 * mvn -q -o -pl loadtest -am -DskipTests package
 * java -Xmx2g -cp controller/target/sluice.jar:loadtest/target/classes \
 *     dev.sluice.loadtest.controlplane.TableBuildBenchmark [--ingresses 10000] [--warmup 20] [--rounds 50] \
 *     [--change none|endpoints|ingress] [--metrics off|on|always-retain]
 * }</pre>
 */
public final class TableBuildBenchmark {
    private TableBuildBenchmark() {}

    public static void main(String[] args) throws Exception {
        int count = 10_000;
        int warmup = 20;
        int rounds = 50;
        String change = "none";
        String metrics = "off";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ingresses" -> count = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--change" -> {
                    change = args[++i];
                    if (!List.of("none", "endpoints", "ingress").contains(change)) {
                        throw new IllegalArgumentException("--change none|endpoints|ingress, not " + change);
                    }
                }
                case "--metrics" -> metrics = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        ClusterState state = IngressFleet.build(count);
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        Instant now = Instant.now();
        Translation first = translator.translate(state, now);
        System.out.printf("fleet: %d Ingresses (%d with canaries), %d Services, %d EndpointSlices, %d Secrets -> "
                        + "%d hosts, %d problems%n",
                count, state.ingresses().size(), state.services().size(), state.endpointSlices().size(),
                state.secrets().size(), first.table().hosts().size(), first.problems().size());
        first.problems().stream().limit(5).forEach(p -> System.out.println("  problem: " + p));

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        RouteTableHolder holder = new RouteTableHolder();
        boolean hint = metrics.equals("on");
        if (!metrics.equals("off")) {
            if (!hint && !metrics.equals("always-retain")) {
                throw new IllegalArgumentException("--metrics off|on|always-retain, not " + metrics);
            }
            RequestMetrics requests = new ProxyMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                    MetricsConfig.DEFAULTS).requests();
            holder.beforePublish(table -> requests.tableReplaced());
            holder.beforeConfigurationChange(requests::retain);
            holder.publish(first.table());
            int series = recordOnePerLocation(requests, first.table());
            System.out.printf("request metrics: one request recorded on each of %d locations%n", series);
        }
        ConfigurationKey live = first.configuration();
        long[] translateCpu = new long[rounds];
        long[] translateWall = new long[rounds];
        long[] totalCpu = new long[rounds];
        long[] totalWall = new long[rounds];
        List<EndpointSlice> slices = new ArrayList<>(state.endpointSlices());
        for (int r = -warmup; r < rounds; r++) {
            if (change.equals("endpoints")) {
                state = withChangedSlice(state, slices, r + warmup);
            } else if (change.equals("ingress")) {
                state = withIngressCopied(state, r + warmup);
            }
            long cpu0 = threads.getCurrentThreadCpuTime();
            long wall0 = System.nanoTime();
            Translation t = translator.translate(state, now);
            long cpu1 = threads.getCurrentThreadCpuTime();
            long wall1 = System.nanoTime();
            holder.publish(t.table(), hint && t.configuration() != null && t.configuration().equals(live));
            live = t.configuration();
            long cpu2 = threads.getCurrentThreadCpuTime();
            long wall2 = System.nanoTime();
            if (r >= 0) {
                translateCpu[r] = cpu1 - cpu0;
                translateWall[r] = wall1 - wall0;
                totalCpu[r] = cpu2 - cpu0;
                totalWall[r] = wall2 - wall0;
            }
        }
        System.out.println((change.equals("endpoints") ? "every round after one EndpointSlice changed"
                : change.equals("ingress") ? "every round after one Ingress was replaced (a full translation)"
                : "every round on the same objects") + ", request metrics " + metrics);
        double[] load = loadAverage();
        System.out.printf("load average %.2f %.2f %.2f, %d CPUs, %s%n", load[0], load[1], load[2],
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        print("translate            ", translateCpu, translateWall);
        print("translate + publish  ", totalCpu, totalWall);
    }

    private static int recordOnePerLocation(RequestMetrics requests, RouteTable table) {
        int n = 0;
        for (HostRoutes h : table.hosts().values()) {
            for (Route r : h.routes()) {
                requests.record(r, h.host(), "", "GET", 200, 1_000_000, 100, 200, 0, 500_000, 900_000);
                n++;
            }
        }
        return n;
    }

    /** {@code state} with slice number {@code round} (modulo their count) replaced: its first Pod has a new address. */
    private static ClusterState withChangedSlice(ClusterState state, List<EndpointSlice> slices, int round) {
        int k = round % slices.size();
        EndpointSlice old = slices.get(k);
        List<String> ips = new ArrayList<>();
        old.getEndpoints().forEach(e -> ips.addAll(e.getAddresses()));
        ips.set(0, "10.200." + ((round >> 8) & 0xff) + "." + (round & 0xff));
        slices.set(k, IngressFleet.slice(old.getMetadata().getNamespace(), old.getMetadata().getName(),
                old.getMetadata().getLabels().get("kubernetes.io/service-name"), old.getPorts().get(0).getPort(), ips));
        return new ClusterState(state.ingresses(), state.ingressClasses(), state.services(), slices, state.endpoints(),
                state.secrets(), state.configMaps());
    }

    /** {@code state} with Ingress number {@code round} (modulo their count) replaced by an equal copy, as an edit hands over a new object. */
    private static ClusterState withIngressCopied(ClusterState state, int round) {
        List<io.fabric8.kubernetes.api.model.networking.v1.Ingress> ingresses = new ArrayList<>(state.ingresses());
        int k = round % ingresses.size();
        ingresses.set(k, ingresses.get(k).toBuilder().build());
        return new ClusterState(ingresses, state.ingressClasses(), state.services(), state.endpointSlices(),
                state.endpoints(), state.secrets(), state.configMaps());
    }

    private static void print(String what, long[] cpu, long[] wall) {
        System.out.printf("%s CPU ms: median %.1f p99 %.1f max %.1f | wall ms: median %.1f p99 %.1f max %.1f (%d rounds)%n",
                what, ms(cpu, 0.5), ms(cpu, 0.99), ms(cpu, 1.0), ms(wall, 0.5), ms(wall, 0.99), ms(wall, 1.0), cpu.length);
    }

    private static double ms(long[] nanos, double quantile) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    static double[] loadAverage() throws java.io.IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
    }
}
