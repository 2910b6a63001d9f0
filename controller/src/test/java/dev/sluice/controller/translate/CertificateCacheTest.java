package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parse results kept across translations: reused while unchanged, dropped with their Secret, bounded. */
class CertificateCacheTest {
    private static final TestCertificates.Issued A = TestCertificates.issue("a.example.com", "a.example.com");
    private static final TestCertificates.Issued B = TestCertificates.issue("b.example.com", "b.example.com");
    private static final Instant NOW = Instant.now();

    @Test
    void theSameTextsOfTheSameSecretAreParsedOnce() {
        CertificateCache cache = new CertificateCache();

        CertificateParser.Result first = cache.get("default/a-tls", A.certificatePem(), A.pkcs8KeyPem());
        CertificateParser.Result again = cache.get("default/a-tls", A.certificatePem(), A.pkcs8KeyPem());

        assertThat(first.certificate()).isNotNull();
        assertThat(again).isSameAs(first); // a fresh parse would be a new object
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void changedTextsAreParsedAgainAndReplaceTheEntry() {
        CertificateCache cache = new CertificateCache();
        CertificateParser.Result a = cache.get("default/tls", A.certificatePem(), A.pkcs8KeyPem());

        CertificateParser.Result mismatched = cache.get("default/tls", A.certificatePem(), B.pkcs8KeyPem());
        CertificateParser.Result b = cache.get("default/tls", B.certificatePem(), B.pkcs8KeyPem());

        assertThat(mismatched.error()).isEqualTo("tls.key does not match the certificate in tls.crt");
        assertThat(b.certificate().names()).containsExactly("b.example.com");
        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.get("default/tls", A.certificatePem(), A.pkcs8KeyPem())).isNotSameAs(a).isEqualTo(a);
    }

    @Test
    void resultsAreKeptPerSecretEvenForEqualTexts() {
        CertificateCache cache = new CertificateCache();

        cache.get("default/a-tls", A.certificatePem(), A.pkcs8KeyPem());
        cache.get("other/a-tls", A.certificatePem(), A.pkcs8KeyPem());

        assertThat(cache.size()).isEqualTo(2);
        cache.retainOnly(Set.of("other/a-tls"));
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void theLeastRecentlyUsedEntryGoesBeyondTheBound() {
        CertificateCache cache = new CertificateCache(2);
        CertificateParser.Result a = cache.get("default/a", A.certificatePem(), A.pkcs8KeyPem());
        CertificateParser.Result b = cache.get("default/b", B.certificatePem(), B.pkcs8KeyPem());
        assertThat(cache.get("default/a", A.certificatePem(), A.pkcs8KeyPem())).isSameAs(a); // b is now eldest

        cache.get("default/c", A.certificatePem(), A.pkcs8KeyPem());

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get("default/a", A.certificatePem(), A.pkcs8KeyPem())).isSameAs(a);
        assertThat(cache.get("default/b", B.certificatePem(), B.pkcs8KeyPem())).isNotSameAs(b);
    }

    @Test
    void aTranslatorDropsTheEntryOfASecretThatLeftTheSnapshot() {
        CertificateCache cache = new CertificateCache();
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS, cache);
        Ingress web = tlsIngress("a-tls");

        Translation with = translator.translate(state(web, secret("a-tls", A)), NOW);
        assertThat(with.table().tls().find("a.example.com").secret()).isEqualTo("default/a-tls");
        assertThat(cache.size()).isEqualTo(1);

        Translation without = translator.translate(state(web), NOW);
        assertThat(without.table().tls().find("a.example.com")).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void aTranslatorDropsTheEntryOfASecretNoIngressUsesAnyMore() {
        CertificateCache cache = new CertificateCache();
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS, cache);
        Secret a = secret("a-tls", A);

        translator.translate(state(tlsIngress("a-tls"), a), NOW);
        translator.translate(state(ingress("default", "web", "a.example.com", "/", "web", 80), a), NOW);

        assertThat(cache.size()).isZero();
    }

    @Test
    void twoTranslatorsOwnTwoCaches() {
        CertificateCache one = new CertificateCache();
        CertificateCache two = new CertificateCache();

        new IngressTranslator(TranslatorConfig.DEFAULTS, one).translate(state(tlsIngress("a-tls"), secret("a-tls", A)),
                NOW);

        assertThat(one.size()).isEqualTo(1);
        assertThat(two.size()).isZero();
    }

    private static ClusterState state(Ingress ingress, Secret... secrets) {
        return new ClusterState(List.of(ingress), List.of(), List.of(service("default", "web", 80)), List.of(),
                List.of(), List.of(secrets));
    }

    private static Ingress tlsIngress(String secretName) {
        Ingress ing = ingress("default", "web", "a.example.com", "/", "web", 80);
        ing.getSpec().setTls(List.of(new IngressTLSBuilder().withSecretName(secretName)
                .withHosts("a.example.com").build()));
        return ing;
    }

    private static Secret secret(String name, TestCertificates.Issued c) {
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withStringData(Map.of("tls.crt", c.certificatePem(), "tls.key", c.pkcs8KeyPem())).build();
    }
}
