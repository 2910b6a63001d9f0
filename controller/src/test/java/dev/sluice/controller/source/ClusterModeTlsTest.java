package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.ClusterProxy;
import dev.sluice.gateway.proxy.FakeCertificate;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import dev.sluice.gateway.proxy.TestCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * TLS Secrets on the (mock) API server served by SNI through the real proxy, and a Secret
 * rotation taking effect from the next handshake (SPEC §10.1, §10.2).
 */
class ClusterModeTlsTest {

    @Test
    void certificatesFromSecretsAreServedBySniAndRotateLive() throws Exception {
        TestCertificates.Issued a = TestCertificates.issue("a.example.com", "a.example.com");
        TestCertificates.Issued wild = TestCertificates.issue("*.b.example.com", "*.b.example.com");
        try (TestBackend pod = TestBackend.start("pod-1", "127.0.0.2");
                ClusterProxy cluster = new ClusterProxy(Duration.ofMillis(20))) {
            cluster.apply(service("default", "web", 8080));
            cluster.apply(slice("default", "web-abc", "web", pod.endpoint().port(), pod.endpoint().address()));
            cluster.apply(secret("a-tls", a));
            cluster.apply(secret("wild-tls", wild));
            cluster.apply(withTls(ingress("default", "a", "a.example.com", "/", "web", 8080), "a-tls", "a.example.com"));
            cluster.apply(withTls(ingress("default", "b", "*.b.example.com", "/", "web", 8080), "wild-tls",
                    "*.b.example.com"));

            await().atMost(Duration.ofSeconds(10)).until(() -> presented(cluster, "a.example.com").equals(a.certificate()));
            await().atMost(Duration.ofSeconds(10)).until(() -> presented(cluster, "x.b.example.com").equals(wild.certificate()));
            assertThat(subject(presented(cluster, "unknown.example.com"))).contains(FakeCertificate.COMMON_NAME);
            assertThat(subject(presented(cluster, null))).contains(FakeCertificate.COMMON_NAME);

            // the SNI chooses the certificate, the Host header the route
            try (RawHttpClient c = RawHttpClient.connectTls(cluster.gateway().httpsPort(), "a.example.com")) {
                RawHttpClient.Response r = c.exchange("GET /p HTTP/1.1\r\nHost: y.b.example.com\r\n\r\n");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("X-Pod")).isEqualTo("pod-1");
                assertThat(r.echoedHeader("x-forwarded-proto")).isEqualTo("https");
            }

            TestCertificates.Issued renewed = TestCertificates.issue("a.example.com", "a.example.com");
            cluster.apply(secret("a-tls", renewed));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> presented(cluster, "a.example.com").equals(renewed.certificate()));

            cluster.admin().secrets().inNamespace("default").withName("a-tls").delete();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> subject(presented(cluster, "a.example.com")).contains(FakeCertificate.COMMON_NAME));
        }
    }

    private static Secret secret(String name, TestCertificates.Issued c) {
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withData(Map.of("tls.crt", base64(c.certificatePem()), "tls.key", base64(c.pkcs1KeyPem())))
                .build();
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static Ingress withTls(Ingress ing, String secretName, String host) {
        ing.getSpec().setTls(List.of(new IngressTLSBuilder().withSecretName(secretName).withHosts(host).build()));
        return ing;
    }

    private static X509Certificate presented(ClusterProxy cluster, String sni) throws Exception {
        try (RawHttpClient c = RawHttpClient.connectTls(cluster.gateway().httpsPort(), sni)) {
            return (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
        }
    }

    private static String subject(X509Certificate c) {
        return c.getSubjectX500Principal().getName();
    }
}
