package dev.sluice.controller.admission;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.controller.cli.Main;
import dev.sluice.controller.cli.SluiceApp;
import dev.sluice.gateway.proxy.TestCertificates;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The validating admission webhook of a running Sluice ({@code --validating-webhook} with a PEM
 * certificate and key, manifest mode for the current objects): AdmissionReview v1 requests as the
 * API server sends them, over TLS to {@code /networking/v1/ingresses}; the Ingresses Sluice would
 * report are rejected with the problem, the others allowed.
 */
class AdmissionWebhookTest {
    private static final KubernetesSerialization K8S = new KubernetesSerialization();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static SluiceApp app;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("objects.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web, namespace: default}
                subsets: [{addresses: [{ip: 127.0.0.2}], ports: [{name: http, port: 8080}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web-v2, namespace: default}
                spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web-v3, namespace: default}
                spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: owner
                  namespace: default
                  creationTimestamp: "2025-01-01T00:00:00Z"
                  annotations: {kubernetes.io/ingress.class: nginx}
                spec:
                  rules:
                    - host: app.example.com
                      http:
                        paths:
                          - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: canary-a
                  namespace: default
                  creationTimestamp: "2025-01-02T00:00:00Z"
                  annotations:
                    kubernetes.io/ingress.class: nginx
                    nginx.ingress.kubernetes.io/canary: "true"
                    nginx.ingress.kubernetes.io/canary-weight: "10"
                spec:
                  rules:
                    - host: app.example.com
                      http:
                        paths:
                          - {path: /api, pathType: Prefix, backend: {service: {name: web-v2, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: newer
                  namespace: default
                  creationTimestamp: "2025-02-01T00:00:00Z"
                  annotations: {kubernetes.io/ingress.class: nginx}
                spec:
                  rules:
                    - host: newer.example.com
                      http:
                        paths:
                          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                ---
                # already broken: its problem must not reject anyone else
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: broken
                  namespace: default
                  annotations:
                    kubernetes.io/ingress.class: nginx
                    nginx.ingress.kubernetes.io/use-regex: "true"
                spec:
                  rules:
                    - host: broken.example.com
                      http:
                        paths:
                          - {path: "/(open", pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
                """);
        TestCertificates.Issued cert = TestCertificates.issue("localhost", "localhost");
        Path certFile = Files.writeString(dir.resolve("tls.crt"), cert.certificatePem());
        Path keyFile = Files.writeString(dir.resolve("tls.key"), cert.pkcs8KeyPem());
        app = new SluiceApp(Main.parse("--manifests=" + manifests, "--http-port=0", "--https-port=0",
                "--healthz-port=0", "--access-log=off", "--bind-address=127.0.0.1",
                "--validating-webhook=127.0.0.1:0", "--validating-webhook-certificate=" + certFile,
                "--validating-webhook-key=" + keyFile));
        app.start();

        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("webhook", CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(cert.certificatePem().getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void aValidIngressIsAllowedAndTheUidIsEchoed() throws Exception {
        JsonNode review = post(review("CREATE", ingress("default", "shop", "shop.example.com", "/", "web", 80)));
        assertThat(review.get("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
        assertThat(review.get("kind").asText()).isEqualTo("AdmissionReview");
        assertThat(review.at("/response/allowed").asBoolean()).isTrue();
        assertThat(review.at("/response/uid").asText()).isEqualTo(lastUid);
        assertThat(review.at("/response/warnings").isMissingNode() || review.at("/response/warnings").isEmpty()).isTrue();
    }

    @Test
    void anInvalidRegexIsRejected() throws Exception {
        Ingress bad = ingress("default", "regex", "regex.example.com", "/(unclosed", "web", 80);
        annotate(bad, "nginx.ingress.kubernetes.io/use-regex", "true");
        bad.getSpec().getRules().get(0).getHttp().getPaths().get(0).setPathType("ImplementationSpecific");
        assertRejected(post(review("CREATE", bad)), "invalid regex path \"/(unclosed\"");
    }

    @Test
    void aSecondCanaryOnTheSamePathIsRejected() throws Exception {
        Ingress canary = ingress("default", "canary-b", "app.example.com", "/api", "web-v3", 80);
        annotate(canary, "nginx.ingress.kubernetes.io/canary", "true");
        annotate(canary, "nginx.ingress.kubernetes.io/canary-weight", "50");
        assertRejected(post(review("CREATE", canary)), "already has the canary default/canary-a");
    }

    @Test
    void aMissingAuthSecretIsRejected() throws Exception {
        Ingress auth = ingress("default", "private", "private.example.com", "/", "web", 80);
        annotate(auth, "nginx.ingress.kubernetes.io/auth-type", "basic");
        annotate(auth, "nginx.ingress.kubernetes.io/auth-secret", "htpasswd");
        assertRejected(post(review("CREATE", auth)), "not found");
    }

    @Test
    void snippetAnnotationsAreRejected() throws Exception {
        Ingress snippet = ingress("default", "snippet", "snippet.example.com", "/", "web", 80);
        annotate(snippet, "nginx.ingress.kubernetes.io/configuration-snippet", "more_set_headers \"X: y\";");
        assertRejected(post(review("CREATE", snippet)), "snippet annotations are not supported");
    }

    @Test
    void aHostAndPathAnotherIngressOwnsIsRejected() throws Exception {
        assertRejected(post(review("CREATE", ingress("default", "thief", "app.example.com", "/api", "web", 80))),
                "already defined by Ingress default/owner");
    }

    @Test
    void theOwnerMayUpdateItsOwnPaths() throws Exception {
        Ingress owner = ingress("default", "owner", "app.example.com", "/api", "web", 80);
        owner.getMetadata().setCreationTimestamp("2025-01-01T00:00:00Z");
        owner.getSpec().getRules().get(0).getHttp().getPaths().add(ingress("default", "x", "app.example.com", "/v2",
                "web", 80).getSpec().getRules().get(0).getHttp().getPaths().get(0));
        assertThat(post(review("UPDATE", owner)).at("/response/allowed").asBoolean()).isTrue();
    }

    @Test
    void anOlderIngressTakingAPathFromANewerOneIsRejected() throws Exception {
        // the oldest wins: this update of "owner" would take newer.example.com/ away from "newer"
        Ingress owner = ingress("default", "owner", "app.example.com", "/api", "web", 80);
        owner.getMetadata().setCreationTimestamp("2025-01-01T00:00:00Z");
        owner.getSpec().getRules().add(ingress("default", "x", "newer.example.com", "/", "web", 80)
                .getSpec().getRules().get(0));
        assertRejected(post(review("UPDATE", owner)), "would break Ingress default/newer");
    }

    @Test
    void aMissingServiceOnlyWarns() throws Exception {
        JsonNode review = post(review("CREATE", ingress("default", "early", "early.example.com", "/", "not-yet", 80)));
        assertThat(review.at("/response/allowed").asBoolean()).isTrue();
        assertThat(review.at("/response/warnings/0").asText()).contains("not-yet").contains("not found");
    }

    @Test
    void ingressesOfOtherClassesAndOtherRequestsAreNotJudged() throws Exception {
        Ingress other = ingress("default", "theirs", "theirs.example.com", "/(unclosed", "web", 80);
        annotate(other, "kubernetes.io/ingress.class", "other");
        annotate(other, "nginx.ingress.kubernetes.io/use-regex", "true");
        assertThat(post(review("CREATE", other)).at("/response/allowed").asBoolean()).isTrue();

        Ingress thief = ingress("default", "thief", "app.example.com", "/api", "web", 80);
        assertThat(post(review("DELETE", thief)).at("/response/allowed").asBoolean()).isTrue();
    }

    @Test
    void onlyPostToTheIngressPathIsServed() throws Exception {
        HttpResponse<String> wrongPath = client.send(HttpRequest.newBuilder(uri("/validate")).POST(
                HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrongPath.statusCode()).isEqualTo(404);
        HttpResponse<String> garbage = client.send(HttpRequest.newBuilder(uri(AdmissionWebhookServer.PATH)).POST(
                HttpRequest.BodyPublishers.ofString("not json")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(garbage.statusCode()).isEqualTo(400);
    }

    private static String lastUid;

    /** An AdmissionReview as the API server sends it for an Ingress write. */
    private static String review(String operation, Ingress ingress) throws Exception {
        lastUid = UUID.randomUUID().toString();
        Map<String, Object> request = new HashMap<>();
        request.put("uid", lastUid);
        request.put("kind", Map.of("group", "networking.k8s.io", "version", "v1", "kind", "Ingress"));
        request.put("resource", Map.of("group", "networking.k8s.io", "version", "v1", "resource", "ingresses"));
        request.put("name", ingress.getMetadata().getName());
        request.put("namespace", ingress.getMetadata().getNamespace());
        request.put("operation", operation);
        request.put("userInfo", Map.of("username", "kubernetes-admin", "groups", java.util.List.of("system:masters")));
        Object object = JSON.readValue(K8S.asJson(ingress), Map.class);
        if (operation.equals("DELETE")) {
            request.put("oldObject", object);
        } else {
            request.put("object", object);
        }
        request.put("dryRun", false);
        return JSON.writeValueAsString(Map.of("apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
                "request", request));
    }

    private static JsonNode post(String body) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri(AdmissionWebhookServer.PATH))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        return JSON.readTree(response.body());
    }

    private static URI uri(String path) {
        return URI.create("https://localhost:" + app.webhookPort() + path);
    }

    private static void assertRejected(JsonNode review, String reason) {
        assertThat(review.at("/response/allowed").asBoolean()).as(review.toString()).isFalse();
        assertThat(review.at("/response/uid").asText()).isEqualTo(lastUid);
        assertThat(review.at("/response/status/code").asInt()).isEqualTo(400);
        assertThat(review.at("/response/status/message").asText()).startsWith("Sluice rejects Ingress default/")
                .contains(reason).doesNotContain("default/broken");
    }

    private static void annotate(Ingress ingress, String key, String value) {
        Map<String, String> annotations = new HashMap<>(ingress.getMetadata().getAnnotations());
        annotations.put(key, value);
        ingress.getMetadata().setAnnotations(annotations);
    }
}
