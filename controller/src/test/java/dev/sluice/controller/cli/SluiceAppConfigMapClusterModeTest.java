package dev.sluice.controller.cli;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.controller.testing.MockApiServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --configmap} in cluster mode against fabric8's mock API server (CRUD): the key groups of
 * {@link ConfigMapKeyGroups} with the ConfigMaps created, replaced and deleted through the API
 * while Sluice runs; and a ConfigMap the global one names ({@code add-headers}) watched once named,
 * with nothing but the named ConfigMaps read.
 */
class SluiceAppConfigMapClusterModeTest extends ConfigMapKeyGroups {
    private static final String REQUEST = "GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Forwarded-For: 1.2.3.4\r\n"
            + "X-Forwarded-Host: myhost\r\n\r\n";

    @TempDir
    Path dir;

    private MockApiServer api;
    private KubernetesClient kubectl;
    private SluiceApp app;

    private static ConfigMap configMap(String name, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withNamespace("ingress-nginx").withName(name).endMetadata()
                .withData(data).build();
    }

    private static SluiceApp clusterApp(MockApiServer api, Path dir) throws Exception {
        return new SluiceApp(Main.parse("--kubeconfig", api.writeKubeconfig(dir).toString(),
                "--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
                "--event-loops=1", "--access-log=off", "--shutdown-grace-period=0",
                "--publish-status-address=192.0.2.10", "--update-status-on-shutdown=false",
                "--configmap=ingress-nginx/" + GLOBAL));
    }

    @Override
    void startSluice(Map<String, Map<String, String>> configMaps, List<IngressFixture> ingresses) throws Exception {
        api = new MockApiServer();
        kubectl = api.adminClient();
        int port = web.endpoint().port();
        kubectl.resource(service("default", "web", port)).create();
        kubectl.resource(slice("default", "web-abc", "web", port, "127.0.0.1")).create();
        for (IngressFixture i : ingresses) {
            Ingress ing = ingress("default", i.name(), i.host(), "/", "web", port);
            Map<String, String> annotations = new HashMap<>(ing.getMetadata().getAnnotations());
            i.annotations().forEach((k, v) -> annotations.put("nginx.ingress.kubernetes.io/" + k, v));
            ing.getMetadata().setAnnotations(annotations);
            kubectl.resource(ing).create();
        }
        for (Map.Entry<String, Map<String, String>> c : configMaps.entrySet()) {
            putConfigMap(c.getKey(), c.getValue());
        }
        app = clusterApp(api, dir);
        app.start();
    }

    @Override
    void putConfigMap(String name, Map<String, String> data) {
        kubectl.resource(configMap(name, data)).unlock().createOr(NonDeletingOperation::update);
    }

    @Override
    void deleteConfigMap(String name) {
        kubectl.configMaps().inNamespace("ingress-nginx").withName(name).delete();
    }

    @Override
    SluiceApp app() {
        return app;
    }

    @Override
    void stopSluice() {
        if (app != null) {
            app.shutdown(Duration.ZERO);
        }
        if (kubectl != null) {
            kubectl.close();
        }
        if (api != null) {
            api.close();
        }
    }

    @Test
    void aConfigMapTheGlobalOneNamesIsWatchedOnceNamedAndNothingElse() throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient();
                TestBackend web = TestBackend.start("web-1", "127.0.0.1")) {
            int port = web.endpoint().port();
            kubectl.resource(service("default", "web", port)).create();
            kubectl.resource(slice("default", "web-abc", "web", port, "127.0.0.1")).create();
            kubectl.resource(ingress("default", "app", "app.example.com", "/", "web", port)).create();

            SluiceApp app = clusterApp(api, dir);
            try {
                app.start();
                await().atMost(Duration.ofSeconds(10)).until(() -> app.routes().isPublished());
                // no ConfigMap yet: ingress-nginx's defaults
                assertThat(forwardedFor(app)).isEqualTo("127.0.0.1");

                kubectl.resource(configMap("ingress-nginx-controller", Map.of("use-forwarded-headers", "true",
                        "add-headers", "ingress-nginx/response-headers"))).create();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "1.2.3.4".equals(forwardedFor(app)));
                assertThat(header(echo(app), "host")).isEqualTo("myhost");

                // the ConfigMap add-headers names is watched from the moment it is named
                kubectl.resource(configMap("response-headers", Map.of("X-Frame-Options", "DENY"))).create();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "DENY".equals(get(app).header("x-frame-options")));

                kubectl.configMaps().inNamespace("ingress-nginx").withName("ingress-nginx-controller")
                        .edit(c -> new ConfigMapBuilder(c).withData(Map.of("use-forwarded-headers", "false")).build());
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "127.0.0.1".equals(forwardedFor(app)));
                assertThat(get(app).header("x-frame-options")).isNull();

                kubectl.resource(configMap("ingress-nginx-controller", Map.of("use-forwarded-headers", "true")))
                        .update();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "1.2.3.4".equals(forwardedFor(app)));
                kubectl.configMaps().inNamespace("ingress-nginx").withName("ingress-nginx-controller").delete();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> "127.0.0.1".equals(forwardedFor(app)));

                // each ConfigMap was asked for by name, nothing wider
                assertThat(api.requests()).filteredOn(r -> r.contains("/configmaps"))
                        .isNotEmpty()
                        .allMatch(r -> r.startsWith("GET /api/v1/namespaces/ingress-nginx/configmaps?")
                                && (r.contains("fieldSelector=metadata.name%3Dingress-nginx-controller")
                                || r.contains("fieldSelector=metadata.name%3Dresponse-headers")), "named only");
            } finally {
                app.shutdown(Duration.ZERO);
            }
        }
    }

    private static RawHttpClient.Response get(SluiceApp app) {
        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            return c.exchange(REQUEST);
        }
    }

    private static JsonNode echo(SluiceApp app) throws Exception {
        RawHttpClient.Response r = get(app);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return JSON.readTree(r.text());
    }

    private static String forwardedFor(SluiceApp app) throws Exception {
        return header(echo(app), "x-forwarded-for");
    }

    private static String header(JsonNode echo, String name) {
        JsonNode values = echo.path("headers").path(name);
        return values.isMissingNode() ? null : values.get(0).asText();
    }
}
