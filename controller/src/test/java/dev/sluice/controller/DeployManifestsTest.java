package dev.sluice.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.controller.source.ManifestParser;
import dev.sluice.controller.source.ParsedManifest;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Translation;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.RoutingDecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every manifest shipped under {@code deploy/} (recursively, whatever is added later) is valid
 * YAML/JSON and every document in it is a Kubernetes object with {@code apiVersion}, {@code kind}
 * and {@code metadata.name}. The {@code kustomization.yaml} files are kustomize's, not objects;
 * {@code deploy.DeployOverlaysTest} renders them.
 */
class DeployManifestsTest {
    static final Path DEPLOY = Path.of(System.getProperty("basedir", ".")).resolve("../deploy").normalize();

    @Test
    void everyManifestUnderDeployIsAKubernetesObject() throws IOException {
        List<Path> files = manifestFiles(DEPLOY);
        assertThat(files).as("manifests under %s", DEPLOY).isNotEmpty();
        int objects = 0;
        for (Path file : files) {
            List<JsonNode> docs = documents(file);
            assertThat(docs).as("%s has at least one document", file).isNotEmpty();
            for (JsonNode doc : docs) {
                objects += checkObject(file, doc);
            }
        }
        assertThat(objects).isGreaterThanOrEqualTo(files.size());
    }

    @Test
    void theSeedTutorialIsComplete() throws IOException {
        Path examples = DEPLOY.resolve("examples");
        assertThat(kindsAndNames(examples.resolve("deployment-user-v1.yaml"))).containsExactly("Deployment/user-v1");
        assertThat(kindsAndNames(examples.resolve("deployment-pay-v1.yaml"))).containsExactly("Deployment/pay-v1");
        assertThat(kindsAndNames(examples.resolve("user-service-v1.yaml"))).containsExactly("Service/user-service-v1");
        assertThat(kindsAndNames(examples.resolve("pay-service-v1.yaml"))).containsExactly("Service/pay-service-v1");
        assertThat(kindsAndNames(examples.resolve("ingress.yaml"))).containsExactly("Ingress/nginx-ingress");
        assertThat(kindsAndNames(examples.resolve("legacy/ingress-legacy.yaml"))).containsExactly("Ingress/nginx-ingress");

        JsonNode user = documents(examples.resolve("deployment-user-v1.yaml")).get(0);
        assertThat(user.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(user.at("/spec/template/spec/containers/0/ports/0/containerPort").asInt()).isEqualTo(80);

        JsonNode legacy = documents(examples.resolve("legacy/ingress-legacy.yaml")).get(0);
        assertThat(legacy.get("apiVersion").asText()).isEqualTo("extensions/v1beta1");
        assertThat(legacy.at("/metadata/annotations/nginx.ingress.kubernetes.io~1rewrite-target").asText()).isEqualTo("/");
        assertThat(legacy.at("/metadata/annotations/kubernetes.io~1ingress.class").asText()).isEqualTo("nginx");
        assertThat(legacy.at("/spec/backend/serviceName").asText()).isEqualTo("user-service-v1");
        assertThat(legacy.at("/spec/rules/0/http/paths/0/path").asText()).isEqualTo("/user");
        assertThat(legacy.at("/spec/rules/0/http/paths/1/backend/serviceName").asText()).isEqualTo("pay-service-v1");

        JsonNode v1 = documents(examples.resolve("ingress.yaml")).get(0);
        assertThat(v1.get("apiVersion").asText()).isEqualTo("networking.k8s.io/v1");
        assertThat(v1.at("/spec/defaultBackend/service/name").asText()).isEqualTo("user-service-v1");
        assertThat(v1.at("/spec/rules/0/http/paths/1/backend/service/port/number").asInt()).isEqualTo(80);
    }

    @Test
    void everyManifestUnderDeployParsesWithTheManifestParser() throws Exception {
        for (Path file : manifestFiles(DEPLOY)) {
            ParsedManifest parsed = ManifestParser.parse(file.getFileName().toString(), Files.readString(file));
            assertThat(parsed.objects()).allSatisfy(o -> assertThat(o.getMetadata().getName()).isNotBlank());
        }
    }

    @Test
    void theLegacyIngressAndItsV1TwinRouteTheSame() throws Exception {
        Path examples = DEPLOY.resolve("examples");
        ParsedManifest legacy = parse(examples.resolve("legacy/ingress-legacy.yaml"));
        ParsedManifest v1 = parse(examples.resolve("ingress.yaml"));
        assertThat(legacy.ingresses()).hasSize(1);
        // what the API server makes of the legacy form; only the class is spelled differently
        assertThat(v1.ingresses().get(0).getSpec().getRules()).isEqualTo(legacy.ingresses().get(0).getSpec().getRules());
        assertThat(v1.ingresses().get(0).getSpec().getDefaultBackend())
                .isEqualTo(legacy.ingresses().get(0).getSpec().getDefaultBackend());

        List<ParsedManifest> common = List.of(
                parse(examples.resolve("ingressclass.yaml")),
                parse(examples.resolve("user-service-v1.yaml")),
                parse(examples.resolve("pay-service-v1.yaml")),
                ManifestParser.parse("endpoints.yaml", """
                        apiVersion: v1
                        kind: Endpoints
                        metadata: {name: user-service-v1}
                        subsets: [{addresses: [{ip: 127.0.0.11}, {ip: 127.0.0.12}], ports: [{port: 8080}]}]
                        ---
                        apiVersion: v1
                        kind: Endpoints
                        metadata: {name: pay-service-v1}
                        subsets: [{addresses: [{ip: 127.0.0.21}], ports: [{port: 8081}]}]
                        """));
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        List<ParsedManifest> withLegacy = new ArrayList<>(common);
        withLegacy.add(legacy);
        List<ParsedManifest> withV1 = new ArrayList<>(common);
        withV1.add(v1);

        Translation a = translator.apply(ParsedManifest.toClusterState(withLegacy), Instant.now());
        Translation b = translator.apply(ParsedManifest.toClusterState(withV1), Instant.now());

        assertThat(a.problems()).isEmpty();
        assertThat(b.problems()).isEmpty();
        assertThat(b.table()).isEqualTo(a.table());
        RoutingDecision user = a.table().decide("localhost:31234", "/user/42?x=1", "http");
        assertThat(user).isInstanceOfSatisfying(RoutingDecision.Forward.class, f -> {
            assertThat(f.backend().name()).isEqualTo("default-user-service-v1-80");
            assertThat(f.upstreamUri()).isEqualTo("/?x=1"); // rewrite-target: / replaces the whole path
        });
        assertThat(a.table().decide(null, "/pay", "http")).isInstanceOfSatisfying(RoutingDecision.Forward.class,
                f -> assertThat(f.backend().endpoints()).extracting(Object::toString).containsExactly("127.0.0.21:8081"));
        assertThat(a.table().decide("other.example", "/anything-else", "http"))
                .isInstanceOfSatisfying(RoutingDecision.Forward.class,
                        f -> assertThat(f.backend().name()).isEqualTo("default-user-service-v1-80"));
    }

    private static ParsedManifest parse(Path file) throws Exception {
        return ManifestParser.parse(file.getFileName().toString(), Files.readString(file));
    }

    @Test
    void theExamplesAreInTheJarForTheDemo() {
        for (String name : List.of("deployment-user-v1.yaml", "deployment-pay-v1.yaml", "user-service-v1.yaml",
                "pay-service-v1.yaml", "ingress.yaml", "ingressclass.yaml", "legacy/ingress-legacy.yaml")) {
            assertThat(getClass().getClassLoader().getResource("demo/" + name)).as("demo/" + name).isNotNull();
        }
    }

    static List<Path> manifestFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().equals("kustomization.yaml"))
                    // Grafana dashboards are imported into Grafana, not applied to a cluster
                    .filter(p -> !root.relativize(p).startsWith("grafana"))
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")
                            || p.toString().endsWith(".json"))
                    .sorted()
                    .toList();
        }
    }

    static List<JsonNode> documents(Path file) throws IOException {
        ObjectMapper mapper = file.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = mapper.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) { // "---" with nothing after it
                    docs.add(doc);
                }
            }
        }
        return docs;
    }

    private static int checkObject(Path file, JsonNode doc) {
        assertThat(doc.path("apiVersion").asText()).as("%s: apiVersion", file).isNotBlank();
        assertThat(doc.path("kind").asText()).as("%s: kind", file).isNotBlank();
        if (doc.get("kind").asText().equals("List")) {
            int n = 0;
            for (JsonNode item : doc.path("items")) {
                n += checkObject(file, item);
            }
            return n;
        }
        assertThat(doc.path("metadata").path("name").asText())
                .as("%s: metadata.name of a %s", file, doc.get("kind").asText()).isNotBlank();
        return 1;
    }

    private static List<String> kindsAndNames(Path file) throws IOException {
        return documents(file).stream().map(d -> d.get("kind").asText() + "/" + d.at("/metadata/name").asText()).toList();
    }
}
