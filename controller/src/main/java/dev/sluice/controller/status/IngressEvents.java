package dev.sluice.controller.status;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.Problem;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the translator's problems into Kubernetes Events on the objects concerned, so that
 * {@code kubectl describe ingress NAME} says what is wrong (invalid regex, missing Service, unknown
 * annotation value):
 *
 * <pre>
 * Events:
 *   Type     Reason               From    Message
 *   Warning  SluiceConfigProblem  sluice  service default/web not found
 * </pre>
 *
 * <p>Give it to the sync loop as its problem sink; it receives the full problem list after every
 * rebuild. Only problems that are new since the previous rebuild become Events (a problem that goes
 * away and comes back is new again; so is one on a re-created object). Event creation runs on a
 * thread of its own behind a bounded queue, and a token bucket limits how many are created (a
 * burst of {@code burst}, then {@code perMinute} a minute) — the sync thread never waits for the
 * API server, and a cluster full of broken Ingresses cannot flood it.
 */
public final class IngressEvents implements Consumer<List<Problem>>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IngressEvents.class);

    /** The Event reason of every problem Sluice reports. */
    public static final String REASON = "SluiceConfigProblem";
    /** {@code source.component} / {@code reportingComponent} of Sluice's Events. */
    public static final String COMPONENT = "sluice";
    private static final int MAX_MESSAGE = 1024; // the API server's limit for Event messages

    private final KubernetesClient client;
    private final Supplier<ClusterState> objects;
    private final String instance;
    private final Clock clock;
    private final int burst;
    private final double perMilli;
    private final ThreadPoolExecutor executor;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sequence = new AtomicLong();

    // sync thread only
    private Set<Key> active = Set.of();
    private double tokens;
    private long lastRefill;

    /** A problem on one incarnation of an object. */
    private record Key(Problem problem, String uid) {}

    /**
     * @param client    the API client
     * @param objects   the current objects (for the uid and resourceVersion of the object concerned),
     *                  e.g. {@code source::snapshot}
     * @param instance  this replica's name ({@code reportingInstance})
     * @param burst     events that may be created at once
     * @param perMinute sustained events per minute after the burst
     * @param clock     time source for the token bucket and the Event timestamps
     */
    public IngressEvents(KubernetesClient client, Supplier<ClusterState> objects, String instance,
            int burst, int perMinute, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.objects = Objects.requireNonNull(objects, "objects");
        this.instance = Objects.requireNonNull(instance, "instance");
        this.clock = clock;
        this.burst = burst;
        this.perMilli = perMinute / 60_000.0;
        this.tokens = burst;
        this.lastRefill = clock.millis();
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(burst),
                r -> {
                    Thread t = new Thread(r, "sluice-events");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Defaults: a burst of 25 Events, then 60 a minute. */
    public IngressEvents(KubernetesClient client, Supplier<ClusterState> objects, String instance) {
        this(client, objects, instance, 25, 60, Clock.systemUTC());
    }

    /** Reports the problems of one rebuild (see the class comment). Never blocks for long. */
    @Override
    public void accept(List<Problem> problems) {
        if (problems.isEmpty() && active.isEmpty()) {
            return;
        }
        ClusterState state = objects.get();
        Set<Key> now = new HashSet<>();
        for (Problem p : problems) {
            HasMetadata obj = find(state, p);
            Key key = new Key(p, obj == null ? null : obj.getMetadata().getUid());
            now.add(key);
            if (!active.contains(key)) {
                emit(p, obj);
            }
        }
        active = now;
    }

    /** Events not created because of the rate limit or a full queue. */
    public long droppedCount() {
        return dropped.get();
    }

    private void emit(Problem p, HasMetadata obj) {
        if (!takeToken()) {
            dropped.incrementAndGet();
            log.debug("[{}/{}] event rate limit reached; not creating an Event for: {}", p.namespace(), p.name(), p.message());
            return;
        }
        Event event = toEvent(p, obj);
        try {
            executor.execute(() -> create(event));
        } catch (RejectedExecutionException e) {
            dropped.incrementAndGet();
        }
    }

    private boolean takeToken() {
        long now = clock.millis();
        tokens = Math.min(burst, tokens + (now - lastRefill) * perMilli);
        lastRefill = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    private void create(Event event) {
        try {
            client.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
        } catch (KubernetesClientException e) {
            log.warn("[{}/{}] cannot create Event: {}", event.getInvolvedObject().getNamespace(),
                    event.getInvolvedObject().getName(), e.getMessage());
        }
    }

    private Event toEvent(Problem p, HasMetadata obj) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        ObjectReference ref = new ObjectReferenceBuilder()
                .withKind(p.kind())
                .withApiVersion(obj != null ? obj.getApiVersion() : apiVersion(p.kind()))
                .withNamespace(clusterScoped(p.kind()) ? null : p.namespace())
                .withName(p.name())
                .withUid(obj == null ? null : obj.getMetadata().getUid())
                .withResourceVersion(obj == null ? null : obj.getMetadata().getResourceVersion())
                .build();
        String eventNamespace = clusterScoped(p.kind()) || p.namespace().isEmpty() ? "default" : p.namespace();
        String message = p.message().length() > MAX_MESSAGE ? p.message().substring(0, MAX_MESSAGE - 3) + "..." : p.message();
        return new EventBuilder()
                .withNewMetadata()
                // as client-go names Events: object name, a dot, a unique hex suffix
                .withName(p.name() + "." + Long.toHexString(epochNanos() + sequence.getAndIncrement()))
                .withNamespace(eventNamespace)
                .endMetadata()
                .withInvolvedObject(ref)
                .withType("Warning")
                .withReason(REASON)
                .withMessage(message)
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent(COMPONENT)
                .withReportingInstance(instance)
                .withFirstTimestamp(now.toString())
                .withLastTimestamp(now.toString())
                .withCount(1)
                .build();
    }

    private long epochNanos() {
        Instant t = clock.instant();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    private static HasMetadata find(ClusterState state, Problem p) {
        List<? extends HasMetadata> list = switch (p.kind()) {
            case "Ingress" -> state.ingresses();
            case "Service" -> state.services();
            case "Secret" -> state.secrets();
            case "IngressClass" -> state.ingressClasses();
            case "EndpointSlice" -> state.endpointSlices();
            case "Endpoints" -> state.endpoints();
            default -> List.of();
        };
        for (HasMetadata o : list) {
            if (p.name().equals(o.getMetadata().getName())
                    && (clusterScoped(p.kind()) || p.namespace().equals(o.getMetadata().getNamespace()))) {
                return o;
            }
        }
        return null;
    }

    private static boolean clusterScoped(String kind) {
        return "IngressClass".equals(kind);
    }

    private static String apiVersion(String kind) {
        return switch (kind) {
            case "Ingress", "IngressClass" -> "networking.k8s.io/v1";
            case "EndpointSlice" -> "discovery.k8s.io/v1";
            default -> "v1";
        };
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
