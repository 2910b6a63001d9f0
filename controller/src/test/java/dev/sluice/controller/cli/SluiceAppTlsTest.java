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
        Files.writeString(dir.resolve("secret.yaml"), secretYaml("shop-tls", first));

        try (SluiceApp app = new SluiceApp(Main.parse("--manifests", dir.toString(), "--http-port=0",
                "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1", "--event-loops=1",
                "--access-log=off"))) {
            app.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
            assertThat(presented(app, "shop.example.com")).isEqualTo(first.certificate());
            assertThat(presented(app, "other.example.com").getSubjectX500Principal().getName())
                    .contains(FakeCertificate.COMMON_NAME);

            TestCertificates.Issued renewed = TestCertificates.issue("shop.example.com", "shop.example.com");
            Files.writeString(dir.resolve("secret.yaml"), secretYaml("shop-tls", renewed));
            await().atMost(Duration.ofSeconds(10)).until(() -> presented(app, "shop.example.com")
                    .equals(renewed.certificate()));
        }
    }

    @Test
    void defaultSslCertificateIsServedForUnknownAndMissingSniAndTlsHostsRedirectHttp(@TempDir Path dir)
            throws Exception {
        TestCertificates.Issued shop = TestCertificates.issue("shop.example.com", "shop.example.com");
        TestCertificates.Issued fallback = TestCertificates.issue("fallback.example.com", "fallback.example.com");
        Files.writeString(dir.resolve("ingress.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: shop, namespace: default, annotations: {kubernetes.io/ingress.class: nginx}}
                spec:
                  tls:
                  - hosts: [shop.example.com]
                    secretName: shop-tls
                  - hosts: [lost.example.com]
                    secretName: lost-tls
                  rules:
                  - host: shop.example.com
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
                  - host: lost.example.com
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
                """);
        Files.writeString(dir.resolve("secret.yaml"), secretYaml("shop-tls", shop));
        Files.writeString(dir.resolve("fallback.yaml"), secretYaml("fallback-tls", fallback));

        try (SluiceApp app = new SluiceApp(Main.parse("--manifests", dir.toString(), "--http-port=0",
                "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1", "--event-loops=1",
                "--access-log=off", "--default-ssl-certificate=default/fallback-tls"))) {
            app.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
            assertThat(presented(app, "shop.example.com")).isEqualTo(shop.certificate());
            assertThat(presented(app, "unknown.example.com")).isEqualTo(fallback.certificate());
            assertThat(presented(app, null)).isEqualTo(fallback.certificate());
            assertThat(presented(app, "lost.example.com")).isEqualTo(fallback.certificate()); // Secret missing

            try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
                RawHttpClient.Response r = c.exchange("GET /cart/?id=7 HTTP/1.1\r\nHost: shop.example.com:"
                        + app.httpPort() + "\r\n\r\n");
                assertThat(r.status()).isEqualTo(308);
                assertThat(r.header("location")).isEqualTo("https://shop.example.com/cart/?id=7");
                RawHttpClient.Response lost = c.exchange("GET / HTTP/1.1\r\nHost: lost.example.com\r\n\r\n");
                assertThat(lost.status()).isEqualTo(308);
                assertThat(lost.header("location")).isEqualTo("https://lost.example.com");
            }
            try (RawHttpClient c = RawHttpClient.connectTls(app.httpsPort(), "shop.example.com")) {
                // the Service does not exist: 503, with HSTS as every HTTPS response
                RawHttpClient.Response r = c.exchange("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n");
                assertThat(r.status()).isEqualTo(503);
                assertThat(r.headers("strict-transport-security"))
                        .containsExactly("max-age=31536000; includeSubDomains");
            }
        }
    }

    private static String secretYaml(String name, TestCertificates.Issued c) {
        return """
                apiVersion: v1
                kind: Secret
                metadata: {name: %s, namespace: default}
                type: kubernetes.io/tls
                data:
                  tls.crt: %s
                  tls.key: %s
                """.formatted(name, base64(c.certificatePem()), base64(c.pkcs1KeyPem()));
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
