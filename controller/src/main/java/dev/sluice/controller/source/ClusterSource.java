package dev.sluice.controller.source;

import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode's source of objects: one fabric8 shared informer per kind the translator reads,
 * whose caches {@link #snapshot()} turns into a {@link ClusterState}.
 *
 * <p>Watched kinds: Ingress ({@code networking.k8s.io/v1}), IngressClass (cluster-scoped),
 * Service, EndpointSlice ({@code discovery.k8s.io/v1}), Endpoints, and Secrets of type
 * {@code kubernetes.io/tls}. With a watch namespace every namespaced kind is watched in that
 * namespace only; IngressClasses are always cluster-wide. ConfigMaps are watched one by one: only
 * those named ({@code --configmap}, {@code --tcp-services-configmap}, {@code --udp-services-configmap},
 * and those the global ConfigMap names, added by {@link #watchConfigMaps}), each with an
 * informer in its own namespace narrowed by a {@code metadata.name} field selector, so Sluice
 * neither holds nor needs the right to read any other ConfigMap. The ConfigMaps Ingresses name
 * ({@code custom-headers}, see {@link #watchReferencedConfigMaps}) are watched the same way, one
 * informer per name while some Ingress names it, so only ConfigMaps in use are held in memory.
 *
 * <p>Every informer event only calls {@code onChange} (the payload is ignored; the sync loop
 * rebuilds from the caches). Informers keep running through API server trouble: fabric8 re-lists
 * on {@code 410 Gone} and reconnects with exponential backoff, and the exception handler here
 * asks it to retry every failure, so the caches — and the table built from them — stay at the last
 * known state while the API server is away and converge when it returns.
 *
 * <p>Optional kinds: EndpointSlice, Endpoints and IngressClass. When the first list of one of
 * them fails with 403 (no RBAC) or 404 (API not served), that informer is dropped and the kind
 * stays empty: without EndpointSlices the translator uses Endpoints; without IngressClasses only
 * the {@code kubernetes.io/ingress.class} annotation can select Ingresses (ingress-nginx's
 * "Without IngressClass Cluster scoped Permission"). Failures of the required kinds are retried
 * until they succeed, and {@link #hasSynced()} stays false until then.
 */
public final class ClusterSource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterSource.class);

    /** The Secret type of certificates for TLS hosts. */
    public static final String TLS_SECRET_TYPE = "kubernetes.io/tls";
    /** Secrets never read: Helm's releases and service account tokens. */
    static final String HELM_RELEASE_TYPE = "helm.sh/release.v1";
    static final String SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";

    private static final Comparator<HasMetadata> BY_NAMESPACE_NAME = Comparator
            .comparing((HasMetadata o) -> Objects.requireNonNullElse(o.getMetadata().getNamespace(), ""))
            .thenComparing(o -> o.getMetadata().getName());

    private final KubernetesClient client;
    private final String watchNamespace;
    private final Runnable onChange;
    private final List<String> configMapNames;

    private Watched<Ingress> ingresses;
    private Watched<IngressClass> ingressClasses;
    private Watched<Service> services;
    private Watched<EndpointSlice> endpointSlices;
    private Watched<Endpoints> endpoints;
    private Watched<Secret> secrets;
    private List<Watched<ConfigMap>> configMaps = List.of();
    /** ConfigMaps watched on demand ({@link #watchConfigMaps}), by {@code namespace/name}; guarded by this. */
    private final java.util.Map<String, Watched<ConfigMap>> extraConfigMaps = new java.util.LinkedHashMap<>();
    private volatile List<Watched<ConfigMap>> extraConfigMapList = List.of();
    private volatile List<Watched<?>> all = List.of();
    /** The ConfigMap an Ingress names ({@code namespace/name}), or {@code null}; none by default. */
    private volatile Function<Ingress, String> configMapReference = ing -> null;
    /** Informers of the ConfigMaps Ingresses name, by {@code namespace/name}. */
    private final Map<String, Watched<ConfigMap>> referenced = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param client         the API client (closed by the caller, not by this source)
     * @param watchNamespace {@code --watch-namespace}, or {@code null} for all namespaces
     * @param onChange       called on an informer thread for every add, update and delete; must be
     *                       cheap (e.g. {@code SyncLoop::markDirty})
     */
    public ClusterSource(KubernetesClient client, String watchNamespace, Runnable onChange) {
        this(client, watchNamespace, List.of(), onChange);
    }

    /**
     * @param configMaps the ConfigMaps to watch as {@code namespace/name} (duplicates are watched
     *                   once), whatever the watch namespace: the flags that name them name their
     *                   namespace too
     */
    public ClusterSource(KubernetesClient client, String watchNamespace, List<String> configMaps, Runnable onChange) {
        this.client = Objects.requireNonNull(client, "client");
        this.watchNamespace = watchNamespace == null || watchNamespace.isBlank() ? null : watchNamespace;
        this.onChange = Objects.requireNonNull(onChange, "onChange");
        this.configMapNames = configMaps.stream().distinct().toList();
        for (String name : configMapNames) {
            if (name.indexOf('/') <= 0 || name.indexOf('/') != name.lastIndexOf('/') || name.endsWith("/")) {
                throw new IllegalArgumentException("ConfigMap must be namespace/name: " + name);
            }
        }
    }

    /**
     * Also watches the ConfigMaps Ingresses name ({@code custom-headers}): {@code reference} gives
     * an Ingress's as {@code namespace/name}, or {@code null}. An informer is started for a name
     * when the first Ingress names it and stopped when none does any more; {@link #hasSynced()}
     * waits for the ones named once the Ingresses are listed. Call before {@link #start()}.
     */
    public ClusterSource watchReferencedConfigMaps(Function<Ingress, String> reference) {
        this.configMapReference = Objects.requireNonNull(reference, "reference");
        return this;
    }

    /** Creates and starts the informers; returns at once (the first lists run in the background). */
    public synchronized void start() {
        if (!all.isEmpty()) {
            throw new IllegalStateException("already started");
        }
        ingresses = watch("Ingress", namespaced(client.network().v1().ingresses()), false, o -> true);
        ingressClasses = watch("IngressClass", client.network().v1().ingressClasses(), true, o -> true);
        services = watch("Service", namespaced(client.services()), false, o -> true);
        endpointSlices = watch("EndpointSlice", namespaced(client.discovery().v1().endpointSlices()), true, o -> true);
        endpoints = watch("Endpoints", namespaced(client.endpoints()), true, o -> true);
        // Certificates (kubernetes.io/tls), basic-auth users and CA bundles (usually Opaque) can be
        // named by any Ingress, so every Secret is watched, as ingress-nginx does; the field selector
        // keeps Helm's release Secrets (large, never referenced) out of memory, the predicate drops
        // them and service account tokens for API servers that ignore the selector.
        secrets = watch("Secret", namespaced(client.secrets()).withoutField("type", HELM_RELEASE_TYPE), false,
                s -> !HELM_RELEASE_TYPE.equals(s.getType()) && !SERVICE_ACCOUNT_TOKEN_TYPE.equals(s.getType()));
        List<Watched<ConfigMap>> cms = new ArrayList<>();
        for (String name : configMapNames) {
            cms.add(watchConfigMap(name));
        }
        configMaps = List.copyOf(cms);
        List<Watched<?>> watched = new ArrayList<>(List.of(ingresses, ingressClasses, services, endpointSlices,
                endpoints, secrets));
        watched.addAll(configMaps);
        all = List.copyOf(watched);
        log.info("watching Ingress, IngressClass, Service, EndpointSlice, Endpoints and Secret objects in {}{}",
                watchNamespace == null ? "all namespaces" : "namespace " + watchNamespace,
                configMapNames.isEmpty() ? "" : ", and the ConfigMaps " + String.join(", ", configMapNames));
    }

    /** One ConfigMap's informer, narrowed to it by a field selector. */
    private Watched<ConfigMap> watchConfigMap(String name) {
        int slash = name.indexOf('/');
        // a missing ConfigMap lists as empty: the translator reports it, the informer waits for it
        return watch("ConfigMap " + name, client.configMaps().inNamespace(name.substring(0, slash))
                .withField("metadata.name", name.substring(slash + 1)), false, o -> true);
    }

    /**
     * Also watches these ConfigMaps ({@code namespace/name}) from now on, if not yet watched: those
     * that other ConfigMaps name, e.g. the global ConfigMap's {@code add-headers}. Their first list
     * calls {@code onChange}, so the next rebuild sees them; they do not hold back
     * {@link #hasSynced()} (readiness does not flicker when the global ConfigMap names another).
     * Names that are not {@code namespace/name} are ignored (the translator reports them).
     *
     * @return whether a new informer was started
     */
    public synchronized boolean watchConfigMaps(java.util.Collection<String> names) {
        if (closed || all.isEmpty()) {
            return false;
        }
        boolean added = false;
        for (String name : names) {
            int slash = name.indexOf('/');
            if (slash <= 0 || slash != name.lastIndexOf('/') || name.endsWith("/") || configMapNames.contains(name)
                    || extraConfigMaps.containsKey(name)) {
                continue;
            }
            log.info("watching ConfigMap {} (named by another ConfigMap)", name);
            extraConfigMaps.put(name, watchConfigMap(name));
            added = true;
        }
        if (added) {
            extraConfigMapList = List.copyOf(extraConfigMaps.values());
        }
        return added;
    }

    /**
     * Waits until the informers {@link #watchConfigMaps} started have listed their ConfigMap, so a
     * rebuild right after naming one sees it instead of reporting it missing.
     *
     * @return whether they did within {@code timeout}
     */
    public boolean awaitConfigMapsListed(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Watched<ConfigMap> w : extraConfigMapList) {
            while (!w.informer.hasSynced()) {
                if (closed || System.nanoTime() - deadline >= 0) {
                    return false;
                }
                Thread.sleep(20);
            }
        }
        return true;
    }

    private <T extends HasMetadata, L extends KubernetesResourceList<T>, R extends Resource<T>>
            FilterWatchListDeletable<T, L, R> namespaced(MixedOperation<T, L, R> op) {
        return watchNamespace == null ? op.inAnyNamespace() : op.inNamespace(watchNamespace);
    }

    private <T extends HasMetadata> Watched<T> watch(String kind, Informable<T> source, boolean optional,
            Predicate<T> wanted) {
        SharedIndexInformer<T> informer = source.runnableInformer(0);
        Watched<T> w = new Watched<>(kind, informer, optional, wanted);
        informer.addEventHandler(w);
        informer.exceptionHandler(w::retryAfterException);
        informer.start().whenComplete((ok, failure) -> {
            if (failure == null) {
                log.info("{} informer synced: {} objects", kind, informer.getStore().list().size());
            } else if (w.disabled) {
                // a dropped optional kind counts as synced (empty): let the sync loop notice
                onChange.run();
            } else if (!closed && !(unwrap(failure) instanceof CancellationException)) {
                log.error("{} informer stopped: {}", kind, unwrap(failure).toString());
            }
        });
        return w;
    }

    /** Whether every informer has finished its first list (dropped optional kinds count as done). */
    public boolean hasSynced() {
        List<Watched<?>> ws = all;
        if (ws.isEmpty()) {
            return false;
        }
        for (Watched<?> w : ws) {
            if (!w.disabled && !w.informer.hasSynced()) {
                return false;
            }
        }
        for (Watched<ConfigMap> w : watchReferenced(ingresses.items()).values()) {
            if (!w.informer.hasSynced()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The informers of the ConfigMaps {@code ingresses} name, started for new names; informers of
     * names no Ingress uses any more are closed.
     */
    private synchronized Map<String, Watched<ConfigMap>> watchReferenced(List<Ingress> ingresses) {
        Set<String> names = new LinkedHashSet<>();
        Function<Ingress, String> reference = configMapReference;
        for (Ingress ing : ingresses) {
            String name = reference.apply(ing);
            int slash = name == null ? -1 : name.indexOf('/');
            if (slash > 0 && slash < name.length() - 1 && !configMapNames.contains(name)) {
                names.add(name);
            }
        }
        referenced.entrySet().removeIf(e -> {
            if (names.contains(e.getKey())) {
                return false;
            }
            e.getValue().informer.close();
            return true;
        });
        if (closed) {
            return Map.of();
        }
        for (String name : names) {
            referenced.computeIfAbsent(name, n -> {
                int slash = n.indexOf('/');
                log.info("watching ConfigMap {} (named by an Ingress)", n);
                return watch("ConfigMap " + n, client.configMaps().inNamespace(n.substring(0, slash))
                        .withField("metadata.name", n.substring(slash + 1)), false, o -> true);
            });
        }
        return Map.copyOf(referenced);
    }

    /**
     * Waits until {@link #hasSynced()} (start the sync loop after this, so that the first published
     * table is built from complete caches).
     *
     * @return whether the caches synced within {@code timeout}
     */
    public boolean awaitSynced(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!hasSynced()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** The kinds dropped because the API server refused them (403/404), e.g. {@code EndpointSlice}. */
    public Set<String> unavailableKinds() {
        return all.stream().filter(w -> w.disabled).map(w -> w.kind).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * The objects currently in the caches, each list sorted by namespace and name. Cheap (one list
     * copy per kind); the objects are the cache's own instances and must not be mutated.
     */
    public ClusterState snapshot() {
        if (all.isEmpty()) {
            return ClusterState.EMPTY;
        }
        List<ConfigMap> cms = new ArrayList<>();
        for (Watched<ConfigMap> w : configMaps) {
            cms.addAll(w.items());
        }
        for (Watched<ConfigMap> w : extraConfigMapList) {
            cms.addAll(w.items());
        }
        List<Ingress> ingressItems = ingresses.items();
        for (Watched<ConfigMap> w : watchReferenced(ingressItems).values()) {
            cms.addAll(w.items());
        }
        // a ConfigMap named twice (by a flag and by an annotation) is watched twice: keep one copy
        Map<String, ConfigMap> byName = new java.util.TreeMap<>();
        for (ConfigMap cm : cms) {
            byName.putIfAbsent(cm.getMetadata().getNamespace() + "/" + cm.getMetadata().getName(), cm);
        }
        cms = new ArrayList<>(byName.values());
        cms.sort(BY_NAMESPACE_NAME);
        return new ClusterState(
                ingressItems, ingressClasses.items(), services.items(),
                endpointSlices.items(), endpoints.items(), secrets.items(), cms);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Watched<?> w : all) {
            w.informer.close();
        }
        for (Watched<?> w : referenced.values()) {
            w.informer.close();
        }
        referenced.clear();
        for (Watched<?> w : extraConfigMaps.values()) {
            w.informer.close();
        }
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A sorted list of a cache's objects and the count of changes it was made after. */
    private record Items<T>(long changes, List<T> list) {}

    /** One informer and what this source knows about it. */
    private final class Watched<T extends HasMetadata> implements ResourceEventHandler<T> {
        final String kind;
        final SharedIndexInformer<T> informer;
        final boolean optional;
        final Predicate<T> wanted;
        volatile boolean disabled;
        private volatile String lastFailure;
        /** Counts the events that may have changed {@link #items()}; bumped before the sync loop hears of them. */
        private final AtomicLong changes = new AtomicLong();
        /** The last {@link #items()} and the count of changes it saw (sync thread; one reference, replaced whole). */
        private volatile Items<T> lastItems;

        Watched(String kind, SharedIndexInformer<T> informer, boolean optional, Predicate<T> wanted) {
            this.kind = kind;
            this.informer = informer;
            this.optional = optional;
            this.wanted = wanted;
        }

        /**
         * The wanted objects of the cache, sorted by namespace and name: the same list as last time
         * when no event came in between (copying and sorting 10,000 objects costs ~10 ms, on the
         * path of every change). The count is read before the cache, so an event that lands while
         * the list is made is seen by the next call.
         */
        List<T> items() {
            if (disabled) {
                return List.of();
            }
            long seen = changes.get();
            Items<T> last = lastItems;
            if (last != null && last.changes() == seen) {
                return last.list();
            }
            List<T> list = new ArrayList<>(informer.getStore().list());
            list.removeIf(wanted.negate());
            list.sort(BY_NAMESPACE_NAME);
            List<T> items = List.copyOf(list);
            lastItems = new Items<>(seen, items);
            return items;
        }

        boolean retryAfterException(boolean started, Throwable t) {
            Throwable cause = unwrap(t);
            if (!started && optional && cause instanceof KubernetesClientException e
                    && (e.getCode() == 403 || e.getCode() == 404)) {
                disabled = true;
                log.warn("cannot list {} ({} {}): continuing without them{}", kind, e.getCode(),
                        e.getStatus() == null ? "" : e.getStatus().getReason(), consequence());
                return false;
            }
            // Keep retrying everything else (API server down, timeouts, 5xx, 403 on required kinds):
            // fabric8 backs off exponentially; the caches keep the last known state meanwhile.
            String text = cause.toString();
            if (!text.equals(lastFailure)) {
                log.warn("{} watch failed, retrying with backoff: {}", kind, text);
                lastFailure = text;
            } else {
                log.debug("{} watch failed again: {}", kind, text);
            }
            return true;
        }

        private String consequence() {
            return switch (kind) {
                case "EndpointSlice" -> "; endpoints come from Endpoints objects";
                case "IngressClass" -> "; only the kubernetes.io/ingress.class annotation selects Ingresses";
                default -> "";
            };
        }

        @Override
        public void onAdd(T obj) {
            lastFailure = null;
            changes.incrementAndGet();
            if (wanted.test(obj)) {
                onChange.run();
            }
        }

        @Override
        public void onUpdate(T oldObj, T newObj) {
            lastFailure = null;
            // a re-list after a reconnect reports unchanged objects as updates: not a change
            if (Objects.equals(resourceVersion(oldObj.getMetadata()), resourceVersion(newObj.getMetadata()))
                    && resourceVersion(newObj.getMetadata()) != null) {
                return;
            }
            changes.incrementAndGet();
            if (wanted.test(oldObj) || wanted.test(newObj)) {
                onChange.run();
            }
        }

        @Override
        public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            lastFailure = null;
            changes.incrementAndGet();
            if (wanted.test(obj)) {
                onChange.run();
            }
        }

        private String resourceVersion(ObjectMeta meta) {
            return meta == null ? null : meta.getResourceVersion();
        }
    }
}
