package dev.sluice.controller.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.cli.Main;
import dev.sluice.controller.cli.SluiceOptions;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every overlay of {@code deploy/overlays}, alone and with each optional component of
 * {@code deploy/components}, rendered by {@code kubectl kustomize} and read with fabric8's models:
 * the container's args parse with Sluice's own command line, the ports the Pod declares, the
 * Services and probes point at are the ones those args listen on, the IngressClass is the one the
 * args serve, the RBAC is the base's (whose coverage {@link DeployRbacTest} proves) with the Lease
 * the args elect on, and each component's objects are wired to the Pod.
 *
 * <p>Needs {@code kubectl} (it has kustomize built in); {@code .ci/run} installs it when missing.
 */
class DeployOverlaysTest {
    private static final String NS = "sluice";
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
            "IngressClass", "ValidatingWebhookConfiguration");

    /** What a layout promises its user. */
    record Layout(String overlay, String workloadKind, String serviceType, List<Integer> nodePorts,
            boolean hostNetwork, String ingressClass, String controllerClass) {
    }

    static final Map<String, Layout> LAYOUTS = Map.of(
            "baremetal-nodeport", new Layout("baremetal-nodeport", "Deployment", "NodePort", List.of(31234, 31235),
                    false, "nginx", "k8s.io/ingress-nginx"),
            "cloud-loadbalancer", new Layout("cloud-loadbalancer", "Deployment", "LoadBalancer", List.of(),
                    false, "nginx", "k8s.io/ingress-nginx"),
            "daemonset-hostnetwork", new Layout("daemonset-hostnetwork", "DaemonSet", "ClusterIP", List.of(),
                    true, "nginx", "k8s.io/ingress-nginx"),
            "side-by-side", new Layout("side-by-side", "Deployment", "NodePort", List.of(31234, 31235),
                    false, "sluice", "sluice.dev/ingress-controller"));

    @TempDir
    static Path work;

    @BeforeAll
    static void needsKubectl() {
        Assumptions.assumeTrue(DeployFiles.kubectlAvailable(),
                "kubectl is not on the PATH (.ci/run installs it: apt-get install kubectl)");
    }

    static Stream<Arguments> overlaysWithComponents() {
        List<Arguments> all = new ArrayList<>();
        for (String overlay : DeployFiles.OVERLAYS) {
            all.add(Arguments.of(overlay, List.of()));
            for (String c : DeployFiles.OPTIONAL_COMPONENTS) {
                all.add(Arguments.of(overlay, List.of(c)));
            }
            all.add(Arguments.of(overlay, DeployFiles.OPTIONAL_COMPONENTS));
        }
        return all.stream();
    }

    @Test
    void everyOverlayDirectoryIsTested() throws Exception {
        try (Stream<Path> dirs = java.nio.file.Files.list(DeployFiles.DEPLOY.resolve("overlays"))) {
            assertThat(dirs.map(d -> d.getFileName().toString()))
                    .containsExactlyInAnyOrderElementsOf(DeployFiles.OVERLAYS)
                    .containsExactlyInAnyOrderElementsOf(LAYOUTS.keySet());
        }
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("overlaysWithComponents")
    void theOverlayRendersIntoAConsistentInstallation(String overlay, List<String> components) throws Exception {
        Layout layout = LAYOUTS.get(overlay);
        List<HasMetadata> objects = DeployFiles.render(work, overlay, components);

        for (HasMetadata o : objects) {
            String where = o.getKind() + "/" + o.getMetadata().getName();
            if (CLUSTER_SCOPED.contains(o.getKind())) {
                assertThat(o.getMetadata().getNamespace()).as(where).isNull();
            } else {
                assertThat(o.getMetadata().getNamespace()).as(where).isEqualTo(NS);
            }
        }
        assertThat(only(objects, Namespace.class).getMetadata().getName()).isEqualTo(NS);

        // the workload, and its args as Sluice itself reads them
        HasMetadata workload = objects.stream().filter(o -> o instanceof Deployment || o instanceof DaemonSet)
                .reduce((a, b) -> {
                    throw new AssertionError("more than one workload: " + a + ", " + b);
                }).orElseThrow();
        assertThat(workload.getKind()).isEqualTo(layout.workloadKind());
        assertThat(workload.getMetadata().getName()).isEqualTo("sluice");
        PodTemplateSpec template = workload instanceof Deployment d ? d.getSpec().getTemplate()
                : ((DaemonSet) workload).getSpec().getTemplate();
        PodSpec pod = template.getSpec();
        Container c = pod.getContainers().get(0);
        SluiceOptions options = Main.parse(c.getArgs().toArray(String[]::new));
        assertThat(options.mode()).isEqualTo(SluiceOptions.Mode.CLUSTER);
        assertThat(c.getImage()).isEqualTo("localhost/sluice:" + System.getProperty("sluice.version"));

        assertThat(port(c, "http")).isEqualTo(options.httpPort()).isEqualTo(31234);
        assertThat(port(c, "https")).isEqualTo(options.httpsPort()).isEqualTo(31235);
        assertThat(port(c, "metrics")).isEqualTo(options.healthzPort());
        assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(options.healthzPort());
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(c.getLivenessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(options.healthzPort());
        assertThat(Boolean.TRUE.equals(pod.getHostNetwork())).isEqualTo(layout.hostNetwork());
        if (layout.hostNetwork()) {
            assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
        }

        // the image runs read-only as a non-root user with a writable /tmp (Netty unpacks its
        // native libraries there)
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        String tmpVolume = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst()
                .orElseThrow().getName();
        assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals(tmpVolume))
                .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());

        // the proxy's Service reaches the Pod's http and https ports
        Service svc = named(objects, Service.class, "sluice");
        assertThat(svc.getSpec().getType()).isEqualTo(layout.serviceType());
        assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
        assertThat(svc.getSpec().getPorts()).extracting(p -> port(c, p.getTargetPort()))
                .containsExactly(options.httpPort(), options.httpsPort());
        assertThat(svc.getSpec().getPorts()).extracting(ServicePort::getNodePort)
                .containsExactlyElementsOf(layout.nodePorts().isEmpty() ? java.util.Arrays.asList(null, null)
                        : layout.nodePorts());
        for (PodDisruptionBudget pdb : all(objects, PodDisruptionBudget.class)) {
            assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        }
        if (layout.workloadKind().equals("DaemonSet")) {
            assertThat(all(objects, PodDisruptionBudget.class)).isEmpty();
        }

        // the class: the only IngressClass is the one the args serve
        IngressClass ingressClass = only(objects, IngressClass.class);
        assertThat(ingressClass.getMetadata().getName()).isEqualTo(options.ingressClass()).isEqualTo(layout.ingressClass());
        assertThat(ingressClass.getSpec().getController()).isEqualTo(options.controllerClass())
                .isEqualTo(layout.controllerClass());

        checkRbac(objects, pod, options);
        if (components.contains("metrics")) {
            checkMetrics(objects, template, c);
        } else {
            assertThat(all(objects, GenericKubernetesResource.class)).isEmpty();
        }
        if (components.contains("validating-webhook")) {
            checkWebhook(objects, template, c, options);
        } else {
            assertThat(all(objects, ValidatingWebhookConfiguration.class)).isEmpty();
            assertThat(options.validatingWebhook()).isNull();
        }
    }

    @Test
    void sideBySideLeavesIngressNginxAlone() throws Exception {
        List<HasMetadata> objects = DeployFiles.render(work, "side-by-side", DeployFiles.OPTIONAL_COMPONENTS);
        Deployment d = only(objects, Deployment.class);
        SluiceOptions options = Main.parse(d.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()
                .toArray(String[]::new));
        // ingress-nginx's class, controller and Lease are untouched; Sluice's own are different
        assertThat(objects).noneMatch(o -> o instanceof IngressClass && o.getMetadata().getName().equals("nginx"));
        assertThat(options.ingressClass()).isEqualTo("sluice");
        assertThat(options.controllerClass()).isNotEqualTo("k8s.io/ingress-nginx");
        assertThat(options.electionId()).isNotIn("ingress-nginx-leader", "sluice-leader");
        assertThat(options.watchIngressWithoutClass()).isFalse();
        assertThat(only(objects, IngressClass.class).getMetadata().getAnnotations())
                .containsEntry("ingressclass.kubernetes.io/is-default-class", "false");
        // every cluster-scoped name differs from ingress-nginx's (its deploy.yaml names them ingress-nginx*)
        assertThat(objects).filteredOn(o -> CLUSTER_SCOPED.contains(o.getKind()))
                .allSatisfy(o -> assertThat(o.getMetadata().getName()).startsWith("sluice"));
    }

    /** Same roles as the base (proved complete by DeployRbacTest), bound to the Pod's ServiceAccount, with its Lease. */
    private static void checkRbac(List<HasMetadata> objects, PodSpec pod, SluiceOptions options) throws Exception {
        List<HasMetadata> base = DeployFiles.base();
        ServiceAccount sa = named(objects, ServiceAccount.class, pod.getServiceAccountName());
        ClusterRole clusterRole = only(objects, ClusterRole.class);
        Role role = only(objects, Role.class);
        assertThat(clusterRole.getRules()).isEqualTo(only(base, ClusterRole.class).getRules());
        List<PolicyRule> expectedRole = new ArrayList<>();
        for (PolicyRule r : only(base, Role.class).getRules()) {
            boolean lease = r.getResources().contains("leases") && r.getResourceNames() != null
                    && !r.getResourceNames().isEmpty();
            expectedRole.add(lease ? new PolicyRuleBuilder(r).withResourceNames(options.electionId()).build() : r);
        }
        assertThat(role.getRules()).isEqualTo(expectedRole);
        ClusterRoleBinding crb = only(objects, ClusterRoleBinding.class);
        assertThat(crb.getRoleRef().getName()).isEqualTo(clusterRole.getMetadata().getName());
        assertThat(crb.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName() + "/" + s.getNamespace()).isEqualTo(sa.getMetadata().getName() + "/" + NS);
        });
        RoleBinding rb = only(objects, RoleBinding.class);
        assertThat(rb.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(rb.getSubjects()).singleElement()
                .satisfies(s -> assertThat(s.getName()).isEqualTo(sa.getMetadata().getName()));
    }

    @SuppressWarnings("unchecked")
    private static void checkMetrics(List<HasMetadata> objects, PodTemplateSpec template, Container c) {
        Service metrics = named(objects, Service.class, "sluice-metrics");
        assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(metrics.getSpec().getSelector());
        ServicePort port = metrics.getSpec().getPorts().get(0);
        assertThat(port(c, port.getTargetPort())).isEqualTo(port(c, "metrics"));
        GenericKubernetesResource monitor = only(objects, GenericKubernetesResource.class);
        assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(monitor.getKind()).isEqualTo("ServiceMonitor");
        Map<String, Object> spec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
        Map<String, String> selector = (Map<String, String>) ((Map<String, Object>) spec.get("selector")).get("matchLabels");
        assertThat(metrics.getMetadata().getLabels()).containsAllEntriesOf(selector);
        // the proxy's own Service must not be scraped twice
        assertThat(named(objects, Service.class, "sluice").getMetadata().getLabels().entrySet())
                .doesNotContainAnyElementsOf(selector.entrySet().stream().filter(e -> !e.getKey().equals("app.kubernetes.io/name"))
                        .toList());
        assertThat((List<String>) ((Map<String, Object>) spec.get("namespaceSelector")).get("matchNames")).containsExactly(NS);
        List<Map<String, Object>> endpoints = (List<Map<String, Object>>) spec.get("endpoints");
        assertThat(endpoints).singleElement().satisfies(e -> {
            assertThat(e.get("port")).isEqualTo(port.getName());
            assertThat(e.get("path")).isEqualTo("/metrics");
        });
    }

    private static void checkWebhook(List<HasMetadata> objects, PodTemplateSpec template, Container c,
            SluiceOptions options) {
        ValidatingWebhookConfiguration config = only(objects, ValidatingWebhookConfiguration.class);
        ValidatingWebhook hook = config.getWebhooks().get(0);
        assertThat(config.getWebhooks()).hasSize(1);
        assertThat(hook.getAdmissionReviewVersions()).contains("v1");
        assertThat(hook.getSideEffects()).isEqualTo("None");
        assertThat(hook.getRules()).extracting(RuleWithOperations::getApiGroups, RuleWithOperations::getApiVersions,
                RuleWithOperations::getResources).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(List.of("networking.k8s.io"), List.of("v1"), List.of("ingresses")));
        assertThat(hook.getRules().get(0).getOperations()).containsExactlyInAnyOrder("CREATE", "UPDATE");
        var ref = hook.getClientConfig().getService();
        assertThat(ref.getPath()).isEqualTo("/networking/v1/ingresses");
        assertThat(ref.getNamespace()).isEqualTo(NS);
        Service svc = named(objects, Service.class, ref.getName());
        assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
        ServicePort sp = svc.getSpec().getPorts().stream().filter(p -> p.getPort().equals(ref.getPort())).findFirst()
                .orElseThrow();
        assertThat(port(c, sp.getTargetPort())).isEqualTo(options.validatingWebhook().port());
        assertThat(options.validatingWebhook().host()).isNull(); // the Pod IP, where the Service sends it

        // the certificate and key come from the Secret mounted where the flags look
        for (Path p : List.of(options.validatingWebhook().certificate(), options.validatingWebhook().key())) {
            String file = p.toString();
            var mount = c.getVolumeMounts().stream().filter(m -> file.startsWith(m.getMountPath() + "/")).findFirst()
                    .orElseThrow(() -> new AssertionError(file + " is on no volume"));
            assertThat(template.getSpec().getVolumes()).filteredOn(v -> v.getName().equals(mount.getName()))
                    .singleElement().satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("sluice-admission"));
        }
    }

    private static int port(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).map(ContainerPort::getContainerPort)
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + name));
    }

    private static int port(Container c, IntOrString target) {
        return target.getStrVal() != null ? port(c, target.getStrVal()) : target.getIntVal();
    }

    private static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> type) {
        List<T> found = all(objects, type);
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    private static <T extends HasMetadata> T named(List<HasMetadata> objects, Class<T> type, String name) {
        return all(objects, type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }
}
