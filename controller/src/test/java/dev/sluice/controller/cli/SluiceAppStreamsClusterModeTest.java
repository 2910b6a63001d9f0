package dev.sluice.controller.cli;

import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.EchoServers;
import dev.sluice.controller.testing.MockApiServer;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tcp-services-configmap} in cluster mode, against fabric8's mock API server: creating the
 * ConfigMap opens its port, deleting it closes the port; only that ConfigMap is watched.
 */
class SluiceAppStreamsClusterModeTest {
    @Test
    void creatingTheConfigMapOpensThePortAndDeletingItClosesIt(@TempDir Path dir) throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient();
                EchoServers echo = new EchoServers()) {
            int backend = echo.tcpEcho("127.0.0.2");
            kubectl.resource(service("default", "echo", backend)).create();
            kubectl.resource(slice("default", "echo-abc", "echo", backend, "127.0.0.2")).create();
            // a ConfigMap of the same namespace the flag does not name: never read
            kubectl.resource(new ConfigMapBuilder().withNewMetadata().withNamespace("ingress-nginx")
                    .withName("other").endMetadata().withData(Map.of("1", "x")).build()).create();

            SluiceApp app = new SluiceApp(Main.parse("--kubeconfig", api.writeKubeconfig(dir).toString(),
                    "--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
                    "--event-loops=1", "--access-log=off", "--shutdown-grace-period=0",
                    "--publish-status-address=192.0.2.10", "--update-status-on-shutdown=false",
                    "--tcp-services-configmap=ingress-nginx/tcp-services"));
            try {
                app.start();
                await().atMost(Duration.ofSeconds(10)).until(() -> app.routes().isPublished());
                int port = echo.heldTcpPort();
                assertThat(app.streamPorts()).isEmpty();

                kubectl.resource(new ConfigMapBuilder().withNewMetadata().withNamespace("ingress-nginx")
                        .withName("tcp-services").endMetadata()
                        .withData(Map.of(Integer.toString(port), "default/echo:" + backend)).build()).create();
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        s.setSoTimeout(2000);
                        s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                        return new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII).equals("ping");
                    }
                });

                kubectl.configMaps().inNamespace("ingress-nginx").withName("tcp-services").delete();
                await().atMost(Duration.ofSeconds(5)).until(() -> {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        return false;
                    } catch (ConnectException e) {
                        return true;
                    }
                });
                assertThat(app.streamPorts()).isEmpty();
                // the informer asked for that one ConfigMap by name, nothing wider
                assertThat(api.requests()).filteredOn(r -> r.contains("/configmaps"))
                        .isNotEmpty()
                        .allMatch(r -> r.startsWith("GET /api/v1/namespaces/ingress-nginx/configmaps?")
                                && r.contains("fieldSelector=metadata.name%3Dtcp-services"), "named ConfigMap only");
            } finally {
                app.shutdown(Duration.ZERO);
            }
        }
    }
}
