package dev.sluice.controller.sync;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.ConfigurationKey;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.Translation;
import dev.sluice.gateway.admin.RoutesJson;
import dev.sluice.gateway.observe.ControllerMetrics;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single thread that turns "something changed" into a published {@link RouteTable}.
 *
 * <p>Level-triggered, like ingress-nginx's sync loop and Traefik's throttled provider: sources
 * call {@link #markDirty()} for every event and never pass payloads; the loop takes a fresh
 * {@link ClusterState} snapshot, translates it as of the clock's current time, and publishes only
 * when the table differs from the live one. Every change, endpoint changes included, rebuilds the
 * whole table. Events that arrive during a rebuild mark the state dirty again, so nothing is lost,
 * and however many arrive they cost one more rebuild. A translation that throws never replaces the
 * live table.
 *
 * <p>Leading edge: the first event after a quiet spell is handled at once (no fixed wait on the
 * path from a change to traffic, and none before the first table, which /readyz waits for). After
 * a rebuild the next one waits, so a stream of changes cannot keep the sync thread translating
 * back to back; the events of that pause are coalesced into the next rebuild. The pause is
 * {@link #spacingNanos twice the last rebuild's time} from its start, at least a tenth of
 * {@code debounce} and at most {@code debounce}: a rebuild of 10,000 Ingresses (~50–100 ms) keeps
 * the next {@code debounce} (100 ms) away as before, while an endpoint refresh of ~10 ms lets the
 * next change through 20 ms later — the sync thread idles at least as long as it works either way.
 *
 * <p>A publish counts as a reload ({@code success}, {@code config_hash}) only when the table
 * without its endpoint addresses changed, as ingress-nginx applies endpoint changes to its Lua
 * balancers without a reload. When the translation says its configuration was computed from the
 * same inputs as the live table's ({@link Translation#configuration()}), the table is not rendered
 * and hashed again and the per-host and per-Ingress gauges are left as they are: after an
 * endpoint change the cost of a publish is the table's comparison and the balancer binding.
 *
 * <p>The translator logs nothing; this loop logs what it returns: new problems as warnings, new
 * notes at debug level (both only when they first appear, not at every rebuild).
 */
public final class SyncLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SyncLoop.class);

    private final Supplier<ClusterState> snapshot;
    private final BiFunction<ClusterState, Instant, Translation> translator;
    private final Clock clock;
    private final RouteTableHolder holder;
    private final Consumer<List<Problem>> problemSink;
    private final Duration debounce;
    private final Thread thread;
    private final Object lock = new Object();
    private boolean dirty; // guarded by lock
    private volatile boolean running = true;
    private Set<Problem> lastProblems = Set.of(); // sync thread only
    private Set<Problem> lastNotes = Set.of(); // sync thread only
    private boolean rebuiltOnce; // sync thread only
    private long lastRebuildStart; // sync thread only, in ticks of nanoTime
    private long lastRebuildNanos; // sync thread only: how long the last rebuild took
    private long lastConfigHash; // sync thread only: config hash of the live table, 0 before the first
    private ConfigurationKey lastConfiguration; // sync thread only: what the hashed table was computed from
    private final LongSupplier nanoTime;

    private final Counter rebuilds;
    private final Counter publishes;
    private final Counter failures;
    private final Timer rebuildTime;
    private final AtomicInteger problemCount = new AtomicInteger();
    private volatile ControllerMetrics controllerMetrics;

    /**
     * A loop that translates as of the system clock's time at each rebuild.
     *
     * @param snapshot    returns the current objects (called on the sync thread)
     * @param translator  pure function from objects and the time to table and problems
     * @param holder      where tables are published
     * @param problemSink receives the full problem list after every rebuild (e.g. to raise
     *                    Kubernetes Events); new problems are logged here already
     * @param debounce    the time between the starts of two rebuilds, when the first took half of it or
     *                    more; a tenth of it at the least ({@link #spacingNanos})
     * @param registry    metrics
     */
    public SyncLoop(Supplier<ClusterState> snapshot, BiFunction<ClusterState, Instant, Translation> translator,
            RouteTableHolder holder, Consumer<List<Problem>> problemSink, Duration debounce, MeterRegistry registry) {
        this(snapshot, translator, Clock.systemUTC(), holder, problemSink, debounce, registry);
    }

    /**
     * Like the other constructor, with the clock read once per rebuild and handed to the
     * translator (the translator itself never reads one).
     */
    public SyncLoop(Supplier<ClusterState> snapshot, BiFunction<ClusterState, Instant, Translation> translator,
            Clock clock, RouteTableHolder holder, Consumer<List<Problem>> problemSink, Duration debounce,
            MeterRegistry registry) {
        this(snapshot, translator, clock, holder, problemSink, debounce, registry, System::nanoTime);
    }

    /** Like the other constructors, with the ticker that spaces rebuilds {@code debounce} apart (for tests). */
    SyncLoop(Supplier<ClusterState> snapshot, BiFunction<ClusterState, Instant, Translation> translator,
            Clock clock, RouteTableHolder holder, Consumer<List<Problem>> problemSink, Duration debounce,
            MeterRegistry registry, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.snapshot = snapshot;
        this.translator = translator;
        this.clock = clock;
        this.holder = holder;
        this.problemSink = problemSink;
        this.debounce = debounce;
        this.rebuilds = Counter.builder("sluice_table_rebuilds").description("route table rebuilds").register(registry);
        this.publishes = Counter.builder("sluice_table_publishes").description("route tables published (changed)").register(registry);
        this.failures = Counter.builder("sluice_table_rebuild_failures")
                .description("rebuilds that failed; the last good table kept serving").register(registry);
        this.rebuildTime = Timer.builder("sluice_table_rebuild_duration").description("time to rebuild the table").register(registry);
        registry.gauge("sluice_config_problems", problemCount);
        this.thread = new Thread(this::run, "sluice-sync");
        this.thread.setDaemon(true);
    }

    /**
     * Reports publishes and failures as ingress-nginx's reload metrics ({@code config_hash},
     * {@code success}, {@code errors}, …); call before {@link #start()}.
     */
    public void reportTo(ControllerMetrics metrics) {
        this.controllerMetrics = metrics;
    }

    /** Starts the loop with one initial rebuild, which publishes the first table. */
    public void start() {
        markDirty();
        thread.start();
    }

    /** Records that some object changed; cheap, callable from any thread. */
    public void markDirty() {
        synchronized (lock) {
            dirty = true;
            lock.notifyAll();
        }
    }

    /** Number of rebuilds so far (for tests and the burst measurement). */
    public long rebuildCount() {
        return (long) rebuilds.count();
    }

    private void run() {
        while (running) {
            try {
                synchronized (lock) {
                    while (!dirty && running) {
                        lock.wait();
                    }
                }
                if (!running) {
                    return;
                }
                // leading edge: a change after a quiet spell (and the first table) is handled at once;
                // right after a rebuild, what arrives during the rest of the pause joins the next one
                if (rebuiltOnce) {
                    long wait = lastRebuildStart + spacingNanos(debounce.toNanos(), lastRebuildNanos)
                            - nanoTime.getAsLong();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
                synchronized (lock) {
                    dirty = false;
                }
                rebuiltOnce = true;
                lastRebuildStart = nanoTime.getAsLong();
                rebuildOrKeep();
                lastRebuildNanos = nanoTime.getAsLong() - lastRebuildStart;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The least time from the start of a rebuild that took {@code lastNanos} to the start of the
     * next: twice its duration, at least a tenth of {@code debounceNanos}, at most all of it.
     */
    static long spacingNanos(long debounceNanos, long lastNanos) {
        return Math.min(debounceNanos, Math.max(debounceNanos / 10, 2 * lastNanos));
    }

    /** {@link #rebuild()}; a failure is counted and logged, and the live table keeps serving. */
    void rebuildOrKeep() {
        try {
            rebuild();
        } catch (RuntimeException | Error e) {
            failures.increment();
            ControllerMetrics m = controllerMetrics;
            if (m != null) {
                m.failed(); // zeroes config_hash: the next publish must hash again
            }
            lastConfiguration = null;
            log.error("route table rebuild failed; the last good table keeps serving", e);
        }
    }

    /** Rebuilds and publishes synchronously on the caller's thread (used by the loop). */
    void rebuild() {
        rebuilds.increment();
        Translation t = rebuildTime.record(() -> translator.apply(snapshot.get(), clock.instant()));
        Set<Problem> problems = Set.copyOf(t.problems());
        for (Problem p : t.problems()) {
            if (!lastProblems.contains(p)) {
                log.warn("[{}/{}] {}: {}", p.namespace(), p.name(), p.kind(), p.message());
            }
        }
        lastProblems = problems;
        if (log.isDebugEnabled()) {
            for (Problem n : t.notes()) {
                if (!lastNotes.contains(n)) {
                    log.debug("[{}/{}] {}: {}", n.namespace(), n.name(), n.kind(), n.message());
                }
            }
            lastNotes = Set.copyOf(t.notes());
        } else {
            lastNotes = Set.of(); // turning debug on later logs every note once
        }
        problemCount.set(problems.size());
        ControllerMetrics m = controllerMetrics;
        RouteTable live = holder.current();
        if (!holder.isPublished() || t.table() != live && !t.table().equals(live)) {
            boolean sameConfiguration = t.configuration() != null && t.configuration().equals(lastConfiguration);
            holder.publish(t.table(), sameConfiguration);
            publishes.increment();
            if (m != null) {
                if (sameConfiguration) {
                    m.publishedEndpointsOnly(); // same configuration: same hash, same gauges
                } else {
                    long hash = configHash(t.table());
                    // an endpoint-only change is no reload (ingress-nginx: Lua, no new nginx.conf)
                    m.published(t.table(), hash, hash != lastConfigHash);
                    lastConfigHash = hash;
                }
            }
            lastConfiguration = t.configuration();
            if (sameConfiguration) {
                // endpoints only: as often as Pods come and go, so not at info (ingress-nginx: Lua, no reload line)
                log.debug("route table published with new endpoints (generation {})", holder.generation());
            } else {
                log.info("route table published: {} hosts, {} wildcard hosts (generation {})",
                        t.table().hosts().size(), t.table().wildcards().size(), holder.generation());
            }
        } else {
            if (m != null) {
                m.unchanged();
            }
            if (lastConfiguration != null) {
                lastConfiguration = t.configuration(); // an equal table has the live configuration
            }
        }
        problemSink.accept(t.problems());
    }

    /**
     * ingress-nginx's {@code config_hash}: the same for every replica serving the same table, so
     * the first 53 bits (exact in a Prometheus float) of a SHA-256 of the table's {@code /routes}
     * view, which is sorted and free of identities, without the endpoint addresses (which
     * ingress-nginx does not hash either).
     */
    static long configHash(RouteTable table) {
        ObjectNode view = RoutesJson.renderWithoutEndpoints(table);
        view.remove("generation");
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(RoutesJson.compactJson(view));
            return ByteBuffer.wrap(digest).getLong() >>> 11;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (lock) {
            lock.notifyAll();
        }
        thread.interrupt();
    }
}
