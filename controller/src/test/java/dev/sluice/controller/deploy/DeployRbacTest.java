package dev.sluice.controller.deploy;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static dev.sluice.controller.testing.Fixtures.tlsSecret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.source.ClusterSource;
import dev.sluice.controller.status.IngressEvents;
import dev.sluice.controller.status.StatusConfig;
import dev.sluice.controller.status.StatusUpdater;
import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.testing.MockApiServer;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/base} grants exactly what Sluice does in cluster mode: every request the watcher,
 * the status writer and the event recorder send to the API server (recorded by the mock server) is
 * allowed by the ClusterRole or the namespaced Role, and every granted verb is used. The overlays
 * keep these roles ({@link DeployOverlaysTest}).
 */
class DeployRbacTest {
    private static final String NS = "sluice";

    /** One API request as RBAC sees it. */
    record Access(String namespace, String group, String resource, String verb, String name) {}

    @Test
    void theRolesAllowEveryRequestSluiceMakesAndNothingElse() throws Exception {
        List<HasMetadata> manifests;
        List<String> requests;
        try (MockApiServer api = new MockApiServer(); KubernetesClient admin = api.adminClient();
                KubernetesClient sluice = api.newClient()) {
            manifests = DeployFiles.base();
            seedCluster(admin);
            runSluice(api, sluice, admin);
            requests = api.requests();
        }
        ClusterRole clusterRole = only(manifests, ClusterRole.class);
        Role role = only(manifests, Role.class);

        Set<String> used = new TreeSet<>();
        for (String request : requests) {
            Access a = parse(request);
            boolean allowed = allows(clusterRole.getRules(), a)
                    || (NS.equals(a.namespace()) && allows(role.getRules(), a));
            assertThat(allowed).as("%s (%s) is not granted by deploy/base", a, request).isTrue();
            used.add(a.group() + "|" + a.resource() + "|" + a.verb());
        }
        Set<String> granted = new TreeSet<>();
        for (PolicyRule r : clusterRole.getRules()) {
            expand(r, granted);
        }
        for (PolicyRule r : role.getRules()) {
            expand(r, granted);
        }
        assertThat(used).as("verbs Sluice uses").containsExactlyElementsOf(granted);
    }

    @Test
    void theDeploymentRunsUnderTheServiceAccountWithTheDownwardApiAndProbes() throws Exception {
        List<HasMetadata> manifests = DeployFiles.base();
        Deployment d = only(manifests, Deployment.class);
        var pod = d.getSpec().getTemplate().getSpec();
        var c = pod.getContainers().get(0);
        assertThat(pod.getServiceAccountName()).isEqualTo("sluice");
        assertThat(c.getEnv()).filteredOn(e -> e.getValueFrom() != null)
                .extracting(e -> e.getName() + "=" + e.getValueFrom().getFieldRef().getFieldPath())
                .contains("POD_NAME=metadata.name", "POD_NAMESPACE=metadata.namespace");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(10254);
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(c.getArgs()).contains("--election-id=sluice-leader");
    }

    private static void seedCluster(KubernetesClient admin) {
        apply(admin, new NodeBuilder().withNewMetadata().withName("node-a").endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.1.0.7").endAddress().endStatus().build());
        apply(admin, new PodBuilder().withNewMetadata().withNamespace(NS).withName("sluice-0")
                .withLabels(Map.of("app.kubernetes.io/name", "sluice", "pod-template-hash", "abc")).endMetadata()
                .withNewSpec().withNodeName("node-a").endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build());
        apply(admin, new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("sluice").endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.50").endSpec().build());
        apply(admin, service("default", "web", 8080));
        apply(admin, slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(admin, tlsSecret("default", "web-tls", "cert"));
        apply(admin, ingress("default", "web", "app.example.com", "/", "web", 8080));
        apply(admin, ingress("default", "broken", "broken.example.com", "/", "missing", 8080));
        apply(admin, new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withNamespace(NS)
                .withName("tcp-services").endMetadata().withData(Map.of("9000", "default/web:8080")).build());
    }

    /** Cluster mode as Main wires it, once in node-address mode and once with --publish-service. */
    private static void runSluice(MockApiServer api, KubernetesClient sluice, KubernetesClient admin) {
        RouteTableHolder holder = new RouteTableHolder();
        ClusterSource[] source = new ClusterSource[1];
        StatusUpdater[] status = new StatusUpdater[1];
        IngressEvents events = new IngressEvents(sluice, () -> source[0].snapshot(), "sluice-0");
        SyncLoop loop = new SyncLoop(() -> source[0].snapshot(), new IngressTranslator(TranslatorConfig.DEFAULTS), holder,
                problems -> {
                    events.accept(problems);
                    if (status[0] != null) {
                        status[0].requestSync();
                    }
                }, Duration.ofMillis(20), new SimpleMeterRegistry());
        // as with --tcp-services-configmap / --udp-services-configmap naming ConfigMaps of Sluice's namespace
        source[0] = new ClusterSource(sluice, null, List.of(NS + "/tcp-services", NS + "/udp-services"),
                loop::markDirty);
        source[0].start();
        await().until(source[0]::hasSynced);
        loop.start();

        for (String publishService : new String[] {null, NS + "/sluice"}) {
            StatusConfig config = new StatusConfig("sluice-leader", NS, "sluice-0", publishService, List.of(), null,
                    publishService == null, Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(200),
                    Duration.ofSeconds(1));
            status[0] = new StatusUpdater(sluice, config, () -> IngressClassFilter.served(source[0].snapshot(), TranslatorConfig.DEFAULTS));
            long leaseUpdatesBefore = leaseUpdates(api);
            status[0].start();
            String want = publishService == null ? "10.1.0.7" : "10.96.0.50";
            await().until(() -> {
                var ing = admin.network().v1().ingresses().inNamespace("default").withName("web").get();
                return ing.getStatus() != null && ing.getStatus().getLoadBalancer() != null
                        && ing.getStatus().getLoadBalancer().getIngress() != null
                        && ing.getStatus().getLoadBalancer().getIngress().stream().anyMatch(a -> want.equals(a.getIp()));
            });
            // a renewal of the lease is recorded (fabric8's LeaseLock writes it with PATCH; in the
            // second round the first write may take the lease over from the first round's holder)
            await().atMost(Duration.ofSeconds(30)).until(() -> leaseUpdates(api) > leaseUpdatesBefore);
            status[0].close();
        }
        await().until(() -> !admin.v1().events().inNamespace("default").list().getItems().isEmpty());
        loop.close();
        events.close();
        source[0].close();
    }

    /** How many {@code PATCH …/leases/…} requests (lease writes after its creation) the API server has received. */
    private static long leaseUpdates(MockApiServer api) {
        return api.requests().stream()
                .filter(r -> r.startsWith("PATCH /apis/coordination.k8s.io/v1/namespaces/" + NS + "/leases/")).count();
    }

    private static void apply(KubernetesClient client, HasMetadata o) {
        client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    private static <T> T only(List<HasMetadata> manifests, Class<T> type) {
        List<T> found = manifests.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    /** {@code "GET /apis/networking.k8s.io/v1/namespaces/default/ingresses?watch=true"} → who, what, verb. */
    static Access parse(String request) {
        String method = request.substring(0, request.indexOf(' '));
        String target = request.substring(request.indexOf(' ') + 1);
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        boolean watch = target.contains("watch=true");
        String[] p = path.substring(1).split("/");
        String group;
        int i;
        if (p[0].equals("api")) {
            group = "";
            i = 2;
        } else {
            group = p[1];
            i = 3;
        }
        String namespace = null;
        if (p.length > i + 2 && p[i].equals("namespaces")) {
            namespace = p[i + 1];
            i += 2;
        }
        String resource = p[i];
        String name = p.length > i + 1 ? p[i + 1] : null;
        if (p.length > i + 2) {
            resource = resource + "/" + p[i + 2];
        }
        String verb = switch (method) {
            case "GET" -> watch ? "watch" : name == null ? "list" : "get";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name == null ? "deletecollection" : "delete";
            default -> method.toLowerCase(java.util.Locale.ROOT);
        };
        return new Access(namespace, group, resource, verb, name);
    }

    private static boolean allows(List<PolicyRule> rules, Access a) {
        for (PolicyRule r : rules) {
            if (r.getApiGroups().contains(a.group()) && r.getResources().contains(a.resource())
                    && r.getVerbs().contains(a.verb())
                    && (r.getResourceNames() == null || r.getResourceNames().isEmpty()
                        || r.getResourceNames().contains(a.name()))) {
                return true;
            }
        }
        return false;
    }

    private static void expand(PolicyRule r, Set<String> into) {
        for (String g : r.getApiGroups()) {
            for (String res : r.getResources()) {
                for (String v : r.getVerbs()) {
                    into.add(g + "|" + res + "|" + v);
                }
            }
        }
    }
}
