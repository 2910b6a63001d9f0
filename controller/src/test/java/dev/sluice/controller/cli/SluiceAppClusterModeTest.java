package dev.sluice.controller.cli;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.controller.testing.MockApiServer;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cluster mode wired by {@link SluiceApp}, against fabric8's mock API server (CRUD, real watches). */
class SluiceAppClusterModeTest {
    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void servesTheIngressesOfTheClusterAndFollowsChanges(@TempDir Path dir) throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient();
                DemoBackends pods = DemoBackends.start()) {
            DemoBackends.Pod pod = pods.pods().get(0);
            kubectl.resource(service("default", "web", pod.port())).create();
            kubectl.resource(slice("default", "web-abc", "web", pod.port(), pod.ip())).create();
            kubectl.resource(ingress("default", "web", "", "/web", "web", pod.port())).create();

            SluiceApp app = new SluiceApp(Main.parse("--kubeconfig", api.writeKubeconfig(dir).toString(),
                    "--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
                    "--event-loops=1", "--access-log=off", "--shutdown-grace-period=0",
                    "--publish-status-address=192.0.2.10", "--update-status-on-shutdown=false"));
            try {
                app.start();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> get(app.adminPort(), "/readyz").statusCode() == 200);

                JsonNode route = routes(app).at("/hosts/_/routes/0");
                assertThat(route.get("path").asText()).isEqualTo("/web");
                assertThat(route.get("source").asText()).isEqualTo("default/web");
                assertThat(route.get("endpoints")).extracting(JsonNode::asText)
                        .containsExactly(pod.ip() + ":" + pod.port());

                HttpResponse<String> proxied = get(app.httpPort(), "/web/x");
                assertThat(proxied.statusCode()).isEqualTo(200);
                assertThat(proxied.body()).startsWith(pod.app() + " pod " + pod.name()).contains("path=/web/x");

                // the leader writes the status address of the Ingresses it serves
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Ingress web = kubectl.network().v1().ingresses().inNamespace("default").withName("web").get();
                    return web.getStatus() != null && web.getStatus().getLoadBalancer() != null
                            && web.getStatus().getLoadBalancer().getIngress() != null
                            && web.getStatus().getLoadBalancer().getIngress().stream()
                                    .anyMatch(i -> "192.0.2.10".equals(i.getIp()));
                });

                Ingress shop = ingress("default", "shop", "shop.example.com", "/", "web", pod.port());
                kubectl.resource(shop).create();
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> routes(app).at("/hosts/shop.example.com/routes/0/source").asText().equals("default/shop"));
                assertThat(getWithHost(app.httpPort(), "shop.example.com", "/"))
                        .startsWith("HTTP/1.1 200").contains(pod.app() + " pod " + pod.name());
            } finally {
                app.shutdown(Duration.ZERO);
            }
        }
    }

    private JsonNode routes(SluiceApp app) throws Exception {
        return new ObjectMapper().readTree(get(app.adminPort(), "/routes").body());
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A GET with a Host header of our choosing (java.net.http refuses to set one). */
    static String getWithHost(int port, String host, String path) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
