package dev.sluice.controller.status;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.source.ClusterSource;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.TranslatorConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Leader election on a Lease and the Ingress status it writes, against the mock API server in
 * CRUD mode: the ADDRESS that {@code kubectl get ingress} shows comes from
 * {@code status.loadBalancer.ingress}.
 */
@EnableKubernetesMockClient(crud = true)
class StatusUpdaterTest {
    private static final Map<String, String> SLUICE_LABELS = Map.of("app.kubernetes.io/name", "sluice");

    KubernetesClient client;

    private ClusterSource source;
    private final List<StatusUpdater> updaters = new ArrayList<>();

    @AfterEach
    void stop() {
        updaters.forEach(StatusUpdater::close);
        if (source != null) {
            source.close();
        }
    }

    private void apply(HasMetadata o) {
        client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    private static StatusConfig config(String identity, String publishService, List<String> addresses, boolean clearOnShutdown) {
        return new StatusConfig("sluice-leader", "sluice", identity, publishService, addresses, SLUICE_LABELS,
                clearOnShutdown, Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(200), Duration.ofSeconds(1));
    }

    /** Starts the watcher and an updater wired as Main wires them: every change asks for a sync. */
    private StatusUpdater start(StatusConfig config) {
        StatusUpdater[] holder = new StatusUpdater[1];
        if (source == null) {
            source = new ClusterSource(client, null, () -> updaters.forEach(StatusUpdater::requestSync));
            source.start();
            await().until(source::hasSynced);
        }
        holder[0] = new StatusUpdater(client, config, () -> IngressClassFilter.served(source.snapshot(), TranslatorConfig.DEFAULTS));
        updaters.add(holder[0]);
        holder[0].start();
        return holder[0];
    }

    private List<String> address(String ns, String name) {
        Ingress ing = client.network().v1().ingresses().inNamespace(ns).withName(name).get();
        if (ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
                || ing.getStatus().getLoadBalancer().getIngress() == null) {
            return List.of();
        }
        return ing.getStatus().getLoadBalancer().getIngress().stream()
                .map(a -> a.getIp() != null ? "ip:" + a.getIp() : "hostname:" + a.getHostname()).toList();
    }

    private String resourceVersion(String ns, String name) {
        return client.network().v1().ingresses().inNamespace(ns).withName(name).get().getMetadata().getResourceVersion();
    }

    @Test
    void theLeaderWritesThePublishStatusAddressIntoServedIngressesOnly() {
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        Ingress foreign = ingress("default", "foreign", "other.example.com", "/", "web", 8080);
        foreign.getMetadata().setAnnotations(Map.of("kubernetes.io/ingress.class", "gce"));
        apply(foreign);

        StatusUpdater updater = start(config("sluice-0", null, List.of("lb.example.com", "192.0.2.10"), true));
        await().until(updater::isLeader);
        await().untilAsserted(() -> assertThat(address("default", "web"))
                .containsExactly("ip:192.0.2.10", "hostname:lb.example.com"));
        Lease lease = client.leases().inNamespace("sluice").withName("sluice-leader").get();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("sluice-0");
        assertThat(address("default", "foreign")).isEmpty();

        // only on change: more syncs with the same address write nothing
        String rv = resourceVersion("default", "web");
        for (int i = 0; i < 5; i++) {
            updater.requestSync();
        }

        // a newly served Ingress gets its address; someone overwriting the status is corrected
        apply(ingress("team-a", "api", "api.example.com", "/", "api", 80));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(address("team-a", "api"))
                .containsExactly("ip:192.0.2.10", "hostname:lb.example.com"));
        // syncs run one after the other: the one that wrote team-a/api came after the five asked
        // for above, and none of them wrote default/web again
        assertThat(resourceVersion("default", "web")).isEqualTo(rv);
        client.network().v1().ingresses().inNamespace("default").withName("web").subresource("status")
                .patch(PatchContext.of(PatchType.JSON),
                        "[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"198.51.100.1\"}]}}}]");
        await().untilAsserted(() -> assertThat(address("default", "web"))
                .containsExactly("ip:192.0.2.10", "hostname:lb.example.com"));
    }

    @Test
    void publishServiceOfTypeLoadBalancerGivesItsAddresses() {
        apply(new ServiceBuilder().withNewMetadata().withNamespace("sluice").withName("sluice-lb").endMetadata()
                .withNewSpec().withType("LoadBalancer").withClusterIP("10.96.0.20").withExternalIPs("198.51.100.7").endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withHostname("abc.elb.example.com").endIngress()
                .endLoadBalancer().endStatus().build());
        apply(new ServiceBuilder().withNewMetadata().withNamespace("sluice").withName("sluice-internal").endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.21").endSpec().build());
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));

        StatusUpdater updater = start(config("sluice-0", "sluice/sluice-lb", List.of("192.0.2.99"), true));
        await().until(updater::isLeader);
        await().untilAsserted(() -> assertThat(address("default", "web"))
                .containsExactly("ip:198.51.100.7", "hostname:abc.elb.example.com"));
    }

    @Test
    void publishServiceOfTypeClusterIpGivesTheClusterIp() {
        apply(new ServiceBuilder().withNewMetadata().withNamespace("sluice").withName("sluice-internal").endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.21").endSpec().build());
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));

        StatusUpdater updater = start(config("sluice-0", "sluice/sluice-internal", List.of(), true));
        await().until(updater::isLeader);
        await().untilAsserted(() -> assertThat(address("default", "web")).containsExactly("ip:10.96.0.21"));
    }

    @Test
    void withoutPublishFlagsTheNodesOfReadySluicePodsAreUsed() {
        apply(node("node-a", "ExternalIP", "203.0.113.5"));
        apply(node("node-b", "InternalIP", "10.1.0.7"));
        apply(node("node-c", "InternalIP", "10.1.0.8"));
        apply(pod("sluice-0", "node-a", "Running", true));
        apply(pod("sluice-1", "node-b", "Running", true));
        apply(pod("sluice-2", "node-c", "Running", false)); // not ready: not an address
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));

        StatusUpdater updater = start(config("sluice-0", null, List.of(), true));
        await().until(updater::isLeader);
        await().untilAsserted(() -> assertThat(address("default", "web")).containsExactly("ip:10.1.0.7", "ip:203.0.113.5"));
    }

    @Test
    void oneLeaderAtATimeAndTheOtherTakesOverWhenItLeaves() {
        apply(pod("sluice-0", "node-a", "Running", true));
        apply(pod("sluice-1", "node-a", "Running", true));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        StatusUpdater first = start(config("sluice-0", null, List.of("192.0.2.10"), true));
        await().until(first::isLeader);
        StatusUpdater second = start(config("sluice-1", null, List.of("192.0.2.10"), true));
        await().until(() -> "sluice-0".equals(second.currentLeader()));
        // the first keeps leading across renewals of its lease (seen by the second), and the
        // second never leads meanwhile
        Set<Object> renewals = new HashSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            assertThat(first.isLeader()).as("first leads").isTrue();
            assertThat(second.isLeader()).as("second leads").isFalse();
            renewals.add(client.leases().inNamespace("sluice").withName("sluice-leader").get().getSpec().getRenewTime());
            return renewals.size() >= 3;
        });
        await().untilAsserted(() -> assertThat(address("default", "web")).containsExactly("ip:192.0.2.10"));

        // the leader leaves while another replica runs: the status stays, the other one leads
        first.close();
        await().until(second::isLeader);
        assertThat(address("default", "web")).containsExactly("ip:192.0.2.10");
    }

    @Test
    void theLastReplicaClearsTheStatusOnShutdown() {
        apply(pod("sluice-0", "node-a", "Running", true));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        StatusUpdater updater = start(config("sluice-0", null, List.of("192.0.2.10"), true));
        await().untilAsserted(() -> assertThat(address("default", "web")).containsExactly("ip:192.0.2.10"));

        updater.close();
        assertThat(address("default", "web")).isEmpty();
    }

    @Test
    void theStatusStaysOnShutdownWhenAnotherReplicaRunsOrClearingIsOff() {
        apply(pod("sluice-0", "node-a", "Running", true));
        apply(pod("sluice-1", "node-b", "Running", true));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        StatusUpdater updater = start(config("sluice-0", null, List.of("192.0.2.10"), true));
        await().untilAsserted(() -> assertThat(address("default", "web")).containsExactly("ip:192.0.2.10"));
        updater.close();
        assertThat(address("default", "web")).containsExactly("ip:192.0.2.10");

        client.pods().inNamespace("sluice").withName("sluice-1").delete();
        StatusUpdater noClear = start(config("sluice-0", null, List.of("192.0.2.10"), false));
        await().until(noClear::isLeader);
        noClear.close();
        assertThat(address("default", "web")).containsExactly("ip:192.0.2.10");
    }

    private static io.fabric8.kubernetes.api.model.Node node(String name, String type, String ip) {
        return new NodeBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewStatus().addNewAddress().withType(type).withAddress(ip).endAddress()
                .addNewAddress().withType("Hostname").withAddress(name).endAddress().endStatus().build();
    }

    private static Pod pod(String name, String node, String phase, boolean ready) {
        return new PodBuilder().withNewMetadata().withNamespace("sluice").withName(name)
                .withLabels(Map.of("app.kubernetes.io/name", "sluice", "pod-template-hash", "abc123")).endMetadata()
                .withNewSpec().withNodeName(node).endSpec()
                .withNewStatus().withPhase(phase)
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus().build();
    }
}
