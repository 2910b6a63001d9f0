package dev.sluice.controller.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code status.loadBalancer.ingress} of every Ingress Sluice serves, so that
 * {@code kubectl get ingress} shows an ADDRESS — from the elected leader only, as ingress-nginx
 * does. Every replica serves traffic; only the status writing is exclusive.
 *
 * <p>Leader election uses a {@code coordination.k8s.io/v1} Lease named {@code --election-id} in
 * the Pod's namespace (fabric8's {@code LeaderElector}). A replica that loses the lease keeps
 * competing for it. While leader, it re-checks every served Ingress after each
 * {@link #requestSync()} (called after every table rebuild) and every {@code syncPeriod}, and
 * patches the status subresource only when the addresses differ. On {@link #close()}, with
 * {@code --update-status-on-shutdown} and no other replica running, the addresses are cleared.
 *
 * <p>All API calls run on one thread of its own; {@link #requestSync()} never blocks.
 */
public final class StatusUpdater implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusUpdater.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final StatusConfig config;
    private final Supplier<? extends Collection<Ingress>> served;
    private final LoadBalancerAddresses addresses;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean syncPending = new AtomicBoolean();
    private volatile CompletableFuture<?> election; // replaced when it ends without us asking
    private final Map<String, Written> written = new ConcurrentHashMap<>(); // status thread only
    private volatile boolean leader;
    private volatile boolean closed;
    private volatile String currentLeader;

    /** What was last written to one Ingress, and the resourceVersion it had before the write. */
    private record Written(List<IngressLoadBalancerIngress> addresses, String resourceVersionBefore) {}

    /**
     * @param client the API client
     * @param config election and address configuration
     * @param served the Ingresses Sluice currently serves (class-selected), read from the caches —
     *               e.g. {@code () -> IngressClassFilter.served(source.snapshot(), translatorConfig)}
     */
    public StatusUpdater(KubernetesClient client, StatusConfig config, Supplier<? extends Collection<Ingress>> served) {
        this.client = Objects.requireNonNull(client, "client");
        this.config = Objects.requireNonNull(config, "config");
        this.served = Objects.requireNonNull(served, "served");
        this.addresses = new LoadBalancerAddresses(client, config);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-status");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts competing for the lease and the periodic re-check. */
    public void start() {
        runElection();
        long period = config.syncPeriod().toMillis();
        executor.scheduleWithFixedDelay(this::requestSync, period, period, TimeUnit.MILLISECONDS);
    }

    private void runElection() {
        if (closed) {
            return;
        }
        var lock = new LeaseLock(config.podNamespace(), config.electionId(), config.identity());
        var electionConfig = new LeaderElectionConfigBuilder()
                .withName(config.electionId())
                .withLock(lock)
                .withLeaseDuration(config.leaseDuration())
                .withRenewDeadline(config.renewDeadline())
                .withRetryPeriod(config.retryPeriod())
                .withReleaseOnCancel(true)
                .withLeaderCallbacks(new LeaderCallbacks(this::startedLeading, this::stoppedLeading, this::newLeader))
                .build();
        CompletableFuture<?> f = client.leaderElector().withConfig(electionConfig).build().start();
        election = f;
        f.whenComplete((ok, failure) -> {
            if (closed || f.isCancelled()) {
                return;
            }
            // the elector ends when it loses the lease or cannot reach the API server: compete again
            if (failure != null) {
                log.warn("leader election {} ended: {}; retrying", config.electionId(), failure.toString());
            }
            executor.schedule(this::runElection, config.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    private void startedLeading() {
        leader = true;
        log.info("{} is the leader ({} {}/{}): writing Ingress status", config.identity(), "Lease",
                config.podNamespace(), config.electionId());
        requestSync();
    }

    private void stoppedLeading() {
        leader = false;
        log.info("{} is no longer the leader", config.identity());
    }

    private void newLeader(String identity) {
        currentLeader = identity;
        if (!config.identity().equals(identity)) {
            log.info("leader is {}", identity);
        }
    }

    /** Whether this replica holds the lease now. */
    public boolean isLeader() {
        return leader;
    }

    /** The identity of the last leader this replica saw, or {@code null}. */
    public String currentLeader() {
        return currentLeader;
    }

    /** Asks for a status check soon (coalesced; a no-op unless leader). Cheap; any thread. */
    public void requestSync() {
        if (!closed && syncPending.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    syncPending.set(false);
                    if (leader) {
                        syncNow();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                syncPending.set(false);
            }
        }
    }

    private void syncNow() {
        List<IngressLoadBalancerIngress> want;
        try {
            want = addresses.resolve();
        } catch (RuntimeException e) {
            log.warn("cannot determine the Ingress status address: {}", e.toString());
            return;
        }
        writeAll(want);
    }

    private void writeAll(List<IngressLoadBalancerIngress> want) {
        for (Ingress ing : served.get()) {
            String ns = ing.getMetadata().getNamespace();
            String name = ing.getMetadata().getName();
            String key = ns + "/" + name;
            List<IngressLoadBalancerIngress> have = current(ing);
            if (have.equals(want)) {
                continue;
            }
            Written w = written.get(key);
            if (w != null && w.addresses().equals(want)
                    && Objects.equals(w.resourceVersionBefore(), ing.getMetadata().getResourceVersion())) {
                continue; // our write has not reached the cache yet
            }
            try {
                patchStatus(ns, name, want);
                written.put(key, new Written(want, ing.getMetadata().getResourceVersion()));
                log.info("[{}/{}] status.loadBalancer.ingress: {} -> {}", ns, name, describe(have), describe(want));
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    continue; // deleted meanwhile
                }
                log.warn("[{}/{}] cannot update Ingress status: {}", ns, name, e.getMessage());
            }
        }
    }

    private void patchStatus(String ns, String name, List<IngressLoadBalancerIngress> want) {
        // A JSON patch that sets the whole status (IngressStatus holds only loadBalancer): one
        // request, no read-modify-write, and the list is replaced, never merged element-wise.
        ObjectNode status = JSON.createObjectNode();
        ObjectNode loadBalancer = status.putObject("loadBalancer");
        if (!want.isEmpty()) {
            loadBalancer.set("ingress", JSON.valueToTree(want));
        }
        ObjectNode op = JSON.createObjectNode().put("op", "add").put("path", "/status");
        op.set("value", status);
        client.network().v1().ingresses().inNamespace(ns).withName(name)
                .subresource("status")
                .patch(PatchContext.of(PatchType.JSON), JSON.createArrayNode().add(op).toString());
    }

    private static List<IngressLoadBalancerIngress> current(Ingress ing) {
        if (ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
                || ing.getStatus().getLoadBalancer().getIngress() == null) {
            return List.of();
        }
        List<IngressLoadBalancerIngress> list = new ArrayList<>();
        for (IngressLoadBalancerIngress a : ing.getStatus().getLoadBalancer().getIngress()) {
            // compare only what Sluice writes (ports are not written)
            list.add(new io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder()
                    .withIp(a.getIp()).withHostname(a.getHostname()).build());
        }
        list.sort(LoadBalancerAddresses.ORDER);
        return list;
    }

    private static String describe(List<IngressLoadBalancerIngress> list) {
        return list.stream().map(a -> a.getIp() != null ? a.getIp() : a.getHostname()).toList().toString();
    }

    /**
     * Stops competing for the lease (releasing it if held) and, with
     * {@code --update-status-on-shutdown} and no other replica running, clears the addresses of
     * the served Ingresses. Blocks until done (a few API calls).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            executor.submit(this::clearOnShutdown).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("clearing Ingress status on shutdown failed: {}", e.toString());
        }
        CompletableFuture<?> f = election;
        if (f != null) {
            f.cancel(true); // releaseOnCancel: the next replica takes over without waiting for expiry
        }
        leader = false;
        executor.shutdownNow();
    }

    private void clearOnShutdown() {
        if (!config.updateStatusOnShutdown()) {
            log.info("leaving Ingress status as it is (--update-status-on-shutdown=false)");
            return;
        }
        try {
            if (addresses.otherReplicaRunning()) {
                log.info("another replica keeps running: leaving Ingress status to the next leader");
                return;
            }
        } catch (RuntimeException e) {
            log.warn("cannot count Sluice replicas ({}); leaving Ingress status as it is", e.toString());
            return;
        }
        log.info("last replica shutting down: clearing Ingress status");
        written.clear();
        writeAll(List.of());
    }
}
