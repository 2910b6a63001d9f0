package dev.sluice.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressServiceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestParserTest {

    @Test
    void multiDocumentYamlKeepsKnownKindsInDocumentOrderAndIgnoresOthers() throws Exception {
        ParsedManifest m = ManifestParser.parse("app.yaml", """
                # a comment before the first document
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec: {replicas: 3}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {ports: [{port: 80}]}
                ---
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: web, namespace: shop}
                spec:
                  ingressClassName: nginx
                  rules: [{host: a.test}]
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: cfg}
                data: {9000: "default/echo:9000"}
                ---
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
                addressType: IPv4
                endpoints: [{addresses: [127.0.0.1]}]
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: tls}
                type: kubernetes.io/tls
                """);
        assertThat(m.objects()).extracting(HasMetadata::getKind)
                .containsExactly("Service", "Ingress", "ConfigMap", "IngressClass", "EndpointSlice", "Endpoints", "Secret");
        // a YAML number as key is still the string key ingress-nginx's tcp-services entries use
        assertThat(m.configMaps()).singleElement().satisfies(c -> {
            assertThat(c.getMetadata().getNamespace()).isEqualTo("default");
            assertThat(c.getData()).containsEntry("9000", "default/echo:9000");
        });
        assertThat(m.services()).singleElement().satisfies(s -> assertThat(s.getMetadata().getNamespace()).isEqualTo("default"));
        assertThat(m.ingresses()).singleElement().satisfies(i -> {
            assertThat(i.getMetadata().getNamespace()).isEqualTo("shop");
            assertThat(i.getSpec().getIngressClassName()).isEqualTo("nginx");
            assertThat(i.getSpec().getRules().get(0).getHost()).isEqualTo("a.test");
        });
        assertThat(m.ingressClasses()).hasSize(1);
        assertThat(m.endpointSlices()).singleElement()
                .satisfies(s -> assertThat(s.getEndpoints().get(0).getAddresses()).containsExactly("127.0.0.1"));
        assertThat(m.endpoints()).hasSize(1);
        assertThat(m.secrets()).hasSize(1);
    }

    @Test
    void listKindUnpacksItems() throws Exception {
        ParsedManifest m = ManifestParser.parse("list.yaml", """
                apiVersion: v1
                kind: List
                items:
                - {apiVersion: v1, kind: Service, metadata: {name: one}}
                - {apiVersion: apps/v1, kind: Deployment, metadata: {name: ignored}}
                - apiVersion: v1
                  kind: List
                  items: [{apiVersion: v1, kind: Service, metadata: {name: nested}}]
                - {apiVersion: v1, kind: Service, metadata: {name: two}}
                """);
        assertThat(m.services()).extracting(s -> s.getMetadata().getName()).containsExactly("one", "nested", "two");
    }

    @Test
    void jsonFilesAreParsedAsJson() throws Exception {
        ParsedManifest m = ManifestParser.parse("dir/objects.json", """
                {"apiVersion": "v1", "kind": "List", "items": [
                  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},
                  {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "b"},
                   "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "a", "port": {"number": 80}}}}]}}]}}
                ]}
                """);
        assertThat(m.services()).hasSize(1);
        assertThat(backend(m.ingresses().get(0), 0).getPort().getNumber()).isEqualTo(80);
    }

    @Test
    void legacyIngressFormsAreConvertedToV1() throws Exception {
        ParsedManifest m = ManifestParser.parse("legacy.yaml", """
                apiVersion: extensions/v1beta1
                kind: Ingress
                metadata:
                  name: old
                  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}
                spec:
                  backend: {serviceName: user-service-v1, servicePort: 80}
                  rules:
                  - http:
                      paths:
                      - {path: /user, backend: {serviceName: user-service-v1, servicePort: 80}}
                      - {path: /pay, backend: {serviceName: pay-service-v1, servicePort: http}}
                      - {path: /str, pathType: Exact, backend: {serviceName: s, servicePort: "8080"}}
                ---
                apiVersion: networking.k8s.io/v1beta1
                kind: Ingress
                metadata: {name: beta}
                spec:
                  rules:
                  - host: beta.test
                    http: {paths: [{path: /, backend: {serviceName: web, servicePort: 80}}]}
                """);
        Ingress old = m.ingresses().get(0);
        assertThat(old.getApiVersion()).isEqualTo("networking.k8s.io/v1");
        assertThat(old.getSpec().getDefaultBackend().getService().getName()).isEqualTo("user-service-v1");
        assertThat(old.getSpec().getDefaultBackend().getService().getPort().getNumber()).isEqualTo(80);
        assertThat(old.getMetadata().getAnnotations()).containsEntry("nginx.ingress.kubernetes.io/rewrite-target", "/");
        List<HTTPIngressPath> paths = old.getSpec().getRules().get(0).getHttp().getPaths();
        assertThat(paths).extracting(HTTPIngressPath::getPathType)
                .containsExactly("ImplementationSpecific", "ImplementationSpecific", "Exact");
        assertThat(backend(old, 0).getName()).isEqualTo("user-service-v1");
        assertThat(backend(old, 0).getPort().getNumber()).isEqualTo(80);
        assertThat(backend(old, 1).getPort().getName()).isEqualTo("http");
        assertThat(backend(old, 1).getPort().getNumber()).isNull();
        assertThat(backend(old, 2).getPort().getNumber()).isEqualTo(8080);
        Ingress beta = m.ingresses().get(1);
        assertThat(beta.getApiVersion()).isEqualTo("networking.k8s.io/v1");
        assertThat(backend(beta, 0).getName()).isEqualTo("web");
    }

    @Test
    void missingTimestampsBecomeSyntheticInFileThenDocumentOrder() throws Exception {
        ParsedManifest first = ManifestParser.parse("a.yaml", """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: one}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: dated, creationTimestamp: "2024-05-01T10:00:00Z"}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: two}
                """);
        ParsedManifest second = ManifestParser.parse("b.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: three}
                """);
        assertThat(first.ingresses().get(0).getMetadata().getCreationTimestamp()).isNull();
        ClusterState state = ParsedManifest.toClusterState(List.of(first, second));
        assertThat(state.ingresses()).extracting(i -> i.getMetadata().getName() + "@" + i.getMetadata().getCreationTimestamp())
                .containsExactly("one@1970-01-01T00:00:01Z", "dated@2024-05-01T10:00:00Z",
                        "two@1970-01-01T00:00:03Z", "three@1970-01-01T00:00:05Z");
        assertThat(state.services().get(0).getMetadata().getCreationTimestamp()).isEqualTo("1970-01-01T00:00:04Z");
        // the parsed objects themselves are not changed
        assertThat(first.ingresses().get(0).getMetadata().getCreationTimestamp()).isNull();
    }

    @Test
    void yamlSyntaxErrorNamesFileAndLine() {
        assertThatThrownBy(() -> ManifestParser.parse("broken.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: fine}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: [unclosed
                spec: {}
                """))
                .isInstanceOfSatisfying(ManifestException.class, e -> {
                    assertThat(e.fileName()).isEqualTo("broken.yaml");
                    assertThat(e.line()).isEqualTo(9);
                    assertThat(e.getMessage()).startsWith("broken.yaml:9: ");
                });
        assertThatThrownBy(() -> ManifestParser.parse("tabs.yaml", "apiVersion: v1\nkind: Service\n\tmetadata: x\n"))
                .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.line()).isEqualTo(3));
    }

    @Test
    void jsonSyntaxErrorNamesLine() {
        assertThatThrownBy(() -> ManifestParser.parse("x.json", "{\n  \"kind\": \"Service\",\n  \"metadata\": {\"name\": }\n}"))
                .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.line()).isEqualTo(3));
    }

    @Test
    void wrongStructureForAKeptKindNamesTheLineOfTheField() {
        assertThatThrownBy(() -> ManifestParser.parse("bad.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: ok}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: web}
                spec:
                  rules:
                  - host: a.test
                    http:
                      paths: "not a list"
                """))
                .isInstanceOfSatisfying(ManifestException.class, e -> {
                    assertThat(e.line()).isEqualTo(12);
                    assertThat(e.reason()).contains("invalid Ingress at spec.rules[0].http.paths");
                });
    }

    @Test
    void keptKindWithoutNameOrWithUnknownIngressVersionIsAnError() {
        assertThatThrownBy(() -> ManifestParser.parse("noname.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: x\n"))
                .isInstanceOfSatisfying(ManifestException.class, e -> {
                    assertThat(e.line()).isEqualTo(4);
                    assertThat(e.reason()).contains("without metadata.name");
                });
        assertThatThrownBy(() -> ManifestParser.parse("v2.yaml", "apiVersion: networking.k8s.io/v2\nkind: Ingress\nmetadata: {name: x}\n"))
                .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.line()).isEqualTo(1));
    }

    @Test
    void scalarDocumentIsAnError() {
        assertThatThrownBy(() -> ManifestParser.parse("text.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\njust text\n"))
                .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.line()).isEqualTo(5));
    }

    @Test
    void emptyAndCommentOnlyFilesHaveNoObjects() throws Exception {
        assertThat(ManifestParser.parse("empty.yaml", "").objects()).isEmpty();
        assertThat(ManifestParser.parse("comments.yaml", "# nothing here\n---\n# still nothing\n").objects()).isEmpty();
    }

    private static IngressServiceBackend backend(Ingress ingress, int path) {
        return ingress.getSpec().getRules().get(0).getHttp().getPaths().get(path).getBackend().getService();
    }
}
