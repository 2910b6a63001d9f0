package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.ClusterProxy;
import dev.sluice.gateway.proxy.TestBackend;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code custom-headers} in cluster mode: the ConfigMap an Ingress names is watched (and only
 * that one), its data reach the responses, and a change to it applies live.
 */
class ClusterModeCustomHeadersTest {
    private static final String HOST = "app.example.com";
    private TestBackend backend;
    private ClusterProxy cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void theNamedConfigMapIsWatchedAndItsChangesApplyLive() throws Exception {
        backend = TestBackend.start("pod-a", "127.0.0.2");
        cluster = new ClusterProxy(Duration.ofMillis(20));
        cluster.apply(service("default", "web", 8080));
        cluster.apply(slice("default", "web-a", "web", backend.endpoint().port(), backend.endpoint().address()));
        cluster.apply(configMap("unrelated", Map.of("big", "x".repeat(10_000))));
        Ingress ing = ingress("default", "web", HOST, "/", "web", 8080);
        ing.getMetadata().setAnnotations(Map.of("kubernetes.io/ingress.class", "nginx",
                "nginx.ingress.kubernetes.io/custom-headers", "web-headers"));
        cluster.apply(ing);

        // the ConfigMap does not exist yet: the location is denied
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.get(HOST, "/").status() == 503);

        cluster.apply(configMap("web-headers", Map.of("X-Team", "blue")));
        await().atMost(Duration.ofSeconds(10)).until(() -> "blue".equals(cluster.get(HOST, "/").header("x-team")));
        assertThat(cluster.get(HOST, "/").status()).isEqualTo(200);

        cluster.apply(configMap("web-headers", Map.of("X-Team", "green")));
        await().atMost(Duration.ofSeconds(10)).until(() -> "green".equals(cluster.get(HOST, "/").header("x-team")));

        // only the ConfigMap in use is held
        assertThat(cluster.source().snapshot().configMaps()).extracting(c -> c.getMetadata().getName())
                .containsExactly("web-headers");

        // once no Ingress names it, it is no longer watched
        ing.getMetadata().setAnnotations(Map.of("kubernetes.io/ingress.class", "nginx"));
        cluster.apply(ing);
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.get(HOST, "/").header("x-team") == null);
        assertThat(cluster.source().snapshot().configMaps()).isEmpty();
    }

    private static ConfigMap configMap(String name, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withData(data).build();
    }
}
