package dev.sluice.controller.cli;

import dev.sluice.controller.admission.AdmissionWebhookServer;
import dev.sluice.controller.admission.IngressReviewer;
import dev.sluice.controller.source.ClusterSource;
import dev.sluice.controller.source.KubernetesClients;
import dev.sluice.controller.source.ManifestSource;
import dev.sluice.controller.status.IngressEvents;
import dev.sluice.controller.status.StatusConfig;
import dev.sluice.controller.status.StatusUpdater;
import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressAnnotations;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.CertificateCache;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.controller.translate.GlobalSettings;
import dev.sluice.gateway.admin.AdminServer;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.ControllerMetrics;
import dev.sluice.gateway.observe.CoarseWallClock;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running process, wired from {@link SluiceOptions}:
 *
 * <pre>
 *  source (ManifestSource | ClusterSource) ──onChange──► SyncLoop ──publish──► RouteTableHolder
 *                                                          (IngressTranslator)        │
 *                                   GatewayServer (HTTP/HTTPS, TCP/UDP streams) ◄──────┤
 *                                              AdminServer (/healthz /readyz /metrics /routes)
 * </pre>
 *
 * <p>Cluster mode adds the leader-elected {@link StatusUpdater} (Ingress status; not with
 * {@code --update-status=false}), the {@code --sync-period} rebuilds, and
 * {@link IngressEvents} (translator problems as Kubernetes Events), and starts the sync loop only
 * once every informer has listed its objects, so the first table is built from complete caches;
 * {@code /readyz} waits for that too. Manifest files are read, and the first table built, on
 * other threads while the listeners start; {@link #start()} returns once every file has been
 * read, {@code /readyz} once the first table is published as well.
 *
 * <p>{@link Main} runs one until SIGTERM; tests run it inside the JVM with ports 0.
 */
public final class SluiceApp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SluiceApp.class);

    /**
     * The time between the starts of two rebuilds when the first took half of it or more; after a
     * quicker one (an endpoint refresh) twice its time, 10 ms at the least (SyncLoop). The first
     * change after a quiet spell is rebuilt at once; what arrives meanwhile is coalesced into the
     * next rebuild.
     */
    static final Duration SYNC_DEBOUNCE = Duration.ofMillis(100);
    /** How long a rebuild waits for the first list of a ConfigMap the global ConfigMap has just named. */
    static final Duration CONFIGMAP_LIST_WAIT = Duration.ofSeconds(5);

    /** The process cannot start; the message says why, for the user. */
    public static final class StartupException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }

        public StartupException(String message) {
            super(message);
        }
    }

    private final SluiceOptions options;
    private final PrintStream out;
    private final RouteTableHolder holder = new RouteTableHolder();
    private final CoarseWallClock meterClock = new CoarseWallClock(); // ticks between start() and close()
    private final PrometheusMeterRegistry registry =
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), meterClock);

    // written by start(), read by close() and the accessors (same thread in practice; volatile
    // because close() may run on the shutdown-hook thread)
    private volatile DemoMode demo;
    private volatile ManifestSource manifests;
    private volatile KubernetesClient client;
    private volatile ClusterSource cluster;
    private volatile StatusUpdater status;
    private volatile IngressEvents events;
    private volatile Thread clusterStarter;
    private volatile ScheduledExecutorService resync;
    private volatile boolean statusStarted;
    private volatile SyncLoop sync;
    private volatile GatewayServer gateway;
    private volatile AdminServer admin;
    private volatile AdmissionWebhookServer webhook;
    /** Manifest mode: every file has been read once (the sync loop is started after). */
    private volatile boolean manifestsRead;

    /**
     * @param options what to run
     * @param out     where {@code --demo} prints its instructions (the console)
     */
    public SluiceApp(SluiceOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public SluiceApp(SluiceOptions options) {
        this(options, System.out);
    }

    /**
     * Starts the source, the sync loop, the gateway and the admin server, and logs the bound
     * ports. The first table is published in the background; {@code /readyz} says when.
     *
     * @throws StartupException when something cannot start (call {@link #close()} then)
     */
    public void start() {
        meterClock.start();
        TranslatorConfig translatorConfig = options.translatorConfig();
        Supplier<ClusterState> snapshot;
        BooleanSupplier synced;
        Consumer<List<Problem>> problemSink = problems -> { }; // SyncLoop logs new problems itself
        switch (options.mode()) {
            case DEMO, MANIFESTS -> {
                List<Path> paths = new ArrayList<>();
                if (options.mode() == SluiceOptions.Mode.DEMO) {
                    try {
                        demo = DemoMode.start();
                    } catch (IOException e) {
                        throw new StartupException("cannot start the demo backends: " + e.getMessage(), e);
                    }
                    paths.addAll(demo.manifests());
                }
                paths.addAll(options.manifests());
                ManifestSource source = new ManifestSource(paths, this::markDirty);
                manifests = source;
                snapshot = source::snapshot;
                synced = () -> manifestsRead; // start() returns once it is true
                registry.gauge("sluice_manifest_file_problems", source, s -> s.fileProblems().size());
            }
            case CLUSTER -> {
                try {
                    client = KubernetesClients.create(
                            options.kubeconfig() == null ? null : options.kubeconfig().toString());
                } catch (RuntimeException e) {
                    throw new StartupException("cannot configure the Kubernetes client: " + e.getMessage(), e);
                }
                log.info("cluster mode: API server {}", client.getMasterUrl());
                List<String> watchedConfigMaps = new ArrayList<>(options.streamConfig().configMaps());
                if (options.configMap() != null) {
                    watchedConfigMaps.add(options.configMap());
                }
                ClusterSource source = new ClusterSource(client, options.watchNamespace(), watchedConfigMaps,
                        this::markDirty)
                        .watchReferencedConfigMaps(ing -> IngressAnnotations.customHeadersConfigMap(ing,
                                translatorConfig.annotationsPrefix()));
                cluster = source;
                String globalConfigMap = options.configMap();
                snapshot = () -> {
                    ClusterState state = source.snapshot();
                    // the ConfigMaps the global one names (add-headers, proxy-set-headers) are watched once
                    // named; the sync thread waits (bounded) for their first list rather than report them missing
                    if (source.watchConfigMaps(GlobalSettings.referencedConfigMaps(globalConfigMap,
                            state.configMaps()))) {
                        try {
                            source.awaitConfigMapsListed(CONFIGMAP_LIST_WAIT);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return state;
                        }
                        state = source.snapshot();
                    }
                    return state;
                };
                synced = source::hasSynced;
                StatusConfig statusConfig = StatusConfig.fromEnvironment(options.electionId(),
                        options.publishService(), options.publishStatusAddress(), options.updateStatusOnShutdown());
                if (options.updateStatus()) {
                    status = new StatusUpdater(client, statusConfig,
                            () -> IngressClassFilter.served(source.snapshot(), translatorConfig));
                } else {
                    // nothing else needs a leader: no Lease is taken either
                    log.info("--update-status=false: Ingress status is left alone");
                }
                events = new IngressEvents(client, source::snapshot, statusConfig.identity());
                IngressEvents ev = events;
                StatusUpdater st = status;
                problemSink = problems -> {
                    ev.accept(problems);
                    if (st != null) {
                        st.requestSync(); // served Ingresses may have changed
                    }
                };
            }
            default -> throw new IllegalStateException("unknown mode " + options.mode());
        }

        // the translator keeps parsed TLS Secrets between rebuilds in a cache of its own; the loop
        // hands it the time of each rebuild (certificate validity), the translator reads no clock
        sync = new SyncLoop(snapshot, new IngressTranslator(translatorConfig, new CertificateCache()), Clock.systemUTC(),
                holder, problemSink, SYNC_DEBOUNCE, registry);
        ControllerMetrics controllerMetrics = new ControllerMetrics(registry, options.metrics(), Clock.systemUTC(),
                release(), "unknown", "sluice");
        sync.reportTo(controllerMetrics);
        if (status != null) {
            controllerMetrics.leaderElection(options.electionId(), status::isLeader);
        }
        FutureTask<Void> manifestLoad = null;
        if (manifests != null) {
            // the files are read and the first table built while the listeners start (below);
            // start() still returns only once every file has been read
            ManifestSource m = manifests;
            SyncLoop s = sync;
            manifestLoad = new FutureTask<>(() -> {
                m.start();
                manifestsRead = true;
                s.start();
                return null;
            });
            Thread loader = new Thread(manifestLoad, "sluice-manifests-load");
            loader.setDaemon(true);
            loader.start();
        } else {
            cluster.start();
            startWhenSynced();
        }
        RuntimeException failure = null;
        try {
            startListeners(translatorConfig, snapshot, synced, controllerMetrics);
        } catch (RuntimeException e) {
            failure = e;
        }
        if (manifestLoad != null) {
            // also after a failure: close() must not race the loader
            RuntimeException loadFailure = awaitManifests(manifestLoad);
            failure = loadFailure != null ? loadFailure : failure;
        }
        if (failure != null) {
            throw failure;
        }

        log.info("sluice started ({} mode): HTTP port {}, HTTPS port {}, admin port {} on {}",
                options.mode().name().toLowerCase(java.util.Locale.ROOT), gateway.httpPort(), gateway.httpsPort(),
                admin.port(), options.bindAddress() == null ? "all interfaces" : options.bindAddress());
        if (demo != null) {
            demo.printInstructions(out, gateway.httpPort(), admin.port());
        }
    }

    /**
     * Waits for the first read of the manifest files; returns why it failed (the files cannot be
     * watched), or {@code null}.
     */
    private static RuntimeException awaitManifests(FutureTask<Void> load) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    load.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true; // the files are read in a moment; close() must not race that read
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                return new StartupException("cannot watch the manifests: " + io.getMessage(), io);
            }
            return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The gateway's listeners, then the admin server and the admission webhook. */
    private void startListeners(TranslatorConfig translatorConfig, Supplier<ClusterState> snapshot,
            BooleanSupplier synced, ControllerMetrics controllerMetrics) {
        GatewayServer.Builder builder = GatewayServer.builder()
                .routes(holder)
                .httpPort(options.httpPort())
                .httpsPort(options.httpsPort())
                .eventLoops(options.eventLoops())
                .proxyProtocol(options.proxyProtocol())
                .sslPassthrough(options.sslPassthrough())
                .h2c(options.h2c())
                .transport(options.transport())
                .maxConnections(options.maxConnections())
                .maxConnectionsPerAddress(options.maxConnectionsPerAddress())
                .meterRegistry(registry)
                .metricsConfig(options.metrics())
                .accessLog(accessLog(options.accessLog()));
        if (options.bindAddress() != null) {
            builder.bindAddress(options.bindAddress());
        }
        GatewayServer server = builder.build();
        try {
            server.start();
        } catch (IllegalStateException e) {
            // a failed start has released what it took; closing it again would fail
            throw new StartupException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while starting", e);
        }
        gateway = server;
        controllerMetrics.process(server.metrics()::activeConnections);

        admin = new AdminServer(options.bindAddress(), options.healthzPort(), holder, registry, synced);
        try {
            admin.start();
        } catch (IllegalStateException e) {
            throw new StartupException(e.getMessage(), e);
        }

        if (options.validatingWebhook() != null) {
            AdmissionWebhookServer w = new AdmissionWebhookServer(options.validatingWebhook(),
                    new IngressReviewer(translatorConfig), snapshot, synced, Clock.systemUTC());
            webhook = w;
            try {
                w.start();
            } catch (IllegalStateException e) {
                throw new StartupException(e.getMessage(), e);
            }
        }
    }

    /**
     * Cluster mode: the sync loop and the status writer start once every informer has listed its
     * objects; meanwhile the gateway serves the empty table and {@code /readyz} answers 503.
     */
    private void startWhenSynced() {
        Thread t = new Thread(() -> {
            try {
                while (!cluster.awaitSynced(Duration.ofSeconds(30))) {
                    log.warn("still waiting for the informer caches to sync (is the API server reachable?)");
                }
            } catch (InterruptedException e) {
                return; // closed before the caches synced
            }
            log.info("informer caches synced; building the first route table");
            sync.start();
            startResync();
            StatusUpdater st = status;
            if (st == null) {
                return;
            }
            try {
                st.start();
                statusStarted = true;
            } catch (RuntimeException e) {
                log.error("leader election cannot start; Ingress status will not be written", e);
            }
        }, "sluice-cluster-start");
        t.setDaemon(true);
        clusterStarter = t;
        t.start();
    }

    /**
     * {@code --sync-period}: ingress-nginx's informers replay their whole cache this often, and
     * every replayed object queues a full sync. Sluice's informers drop such unchanged updates, so
     * the same rebuild from the caches is asked for here instead.
     */
    private void startResync() {
        Duration period = options.syncPeriod();
        if (period.isZero()) {
            return;
        }
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-resync");
            t.setDaemon(true);
            return t;
        });
        s.scheduleAtFixedRate(this::markDirty, period.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS);
        resync = s;
        log.info("--sync-period {}: rebuilding the route table from the caches at least that often", period);
    }

    private void markDirty() {
        SyncLoop s = sync;
        if (s != null) {
            s.markDirty();
        }
    }

    private static AccessLog accessLog(String value) {
        return switch (value) {
            case "off" -> AccessLog.off();
            case "stdout" -> AccessLog.stdout();
            default -> {
                try {
                    yield AccessLog.file(Path.of(value));
                } catch (RuntimeException e) {
                    throw new StartupException("--access-log: " + e.getMessage(), e);
                }
            }
        };
    }

    /** The live route table. */
    public RouteTableHolder routes() {
        return holder;
    }

    /** {@code build_info}'s {@code release}: the jar's version. */
    private static String release() {
        String v = SluiceApp.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    /** The registry scraped on {@code /metrics}. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The bound HTTP port (after {@link #start()}). */
    public int httpPort() {
        return gateway.httpPort();
    }

    /** The open TCP and UDP stream ports and their bound port numbers (after {@link #start()}). */
    public java.util.Map<dev.sluice.gateway.stream.StreamService.Key, Integer> streamPorts() {
        return gateway.streamPorts();
    }

    /** The bound HTTPS port (after {@link #start()}). */
    public int httpsPort() {
        return gateway.httpsPort();
    }

    /** The bound admin port (after {@link #start()}). */
    public int adminPort() {
        return admin.port();
    }

    /** The bound port of the admission webhook (after {@link #start()}), -1 without one. */
    public int webhookPort() {
        AdmissionWebhookServer w = webhook;
        return w == null ? -1 : w.port();
    }

    /** Manifest parse problems ({@code file:line: message}); empty in cluster mode. */
    public List<String> fileProblems() {
        ManifestSource m = manifests;
        return m == null ? List.of() : m.fileProblems();
    }

    /**
     * Stops without losing a request: {@code /readyz} answers 503 at once so load balancers take
     * this replica out, while the listeners go on accepting and serving normally for {@code grace}
     * (the time it takes them to notice); then the listeners close, keep-alive connections end
     * after their current response, HTTP/2 connections get GOAWAY, and whatever is in flight
     * (requests, WebSockets, TCP streams) gets up to {@code timeout} to finish before everything
     * stops. Blocks the calling thread for all of it.
     */
    public void shutdown(Duration grace, Duration timeout) {
        AdminServer a = admin;
        if (a != null) {
            a.setDraining(true);
        }
        GatewayServer g = gateway;
        if (g != null) {
            if (!grace.isZero()) {
                try {
                    Thread.sleep(grace.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // cut short: drain at once
                }
            }
            g.shutdown(timeout);
        }
        close();
    }

    /** {@link #shutdown(Duration, Duration)} with no grace period: the listeners close at once. */
    public void shutdown(Duration timeout) {
        shutdown(Duration.ZERO, timeout);
    }

    /** Stops everything at once (in-flight requests are cut). Idempotent. */
    @Override
    public void close() {
        GatewayServer g = gateway;
        if (g != null) {
            g.close();
        }
        Thread starter = clusterStarter;
        if (starter != null) {
            starter.interrupt();
        }
        ScheduledExecutorService r = resync;
        if (r != null) {
            r.shutdownNow();
        }
        SyncLoop s = sync;
        if (s != null) {
            s.close();
        }
        StatusUpdater st = status;
        if (st != null && statusStarted) {
            // releases the lease and clears the Ingress status when this is the last replica; a
            // replica that never got past the informer sync has written nothing to clear
            st.close();
        }
        IngressEvents ev = events;
        if (ev != null) {
            ev.close();
        }
        ClusterSource c = cluster;
        if (c != null) {
            c.close();
        }
        KubernetesClient k = client;
        if (k != null) {
            k.close();
        }
        ManifestSource m = manifests;
        if (m != null) {
            m.close();
        }
        AdminServer a = admin;
        if (a != null) {
            a.close();
        }
        AdmissionWebhookServer w = webhook;
        if (w != null) {
            w.close();
        }
        DemoMode d = demo;
        if (d != null) {
            d.close();
        }
        meterClock.close();
    }
}
