package dev.sluice.controller.status;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link StatusUpdater} elects a leader and which address it writes into
 * {@code status.loadBalancer.ingress} of the Ingresses Sluice serves.
 *
 * <p>The address comes from the first of: {@code --publish-service ns/name} (that Service's
 * load-balancer addresses, external IPs or cluster IP, as ingress-nginx reads them);
 * {@code --publish-status-address a,b} (IP literals become {@code ip}, anything else
 * {@code hostname}); else the node addresses (ExternalIP, else InternalIP) of the ready Sluice Pods,
 * found by {@code podLabels} in {@code podNamespace}.
 *
 * @param electionId             {@code --election-id}: name of the coordination.k8s.io Lease
 * @param podNamespace           namespace of Sluice's Pods and of the Lease ({@code POD_NAMESPACE})
 * @param identity               this replica's name in the Lease ({@code POD_NAME}, else the host name)
 * @param publishService         {@code --publish-service} as {@code namespace/name}, or {@code null}
 * @param publishStatusAddresses {@code --publish-status-address}, split at commas (may be empty)
 * @param podLabels              labels that select Sluice's Pods (node addresses, replica count);
 *                               {@code null} = the labels of the Pod named {@code identity}
 * @param updateStatusOnShutdown {@code --update-status-on-shutdown}: clear the addresses on shutdown
 *                               when no other replica keeps running
 * @param leaseDuration          how long a lease is valid without renewal
 * @param renewDeadline          how long the leader keeps trying to renew before giving up
 * @param retryPeriod            how often candidates try to acquire and the leader renews
 * @param syncPeriod             how often the leader re-checks every status even without changes
 */
public record StatusConfig(
        String electionId,
        String podNamespace,
        String identity,
        String publishService,
        List<String> publishStatusAddresses,
        Map<String, String> podLabels,
        boolean updateStatusOnShutdown,
        Duration leaseDuration,
        Duration renewDeadline,
        Duration retryPeriod,
        Duration syncPeriod) {

    /** ingress-nginx's {@code --election-id} default is {@code ingress-controller-leader}; Sluice's own name. */
    public static final String DEFAULT_ELECTION_ID = "sluice-leader";

    public StatusConfig {
        Objects.requireNonNull(electionId, "electionId");
        Objects.requireNonNull(podNamespace, "podNamespace");
        Objects.requireNonNull(identity, "identity");
        publishStatusAddresses = List.copyOf(publishStatusAddresses);
        podLabels = podLabels == null ? null : Map.copyOf(podLabels);
        Objects.requireNonNull(leaseDuration, "leaseDuration");
        Objects.requireNonNull(renewDeadline, "renewDeadline");
        Objects.requireNonNull(retryPeriod, "retryPeriod");
        Objects.requireNonNull(syncPeriod, "syncPeriod");
        if (publishService != null && publishService.indexOf('/') < 1) {
            throw new IllegalArgumentException("--publish-service must be namespace/name: " + publishService);
        }
    }

    /**
     * The configuration from flags and the Pod's environment ({@code POD_NAMESPACE}, default
     * {@code default}; {@code POD_NAME}, else the host name), with ingress-nginx's election timings
     * (lease 30 s, renew deadline 15 s) and its 60 s status re-check. The retry period is 6 s, not
     * ingress-nginx's 7.5 s: fabric8 requires renewDeadline &gt; retryPeriod × 2.2 (client-go only
     * × 1.2), and refuses to start the election otherwise.
     *
     * @param electionId             {@code --election-id}, or {@code null} for {@link #DEFAULT_ELECTION_ID}
     * @param publishService         {@code --publish-service}, or {@code null}
     * @param publishStatusAddress   {@code --publish-status-address} (comma list), or {@code null}
     * @param updateStatusOnShutdown {@code --update-status-on-shutdown}
     */
    public static StatusConfig fromEnvironment(String electionId, String publishService, String publishStatusAddress,
            boolean updateStatusOnShutdown) {
        String ns = System.getenv().getOrDefault("POD_NAMESPACE", "default");
        String identity = System.getenv("POD_NAME");
        if (identity == null || identity.isBlank()) {
            identity = hostName();
        }
        return new StatusConfig(electionId == null ? DEFAULT_ELECTION_ID : electionId, ns, identity,
                publishService, splitAddresses(publishStatusAddress), null, updateStatusOnShutdown,
                Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofSeconds(6), Duration.ofSeconds(60));
    }

    /** {@code "10.0.0.1, lb.example.com"} → {@code [10.0.0.1, lb.example.com]}; {@code null} → empty. */
    public static List<String> splitAddresses(String commaList) {
        if (commaList == null) {
            return List.of();
        }
        return java.util.Arrays.stream(commaList.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "sluice-" + ProcessHandle.current().pid();
        }
    }
}
