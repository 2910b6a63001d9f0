package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.proxy.FakeCertificate;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifest mode: a TLS Secret file is served by SNI on the HTTPS port, and an edited Secret rotates live. */
class SluiceAppTlsTest {

    @Test
    void aTlsSecretInTheManifestsIsServedAndItsRotationTakesEffect(@TempDir Path dir) throws Exception {
        TestCertificates.Issued first = TestCertificates.issue("shop.example.com", "shop.example.com");
        Files.writeString(dir.resolve("ingress.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: shop, namespace: default, annotations: {kubernetes.io/ingress.class: nginx}}
                spec:
                  tls:
                  - hosts: [shop.example.com]
                    secretName: shop-tls
                  rules:
                  - host: shop.example.com
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
                """);
        Files.writeString(dir.resolve("secret.yaml"), secretYaml(first));

        try (SluiceApp app = new SluiceApp(Main.parse("--manifests", dir.toString(), "--http-port=0",
                "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1", "--event-loops=1",
                "--access-log=off"))) {
            app.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
            assertThat(presented(app, "shop.example.com")).isEqualTo(first.certificate());
            assertThat(presented(app, "other.example.com").getSubjectX500Principal().getName())
                    .contains(FakeCertificate.COMMON_NAME);

            TestCertificates.Issued renewed = TestCertificates.issue("shop.example.com", "shop.example.com");
            Files.writeString(dir.resolve("secret.yaml"), secretYaml(renewed));
            await().atMost(Duration.ofSeconds(10)).until(() -> presented(app, "shop.example.com")
                    .equals(renewed.certificate()));
        }
    }

    private static String secretYaml(TestCertificates.Issued c) {
        return """
                apiVersion: v1
                kind: Secret
                metadata: {name: shop-tls, namespace: default}
                type: kubernetes.io/tls
                data:
                  tls.crt: %s
                  tls.key: %s
                """.formatted(base64(c.certificatePem()), base64(c.pkcs1KeyPem()));
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static X509Certificate presented(SluiceApp app, String sni) throws Exception {
        try (RawHttpClient c = RawHttpClient.connectTls(app.httpsPort(), sni)) {
            return (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
        }
    }
}
