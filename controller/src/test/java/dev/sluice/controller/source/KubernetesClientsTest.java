package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.controller.testing.MockApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --kubeconfig FILE}: the client talks to that file's cluster, over the JDK HTTP client. */
class KubernetesClientsTest {

    @Test
    void kubeconfigFileSelectsTheClusterAndTheJdkHttpClientIsUsed(@TempDir Path dir) throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient admin = api.adminClient()) {
            admin.resource(service("default", "web", 8080)).create();
            // the admin server shares the store: a kubeconfig pointing at the controller's server sees it
            Path kubeconfig = api.writeKubeconfig(dir);
            try (KubernetesClient client = KubernetesClients.create(kubeconfig.toString())) {
                assertThat(client.getMasterUrl().getPort()).isEqualTo(api.port());
                assertThat(client.getHttpClient().getClass().getName()).contains("jdkhttp");
                ClusterSource source = new ClusterSource(client, null, () -> {});
                source.start();
                assertThat(source.awaitSynced(Duration.ofSeconds(10))).isTrue();
                assertThat(source.snapshot().services()).extracting(s -> s.getMetadata().getName()).containsExactly("web");
                source.close();
            }
        }
    }

    @Test
    void aMissingKubeconfigFileIsAnError(@TempDir Path dir) {
        assertThatThrownBy(() -> KubernetesClients.create(dir.resolve("nope").toString()))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("--kubeconfig");
    }
}
