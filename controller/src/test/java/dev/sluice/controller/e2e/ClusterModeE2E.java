package dev.sluice.controller.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * Sluice in a real (k3s) cluster: {@code deploy/overlays/baremetal-nodeport} (rendered with
 * {@code kubectl kustomize}) applied as a user would, a two-version
 * echo app behind an Ingress and a 50 % canary Ingress, requests through the NodePort 31234.
 *
 * <p>Needs a Docker engine (skipped without one) and a Sluice image: {@code -Dsluice.image=NAME}
 * that k3s can pull, or additionally {@code -Dsluice.imageTar=FILE} (from {@code docker save NAME})
 * which is imported into k3s's containerd. Skipped without {@code sluice.image}. Run:
 * {@code mvn -pl controller -am verify -Pe2e -Dsluice.image=localhost/sluice:0.1.0-SNAPSHOT
 * -Dsluice.imageTar=controller/target/sluice-image.tar} (the tarball of {@code mvn -Pimage package}).
 */
@Testcontainers(disabledWithoutDocker = true)
class ClusterModeE2E {
    private static final Path OVERLAY = Path.of("..", "deploy", "overlays", "baremetal-nodeport");
    private static final String HOST = "echo.example.com";

    private static K3sContainer k3s;
    private static KubernetesClient client;

    @BeforeAll
    static void startCluster() throws Exception {
        String image = System.getProperty("sluice.image", "");
        Assumptions.assumeTrue(!image.isBlank() && !image.startsWith("${"),
                "set -Dsluice.image=IMAGE (and optionally -Dsluice.imageTar=FILE) to run the k3s end-to-end test");
        k3s = new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"));
        k3s.addExposedPort(31234);
        k3s.start();
        String tar = System.getProperty("sluice.imageTar", "");
        if (!tar.isBlank()) {
            k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/sluice-image.tar");
            var result = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/sluice-image.tar");
            assertThat(result.getExitCode()).as(result.getStderr()).isZero();
        }
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();

        Process kustomize = new ProcessBuilder("kubectl", "kustomize", OVERLAY.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<HasMetadata> sluice;
        try (InputStream in = kustomize.getInputStream()) {
            sluice = client.load(in).items();
        }
        assertThat(kustomize.waitFor()).as("kubectl kustomize " + OVERLAY).isZero();
        for (HasMetadata o : sluice) {
            if (o instanceof Deployment d) {
                d.getSpec().setReplicas(1);
                d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
                d.getSpec().getTemplate().getSpec().getContainers().get(0)
                        .setImagePullPolicy(tar.isBlank() ? "IfNotPresent" : "Never");
            }
            apply(o);
        }
        for (String version : List.of("v1", "v2")) {
            apply(echo(version));
            apply(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("echo-" + version).endMetadata()
                    .withNewSpec().withSelector(Map.of("app", "echo-" + version))
                    .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(5678)).endPort()
                    .endSpec().build());
        }
        apply(ingress("echo", "echo-v1", Map.of()));
        apply(ingress("echo-canary", "echo-v2", Map.of(
                "nginx.ingress.kubernetes.io/canary", "true",
                "nginx.ingress.kubernetes.io/canary-weight", "50")));
        client.apps().deployments().inNamespace("sluice").withName("sluice").waitUntilReady(5, TimeUnit.MINUTES);
        for (String version : List.of("v1", "v2")) {
            client.apps().deployments().inNamespace("default").withName("echo-" + version).waitUntilReady(3, TimeUnit.MINUTES);
        }
    }

    @AfterAll
    static void stopCluster() {
        if (client != null) {
            client.close();
        }
        if (k3s != null) {
            k3s.stop();
        }
    }

    @Test
    void requestsThroughTheNodePortReachTheAppAndTheCanaryGetsItsShare() throws Exception {
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> get(HOST).startsWith("HTTP/1.1 200"));
        int canary = 0;
        int requests = 200;
        for (int i = 0; i < requests; i++) {
            String response = get(HOST);
            assertThat(response).startsWith("HTTP/1.1 200");
            if (response.contains("echo v2")) {
                canary++;
            } else {
                assertThat(response).contains("echo v1");
            }
        }
        // 50 % of 200: more than 5 standard deviations (7.1) of room either way
        assertThat(canary).isBetween(60, 140);
        assertThat(get("unknown.example.com")).startsWith("HTTP/1.1 404");
    }

    @Test
    void theLeaderPublishesTheNodeAddressInTheIngressStatus() {
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
            Ingress ing = client.network().v1().ingresses().inNamespace("default").withName("echo").get();
            assertThat(ing.getStatus().getLoadBalancer().getIngress()).isNotEmpty();
        });
    }

    private static void apply(HasMetadata o) {
        client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    private static Deployment echo(String version) {
        return new DeploymentBuilder().withNewMetadata().withNamespace("default").withName("echo-" + version).endMetadata()
                .withNewSpec().withReplicas(1)
                .withNewSelector().withMatchLabels(Map.of("app", "echo-" + version)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "echo-" + version)).endMetadata()
                .withNewSpec().addNewContainer().withName("echo").withImage("hashicorp/http-echo:1.0")
                .withArgs("-listen=:5678", "-text=echo " + version)
                .withNewReadinessProbe().withNewHttpGet().withPath("/").withPort(new IntOrString(5678)).endHttpGet().endReadinessProbe()
                .endContainer().endSpec().endTemplate().endSpec().build();
    }

    private static Ingress ingress(String name, String service, Map<String, String> annotations) {
        return new IngressBuilder().withNewMetadata().withNamespace("default").withName(name)
                .withAnnotations(annotations).endMetadata()
                .withNewSpec().withIngressClassName("nginx")
                .addNewRule().withHost(HOST).withNewHttp().addNewPath().withPath("/").withPathType("Prefix")
                .withNewBackend().withNewService().withName(service).withNewPort().withNumber(80).endPort().endService().endBackend()
                .endPath().endHttp().endRule().endSpec().build();
    }

    /** One HTTP/1.1 request through the NodePort with the given Host; the raw response. */
    private static String get(String host) throws Exception {
        try (Socket s = new Socket(k3s.getHost(), k3s.getMappedPort(31234))) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            s.getInputStream().transferTo(buf);
            return buf.toString(StandardCharsets.UTF_8);
        }
    }
}
