package dev.sluice.gateway.observe;

import io.micrometer.core.instrument.FunctionCounter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.TlsCertificate;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * ingress-nginx's controller metrics ({@code controller.go}'s collector), with "reload" read as
 * "route table publish": Sluice never reloads, a new table goes live with one reference swap.
 *
 * <ul>
 *   <li>{@code nginx_ingress_controller_config_hash}: a hash of the live table (of its
 *       {@code /routes} view, so replicas serving the same table show the same hash); 0 after a
 *       failed rebuild, as ingress-nginx after a failed reload</li>
 *   <li>{@code …_config_last_reload_successful}: 1 when the last rebuild produced a table (published
 *       or equal to the live one), 0 when it failed</li>
 *   <li>{@code …_config_last_reload_successful_timestamp_seconds}: when the last table was
 *       published</li>
 *   <li>{@code …_success} / {@code …_errors} (counters): tables published / rebuilds that
 *       failed</li>
 *   <li>{@code …_ssl_expire_time_seconds}: {@code notAfter} of each host's certificate, labels
 *       {@code namespace} and {@code secret_name} (the Secret), {@code class}, {@code host},
 *       {@code identifier}</li>
 *   <li>{@code …_orphan_ingress}: per Ingress and {@code type} ({@code no-service},
 *       {@code no-endpoint}), 1 when one of its locations has that problem, else 0</li>
 *   <li>{@code …_leader_election_status}: 1 leader, 0 follower, label {@code name} (the Lease)</li>
 *   <li>{@code …_build_info}: constant 1 with {@code release}, {@code build}, {@code repository}</li>
 * </ul>
 *
 * <p>All are written by the sync thread (or read from a supplier at scrape time); none is on the
 * data plane.
 */
public final class ControllerMetrics {
    static final String SUCCESS = "success";
    static final String ERRORS = "errors";
    static final String BUILD_INFO = "build_info";

    private final MeterRegistry registry;
    private final MetricsConfig config;
    private final Clock clock;
    private final Tags constant;
    private final AtomicLong configHash = new AtomicLong();
    private final AtomicLong lastReloadSuccessful = new AtomicLong();
    private final AtomicLong lastReloadTimestamp = new AtomicLong();
    private final Counter success;
    private final Counter errors;
    private final MultiGauge sslExpireTime;
    private final MultiGauge orphanIngress;
    /** The rows last registered (sync thread only): an unchanged set is not registered again. */
    private Map<Tags, Number> sslRowsShown = Map.of();
    private Map<Tags, Number> orphanRowsShown = Map.of();
    /** Certificates already parsed, by PEM; replaced by each publish's set. */
    private Map<String, CertificateInfo> parsed = Map.of();

    /**
     * @param release    {@code release} label of {@code build_info} (the jar's version)
     * @param build      {@code build} label (the commit, when known)
     * @param repository {@code repository} label
     */
    public ControllerMetrics(MeterRegistry registry, MetricsConfig config, Clock clock, String release, String build,
            String repository) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.constant = Tags.of("controller_class", config.controllerClass(),
                "controller_namespace", config.controllerNamespace(), "controller_pod", config.controllerPod());
        String p = MetricsConfig.PREFIX;
        Gauge.builder(p + BUILD_INFO, () -> 1)
                .description("A metric with a constant '1' labeled with information about the build.")
                .tags(constant).tags("release", release, "build", build, "repository", repository)
                .register(registry);
        Gauge.builder(p + "config_hash", configHash, AtomicLong::get)
                .description("Running configuration hash actually running").tags(constant).register(registry);
        Gauge.builder(p + "config_last_reload_successful", lastReloadSuccessful, AtomicLong::get)
                .description("Whether the last configuration reload attempt was successful")
                .tags(constant).register(registry);
        Gauge.builder(p + "config_last_reload_successful_timestamp_seconds", lastReloadTimestamp, AtomicLong::get)
                .description("Timestamp of the last successful configuration reload.").tags(constant)
                .register(registry);
        success = Counter.builder(p + SUCCESS).description("Cumulative number of Ingress controller reload operations")
                .tags(constant).register(registry);
        errors = Counter.builder(p + ERRORS)
                .description("Cumulative number of Ingress controller errors during reload operations")
                .tags(constant).register(registry);
        sslExpireTime = MultiGauge.builder(p + "ssl_expire_time_seconds")
                .description("Number of seconds since 1970 to the SSL Certificate expire. An example to check if this"
                        + " certificate will expire in 10 days is: \"nginx_ingress_controller_ssl_expire_time_seconds"
                        + " < (time() + (10 * 24 * 3600))\"")
                .register(registry);
        orphanIngress = MultiGauge.builder(p + "orphan_ingress")
                .description("Gauge reporting status of ingress orphanity, 1 indicates orphaned ingress. 'namespace'"
                        + " is the string used to identify namespace of ingress, 'ingress' for ingress name and"
                        + " 'type' for 'no-service' or 'no-endpoint' of orphanity")
                .register(registry);
    }

    /**
     * {@code leader_election_status} for Lease {@code electionId}, read from {@code leader} at each
     * scrape. Not registered without leader election (manifest mode), as ingress-nginx has no
     * series before its first election callback.
     */
    public void leaderElection(String electionId, BooleanSupplier leader) {
        Gauge.builder(MetricsConfig.PREFIX + "leader_election_status", () -> leader.getAsBoolean() ? 1 : 0)
                .description("Gauge reporting status of the leader election, 0 indicates follower, 1 indicates"
                        + " leader. 'name' is the string used to identify the lease")
                .tags(constant).tag("name", electionId)
                .register(registry);
    }

    /**
     * The process metrics of ingress-nginx's NGINX collectors that dashboards read, for Sluice's
     * own process (there is no NGINX): {@code nginx_process_connections{state="active"}} (open
     * client connections), {@code nginx_process_resident_memory_bytes} and
     * {@code nginx_process_cpu_seconds_total}, with the {@code controller_*} labels. Read at each
     * scrape.
     */
    public void process(LongSupplier activeConnections) {
        String p = MetricsConfig.PREFIX + "nginx_process_";
        Gauge.builder(p + "connections", activeConnections::getAsLong)
                .description("current number of client connections with state {active, reading, writing, waiting}"
                        + " (Sluice: active only, its open client connections)")
                .tags(constant).tag("state", "active").register(registry);
        Gauge.builder(p + "resident_memory_bytes", ControllerMetrics::residentMemoryBytes)
                .description("number of bytes of memory in use (the Sluice process)")
                .tags(constant).register(registry);
        // the management bean is looked up when scraped: its JMX classes would cost start-up CPU
        FunctionCounter.builder(p + "cpu_seconds", this, m -> processCpuSeconds())
                .description("Cpu usage in seconds (the Sluice process)")
                .tags(constant).register(registry);
    }

    /** The CPU time of the whole process in seconds; NaN on a JVM that does not say. */
    private static double processCpuSeconds() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun
                ? sun.getProcessCpuTime() / 1e9 : Double.NaN;
    }

    /** {@code VmRSS} of {@code /proc/self/status} (Linux), else the JVM's heap and non-heap in use. */
    private static double residentMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        var memory = ManagementFactory.getMemoryMXBean();
        return memory.getHeapMemoryUsage().getUsed() + memory.getNonHeapMemoryUsage().getUsed();
    }

    /** A rebuild published {@code table}, whose {@code /routes} view hashes to {@code hash}: a reload. */
    public void published(RouteTable table, long hash) {
        published(table, hash, true);
    }

    /**
     * A rebuild published {@code table}, whose configuration hashes to {@code hash}; a
     * {@code reload} (counted in {@code success}, timestamped) only when that configuration
     * changed, not when only endpoints did. The per-host and per-Ingress gauges follow every publish.
     */
    public void published(RouteTable table, long hash, boolean reload) {
        if (reload) {
            success.increment();
            lastReloadTimestamp.set(clock.instant().getEpochSecond());
        }
        configHash.set(hash);
        lastReloadSuccessful.set(1);
        // re-registering a MultiGauge replaces every row (tens of thousands at 10,000 Ingresses):
        // only when some row changed
        Map<Tags, Number> ssl = sslRows(table);
        if (!ssl.equals(sslRowsShown)) {
            sslExpireTime.register(rows(ssl), true);
            sslRowsShown = ssl;
        }
        Map<Tags, Number> orphan = orphanRows(table);
        if (!orphan.equals(orphanRowsShown)) {
            orphanIngress.register(rows(orphan), true);
            orphanRowsShown = orphan;
        }
    }

    private static List<MultiGauge.Row<?>> rows(Map<Tags, Number> values) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>(values.size());
        values.forEach((tags, value) -> rows.add(MultiGauge.Row.of(tags, value)));
        return rows;
    }

    /**
     * A rebuild published a table whose configuration is the live one's and only endpoint
     * addresses changed (the caller knows it without hashing): no reload, and the hash and the
     * per-host and per-Ingress gauges stay as they are.
     */
    public void publishedEndpointsOnly() {
        lastReloadSuccessful.set(1);
    }

    /** A rebuild produced a table equal to the live one: nothing published, but it worked. */
    public void unchanged() {
        lastReloadSuccessful.set(1);
    }

    /** A rebuild failed; the last good table keeps serving. */
    public void failed() {
        errors.increment();
        lastReloadSuccessful.set(0);
        configHash.set(0);
    }

    private Map<Tags, Number> sslRows(RouteTable table) {
        Map<String, CertificateInfo> now = new HashMap<>();
        Map<Tags, Number> rows = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, TlsCertificate> e : new TreeMap<>(table.tls().byHost()).entrySet()) {
            TlsCertificate c = e.getValue();
            CertificateInfo info = now.computeIfAbsent(c.certificatePem(), pem -> {
                CertificateInfo known = parsed.get(pem);
                return known != null ? known : CertificateInfo.parse(pem);
            });
            if (info == null) {
                continue; // the controller validated it; a certificate Java cannot read has no expiry to show
            }
            String secret = c.secret();
            int slash = secret.indexOf('/');
            rows.put(Tags.of("namespace", slash < 0 ? "" : secret.substring(0, slash),
                    "class", config.controllerClass(), "host", e.getKey(), "secret_name", secret.substring(slash + 1),
                    "identifier", info.identifier), info.notAfterSeconds);
        }
        parsed = now;
        return rows;
    }

    private Map<Tags, Number> orphanRows(RouteTable table) {
        // per Ingress: [no-service, no-endpoint]
        Map<String, boolean[]> byIngress = new TreeMap<>();
        List<HostRoutes> hosts = new ArrayList<>(table.hosts().values());
        hosts.addAll(table.wildcards().values());
        hosts.add(table.catchAll());
        for (HostRoutes h : hosts) {
            for (Route r : h.routes()) {
                TrafficSplit split = r.split();
                if (Route.BUILT_IN.equals(r.source()) || split == null) {
                    continue;
                }
                boolean[] flags = byIngress.computeIfAbsent(r.source(), s -> new boolean[2]);
                Backend b = split.mainline().backend();
                if (b.problem() != null) {
                    flags[0] = true; // Service missing, or not one Sluice can route to
                } else if (!b.hasEndpoints()) {
                    flags[1] = true;
                }
            }
        }
        Map<Tags, Number> rows = new java.util.LinkedHashMap<>();
        byIngress.forEach((source, flags) -> {
            int slash = source.indexOf('/');
            Tags t = constant.and("namespace", source.substring(0, Math.max(slash, 0)),
                    "ingress", source.substring(slash + 1));
            rows.put(t.and("type", "no-service"), flags[0] ? 1 : 0);
            rows.put(t.and("type", "no-endpoint"), flags[1] ? 1 : 0);
        });
        return rows;
    }

    /** What the metrics need of a certificate, parsed once per PEM. */
    private record CertificateInfo(long notAfterSeconds, String identifier) {
        static CertificateInfo parse(String pem) {
            try {
                X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
                // ingress-nginx: "<issuer's serialNumber attribute>-<serial>"; the attribute is
                // almost always absent, which leaves "-<serial>"
                return new CertificateInfo(leaf.getNotAfter().toInstant().getEpochSecond(),
                        "-" + leaf.getSerialNumber());
            } catch (CertificateException | RuntimeException e) {
                return null;
            }
        }
    }
}
