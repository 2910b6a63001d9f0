package dev.sluice.controller.status;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Finds the address Sluice is reachable at, for {@code status.loadBalancer.ingress}, the way
 * ingress-nginx's status writer does (see {@link StatusConfig} for the order of sources). The
 * result is sorted as ingress-nginx sorts it, so that comparing it with an Ingress's current
 * status does not depend on API order.
 */
final class LoadBalancerAddresses {
    /** Labels a Deployment or DaemonSet adds per revision: not part of "Sluice's Pods". */
    private static final Set<String> REVISION_LABELS = Set.of("pod-template-hash", "controller-revision-hash",
            "pod-template-generation");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** ingress-nginx's order: by host name (IP-only entries first), then by IP text. */
    static final Comparator<IngressLoadBalancerIngress> ORDER = Comparator
            .comparing((IngressLoadBalancerIngress a) -> Objects.requireNonNullElse(a.getHostname(), ""))
            .thenComparing(a -> Objects.requireNonNullElse(a.getIp(), ""));

    private final KubernetesClient client;
    private final StatusConfig config;
    private volatile Map<String, String> podLabels;

    LoadBalancerAddresses(KubernetesClient client, StatusConfig config) {
        this.client = client;
        this.config = config;
        this.podLabels = config.podLabels();
    }

    /** The addresses to publish now (may be empty when nothing is known yet). */
    List<IngressLoadBalancerIngress> resolve() {
        List<IngressLoadBalancerIngress> out;
        if (config.publishService() != null) {
            out = fromService();
        } else if (!config.publishStatusAddresses().isEmpty()) {
            out = config.publishStatusAddresses().stream().map(LoadBalancerAddresses::address).toList();
        } else {
            out = fromNodes();
        }
        List<IngressLoadBalancerIngress> sorted = new ArrayList<>(new LinkedHashSet<>(out));
        sorted.sort(ORDER);
        return List.copyOf(sorted);
    }

    /** An IP literal as {@code ip}, anything else as {@code hostname}. */
    static IngressLoadBalancerIngress address(String ipOrName) {
        boolean ip = IPV4.matcher(ipOrName).matches() || ipOrName.indexOf(':') >= 0;
        return ip ? new IngressLoadBalancerIngressBuilder().withIp(ipOrName).build()
                : new IngressLoadBalancerIngressBuilder().withHostname(ipOrName).build();
    }

    private List<IngressLoadBalancerIngress> fromService() {
        String[] nsName = config.publishService().split("/", 2);
        Service svc = client.services().inNamespace(nsName[0]).withName(nsName[1]).get();
        if (svc == null) {
            throw new IllegalStateException("--publish-service " + config.publishService() + " not found");
        }
        var spec = svc.getSpec();
        List<String> externalIps = spec.getExternalIPs() == null ? List.of() : spec.getExternalIPs();
        List<IngressLoadBalancerIngress> out = new ArrayList<>();
        switch (Objects.requireNonNullElse(spec.getType(), "ClusterIP")) {
            case "ExternalName" -> out.add(address(spec.getExternalName()));
            case "LoadBalancer" -> {
                if (svc.getStatus() != null && svc.getStatus().getLoadBalancer() != null
                        && svc.getStatus().getLoadBalancer().getIngress() != null) {
                    for (LoadBalancerIngress lb : svc.getStatus().getLoadBalancer().getIngress()) {
                        out.add(new IngressLoadBalancerIngressBuilder()
                                .withIp(emptyToNull(lb.getIp())).withHostname(emptyToNull(lb.getHostname())).build());
                    }
                }
                externalIps.forEach(ip -> out.add(address(ip)));
            }
            case "NodePort" -> {
                if (externalIps.isEmpty()) {
                    out.add(address(spec.getClusterIP()));
                } else {
                    externalIps.forEach(ip -> out.add(address(ip)));
                }
            }
            default -> out.add(address(spec.getClusterIP()));
        }
        return out;
    }

    private List<IngressLoadBalancerIngress> fromNodes() {
        Map<String, IngressLoadBalancerIngress> byNode = new HashMap<>();
        List<IngressLoadBalancerIngress> out = new ArrayList<>();
        for (Pod pod : sluicePods()) {
            if (!isRunning(pod) || !isReady(pod) || pod.getSpec().getNodeName() == null) {
                continue;
            }
            String nodeName = pod.getSpec().getNodeName();
            IngressLoadBalancerIngress a = byNode.computeIfAbsent(nodeName, this::nodeAddress);
            if (a != null) {
                out.add(a);
            }
        }
        return out;
    }

    private IngressLoadBalancerIngress nodeAddress(String nodeName) {
        Node node = client.nodes().withName(nodeName).get();
        if (node == null || node.getStatus() == null || node.getStatus().getAddresses() == null) {
            return null;
        }
        String internal = null;
        for (NodeAddress a : node.getStatus().getAddresses()) {
            if ("ExternalIP".equals(a.getType())) {
                return address(a.getAddress());
            }
            if ("InternalIP".equals(a.getType()) && internal == null) {
                internal = a.getAddress();
            }
        }
        return internal == null ? null : address(internal);
    }

    /** Sluice's Pods (every replica, this one included). */
    List<Pod> sluicePods() {
        Map<String, String> labels = podLabels;
        if (labels == null) {
            Pod self = client.pods().inNamespace(config.podNamespace()).withName(config.identity()).get();
            if (self == null || self.getMetadata().getLabels() == null) {
                throw new IllegalStateException("cannot find Pod " + config.podNamespace() + "/" + config.identity()
                        + " to learn Sluice's labels (set POD_NAME and POD_NAMESPACE)");
            }
            Map<String, String> own = new HashMap<>(self.getMetadata().getLabels());
            own.keySet().removeAll(REVISION_LABELS);
            labels = Map.copyOf(own);
            podLabels = labels;
        }
        return client.pods().inNamespace(config.podNamespace()).withLabels(labels).list().getItems();
    }

    /** Whether another replica is running and not being deleted (it keeps the status after us). */
    boolean otherReplicaRunning() {
        for (Pod pod : sluicePods()) {
            if (!config.identity().equals(pod.getMetadata().getName()) && isRunning(pod)
                    && pod.getMetadata().getDeletionTimestamp() == null) {
                return true;
            }
        }
        return false;
    }

    private static boolean isRunning(Pod pod) {
        return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
    }

    private static boolean isReady(Pod pod) {
        if (pod.getStatus().getConditions() == null) {
            return false;
        }
        for (PodCondition c : pod.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
