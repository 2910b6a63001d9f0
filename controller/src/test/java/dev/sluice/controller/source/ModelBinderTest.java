package dev.sluice.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelBinder} makes the same fabric8 objects as Jackson's {@code treeToValue} (what the
 * parser used before), for every manifest in the repository and for a file that sets every field
 * of every kind kept, with the value forms Jackson coerces; and refuses what Jackson refuses.
 */
class ModelBinderTest {
    private static final ObjectMapper JACKSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Map<String, Class<? extends HasMetadata>> KEPT = Map.of(
            "Ingress", Ingress.class, "IngressClass", IngressClass.class, "Service", Service.class,
            "Endpoints", Endpoints.class, "EndpointSlice", EndpointSlice.class, "Secret", Secret.class,
            "ConfigMap", ConfigMap.class);

    private static Path repository() {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("deploy"))) {
            p = p.getParent();
        }
        return p;
    }

    /** Every object of a kept kind in {@code file} (a List's items too). */
    private static List<JsonNode> keptObjects(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper reader = new ObjectMapper(new YAMLFactory()); // YAML is a superset of JSON
        try (JsonParser p = reader.getFactory().createParser(file.toFile())) {
            for (var it = reader.readValues(p, JsonNode.class); it.hasNext(); ) {
                collect(it.next(), out);
            }
        }
        return out;
    }

    private static void collect(JsonNode doc, List<JsonNode> out) {
        if (doc == null || !doc.isObject()) {
            return;
        }
        if (doc.path("items").isArray()) {
            doc.path("items").forEach(i -> collect(i, out));
        } else if (KEPT.containsKey(doc.path("kind").asText())) {
            out.add(doc);
        }
    }

    private static void bindsAsJacksonDoes(JsonNode tree) throws Exception {
        Class<? extends HasMetadata> type = KEPT.get(tree.path("kind").asText());
        HasMetadata expected = JACKSON.treeToValue(tree, type);
        HasMetadata actual = ModelBinder.bind(tree, type);
        assertThat(actual).as("%s", tree).isEqualTo(expected);
        // equals() of the model compares every field; the text form shows a difference readably
        assertThat(actual.toString()).isEqualTo(expected.toString());
    }

    @Test
    void bindsEveryFieldOfEveryKeptKindAsJacksonDoes() throws Exception {
        Path file = Path.of(getClass().getResource("/manifests/every-field.yaml").toURI());
        List<JsonNode> objects = keptObjects(file);
        assertThat(objects).extracting(o -> o.path("kind").asText())
                .containsExactlyInAnyOrderElementsOf(KEPT.keySet());
        for (JsonNode o : objects) {
            bindsAsJacksonDoes(o);
        }
    }

    @Test
    void bindsEveryManifestOfTheRepositoryAsJacksonDoes() throws Exception {
        Path root = repository();
        List<Path> files;
        try (Stream<Path> s = Stream.of("deploy", "loadtest/manifests", "controller/src/test/resources", "controller/src/main/resources")
                .map(root::resolve).filter(Files::isDirectory).flatMap(d -> {
                    try {
                        return Files.walk(d);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })) {
            files = s.filter(f -> f.toString().matches(".*\\.(ya?ml|json)$")).sorted().toList();
        }
        int objects = 0;
        for (Path f : files) {
            List<JsonNode> kept;
            try {
                kept = keptObjects(f);
            } catch (IOException e) {
                continue; // not YAML (a dashboard with templates) or broken on purpose: not a binding case
            }
            for (JsonNode o : kept) {
                bindsAsJacksonDoes(o);
                objects++;
            }
        }
        assertThat(objects).as("objects compared").isGreaterThan(50);
    }

    @Test
    void refusesWhatJacksonRefuses() throws Exception {
        for (String bad : List.of(
                "{kind: Ingress, metadata: {name: a}, spec: {rules: [{http: {paths: \"not a list\"}}]}}",
                "{kind: Ingress, metadata: {name: a}, spec: {rules: \"not a list\"}}",
                "{kind: Ingress, metadata: {name: a}, spec: {defaultBackend: {service: {name: s, port: {number: abc}}}}}",
                "{kind: Ingress, metadata: {name: {nested: map}}}",
                "{kind: Service, metadata: {name: a, labels: [a, b]}}",
                "{kind: Service, metadata: {name: a}, spec: {ports: [{port: 80, targetPort: {a: b}}]}}",
                "{kind: Service, metadata: {name: a}, spec: {publishNotReadyAddresses: maybe}}",
                "{kind: EndpointSlice, metadata: {name: a}, endpoints: [{addresses: 10.0.0.1}]}")) {
            JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(bad);
            Class<? extends HasMetadata> type = KEPT.get(tree.path("kind").asText());
            assertThatThrownBy(() -> JACKSON.treeToValue(tree, type)).as("Jackson on %s", bad)
                    .isInstanceOf(com.fasterxml.jackson.core.JsonProcessingException.class);
            assertThatThrownBy(() -> ModelBinder.bind(tree, type)).as("binder on %s", bad)
                    .isInstanceOf(ModelBinder.Mismatch.class);
        }
    }

    @Test
    void aMismatchNamesThePathOfTheField() throws Exception {
        JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(
                "{kind: Ingress, metadata: {name: a}, spec: {rules: [{host: a}, {http: {paths: [{path: /, backend: {service: {port: {number: x}}}}]}}]}}");
        assertThatThrownBy(() -> ModelBinder.bind(tree, Ingress.class))
                .isInstanceOfSatisfying(ModelBinder.Mismatch.class, e -> {
                    assertThat(e.path()).containsExactly("spec", "rules", 1, "http", "paths", 0, "backend", "service",
                            "port", "number");
                    assertThat(e.getMessage()).isEqualTo("expected an integer, found string \"x\"");
                });
    }
}
