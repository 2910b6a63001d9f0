package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoBackendsTest {
    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void fourPodsAnswerWithTheirNameThePathAndTheHeaders() throws Exception {
        try (DemoBackends backends = DemoBackends.start()) {
            assertThat(backends.pods()).extracting(DemoBackends.Pod::name)
                    .containsExactly("user-v1-1", "user-v1-2", "user-v1-3", "pay-v1-1");
            assertThat(backends.pods()).extracting(DemoBackends.Pod::service)
                    .containsExactly("user-service-v1", "user-service-v1", "user-service-v1", "pay-service-v1");
            if (System.getProperty("os.name").startsWith("Linux")) {
                assertThat(backends.pods()).extracting(DemoBackends.Pod::ip)
                        .containsExactly("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.21");
            }
            for (DemoBackends.Pod pod : backends.pods()) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                                URI.create("http://" + pod.ip() + ":" + pod.port() + "/some/path?q=1"))
                        .header("X-Forwarded-Prefix", "/user").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body())
                        .startsWith(pod.app() + " pod " + pod.name() + " (" + pod.ip() + ":" + pod.port() + ") path=/some/path\n")
                        .contains("GET /some/path?q=1 HTTP/1.1")
                        .contains("x-forwarded-prefix: /user");
            }
        }
    }

    @Test
    void endpointsManifestPointsTheServicesAtThePods() throws Exception {
        try (DemoBackends backends = DemoBackends.start()) {
            List<JsonNode> docs = new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class)
                    .<JsonNode>readValues(backends.endpointsYaml()).readAll();
            docs.removeIf(d -> d == null || d.isNull() || d.isMissingNode());

            assertThat(docs).extracting(d -> d.get("kind").asText()).containsOnly("Endpoints");
            assertThat(docs).extracting(d -> d.at("/metadata/name").asText())
                    .containsExactly("pay-service-v1", "user-service-v1");
            JsonNode users = docs.get(1);
            assertThat(users.get("subsets")).hasSize(3);
            for (int i = 0; i < 3; i++) {
                DemoBackends.Pod pod = backends.pods().get(i);
                JsonNode subset = users.get("subsets").get(i);
                assertThat(subset.at("/addresses/0/ip").asText()).isEqualTo(pod.ip());
                assertThat(subset.at("/addresses/0/targetRef/name").asText()).isEqualTo(pod.name());
                assertThat(subset.at("/ports/0/port").asInt()).isEqualTo(pod.port());
            }
        }
    }
}
