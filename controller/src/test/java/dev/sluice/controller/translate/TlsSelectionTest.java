package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestCertificates;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which certificate each host gets from the Ingresses' {@code tls:} sections (SPEC §10.1). */
class TlsSelectionTest {
    private static final TestCertificates.Issued A = TestCertificates.issue("a.example.com", "a.example.com");
    private static final TestCertificates.Issued WILD = TestCertificates.issue("wild", "*.b.example.com");
    private static final TestCertificates.Issued OTHER = TestCertificates.issue("other.example.com", "other.example.com");
    private static final TestCertificates.Issued CN_ONLY = TestCertificates.issue("cn.example.com");

    private final List<Ingress> ingresses = new ArrayList<>();
    private final List<Secret> secrets = new ArrayList<>();

    private Translation translate() {
        return new IngressTranslator(TranslatorConfig.DEFAULTS).translate(new ClusterState(ingresses, List.of(),
                List.of(service("default", "web", 80)), List.of(), List.of(), secrets), Instant.now());
    }

    private TlsCertificates tls() {
        return translate().table().tls();
    }

    private List<String> problems() {
        return translate().problems().stream().map(p -> p.namespace() + "/" + p.name() + ": " + p.message()).toList();
    }

    @Test
    void aTlsHostsEntryNamingTheHostChoosesItsSecretCaseInsensitively() {
        secrets.add(secret("a-tls", A));
        secrets.add(secret("other-tls", OTHER));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("other-tls", "other.example.com"), tlsEntry("a-tls", "A.Example.com")));

        assertThat(tls().find("a.example.com")).isEqualTo(new TlsCertificate("default/a-tls", pem(A), key(A)));
        assertThat(tls().find("other.example.com")).isNull(); // no rule for it: no server, no certificate
        assertThat(problems()).isEmpty();
    }

    @Test
    void withoutAHostsEntryTheFirstSecretWhoseCertificateCoversTheHostIsUsed() {
        secrets.add(secret("other-tls", OTHER));
        secrets.add(secret("a-tls", A));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("other-tls"), tlsEntry("a-tls")));

        assertThat(tls().find("a.example.com").secret()).isEqualTo("default/a-tls");
    }

    @Test
    void theSubjectCommonNameCountsWhenTheCertificateHasNoDnsSan() {
        secrets.add(secret("cn-tls", CN_ONLY));
        ingresses.add(withTls(ingress("default", "web", "cn.example.com", "/", "web", 80), 0, tlsEntry("cn-tls")));

        assertThat(tls().find("cn.example.com").secret()).isEqualTo("default/cn-tls");
    }

    @Test
    void wildcardRuleHostsGetAWildcardEntry() {
        secrets.add(secret("wild-tls", WILD));
        ingresses.add(withTls(ingress("default", "web", "*.b.example.com", "/", "web", 80), 0,
                tlsEntry("wild-tls", "*.b.example.com")));

        assertThat(tls().byHost()).containsOnlyKeys("*.b.example.com");
        assertThat(tls().find("x.b.example.com").secret()).isEqualTo("default/wild-tls");
        assertThat(tls().find("x.y.b.example.com")).isNull();
    }

    @Test
    void aWildcardCertificateCoversOneLabelOfANamedHost() {
        secrets.add(secret("wild-tls", WILD));
        ingresses.add(withTls(ingress("default", "web", "api.b.example.com", "/", "web", 80), 0, tlsEntry("wild-tls")));

        assertThat(tls().find("api.b.example.com").secret()).isEqualTo("default/wild-tls");
    }

    @Test
    void anEmptySecretNameMeansTheDefaultCertificateWithoutAProblem() {
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("", "a.example.com")));

        assertThat(tls().byHost()).isEmpty();
        assertThat(tls().defaultHosts()).containsExactly("a.example.com"); // default cert, still TLS
        assertThat(tls().configured("a.example.com")).isTrue();
        assertThat(problems()).isEmpty();
    }

    @Test
    void aMissingSecretMeansTheDefaultCertificateAndAProblemNamingIt() {
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("gone-tls", "a.example.com")));

        assertThat(tls().byHost()).isEmpty();
        assertThat(tls().defaultHosts()).containsExactly("a.example.com"); // default cert, still TLS
        assertThat(tls().configured("a.example.com")).isTrue();
        assertThat(problems()).singleElement().asString()
                .startsWith("default/web: ").contains("default/gone-tls", "not found", "default certificate");
    }

    @Test
    void invalidSecretsMeanTheDefaultCertificateAndAProblemEach() {
        Map<String, String> reasons = new HashMap<>();
        secrets.add(new SecretBuilder(secret("opaque", A)).withType("Opaque").build());
        reasons.put("opaque", "not kubernetes.io/tls");
        secrets.add(secret("no-key", Map.of("tls.crt", pem(A))));
        reasons.put("no-key", "tls.key missing");
        secrets.add(secret("garbage", Map.of("tls.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "tls.key", key(A))));
        reasons.put("garbage", "tls.crt is not a PEM certificate");
        secrets.add(secret("bad-key", Map.of("tls.crt", pem(A), "tls.key", "not a key")));
        reasons.put("bad-key", "tls.key holds no unencrypted private key");
        secrets.add(secret("mismatch", Map.of("tls.crt", pem(A), "tls.key", key(OTHER))));
        reasons.put("mismatch", "does not match");
        int i = 0;
        for (String name : reasons.keySet()) {
            ingresses.add(withTls(ingress("default", "ing-" + name, name + ".example.com", "/", "web", 80), i++,
                    tlsEntry(name, name + ".example.com")));
        }

        assertThat(tls().byHost()).isEmpty();
        assertThat(tls().defaultHosts()).hasSize(reasons.size()); // still TLS hosts (redirected)
        List<String> problems = problems();
        assertThat(problems).hasSize(reasons.size());
        reasons.forEach((name, why) -> assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("default/ing-" + name + ": ").contains("default/" + name, why)));
    }

    @Test
    void aCertificateThatDoesNotCoverTheHostIsNotServedForIt() {
        secrets.add(secret("other-tls", OTHER));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("other-tls", "a.example.com")));

        assertThat(tls().byHost()).isEmpty();
        assertThat(tls().defaultHosts()).containsExactly("a.example.com"); // default cert, still TLS
        assertThat(tls().configured("a.example.com")).isTrue();
        assertThat(problems()).singleElement().asString().contains("default/other-tls", "does not cover host a.example.com");
    }

    @Test
    void theOldestIngressWithATlsSectionAndARuleForTheHostDecides() {
        secrets.add(secret("a-tls", A));
        TestCertificates.Issued a2 = TestCertificates.issue("a.example.com", "a.example.com");
        secrets.add(secret("a2-tls", a2));
        ingresses.add(ingress("default", "oldest-no-tls", "a.example.com", "/x", "web", 80));
        setAge(ingresses.get(0), 0);
        ingresses.add(withTls(ingress("default", "newest", "a.example.com", "/z", "web", 80), 2,
                tlsEntry("a2-tls", "a.example.com")));
        ingresses.add(withTls(ingress("default", "middle", "a.example.com", "/y", "web", 80), 1,
                tlsEntry("a-tls", "a.example.com")));

        assertThat(tls().find("a.example.com").secret()).isEqualTo("default/a-tls");
    }

    @Test
    void theFirstDecidingIngressKeepsTheHostEvenWhenItsSecretIsMissing() {
        secrets.add(secret("a-tls", A));
        ingresses.add(withTls(ingress("default", "older", "a.example.com", "/x", "web", 80), 0,
                tlsEntry("gone", "a.example.com")));
        ingresses.add(withTls(ingress("default", "newer", "a.example.com", "/y", "web", 80), 1,
                tlsEntry("a-tls", "a.example.com")));

        assertThat(tls().byHost()).isEmpty();
        assertThat(tls().defaultHosts()).containsExactly("a.example.com"); // default cert, still TLS
        assertThat(tls().configured("a.example.com")).isTrue();
    }

    @Test
    void canaryIngressesContributeNoCertificates() {
        secrets.add(secret("a-tls", A));
        Ingress canary = withTls(ingress("default", "canary", "a.example.com", "/", "web", 80), 0,
                tlsEntry("a-tls", "a.example.com"));
        canary.getMetadata().setAnnotations(Map.of("kubernetes.io/ingress.class", "nginx",
                "nginx.ingress.kubernetes.io/canary", "true", "nginx.ingress.kubernetes.io/canary-weight", "50"));
        ingresses.add(canary);

        assertThat(tls().isEmpty()).isTrue();
    }

    @Test
    void everyHostOfAnIngressWithTlsHasTlsConfiguredAndWildcardHostsCoverOneLabel() {
        ingresses.add(withTls(ingress("default", "web", "*.c.example.com", "/", "web", 80), 0, tlsEntry("")));

        assertThat(tls().configured("x.c.example.com")).isTrue();
        assertThat(tls().configured("c.example.com")).isFalse();
        assertThat(tls().configured("x.y.c.example.com")).isFalse();
        assertThat(tls().find("x.c.example.com")).isNull(); // the proxy's fake certificate
    }

    @Test
    void defaultSslCertificateIsTheDefaultForUnknownNamesAndHostsWithoutAUsableSecret() {
        secrets.add(secret("default-tls", OTHER));
        secrets.add(secret("a-tls", A));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("a-tls", "a.example.com")));
        ingresses.add(withTls(ingress("default", "gone", "b.example.com", "/", "web", 80), 1,
                tlsEntry("gone-tls", "b.example.com")));

        TlsCertificates tls = translate(withDefaultCertificate("default/default-tls")).table().tls();

        assertThat(tls.defaultCertificate().secret()).isEqualTo("default/default-tls");
        assertThat(tls.find("a.example.com").secret()).isEqualTo("default/a-tls");
        assertThat(tls.find("b.example.com").secret()).isEqualTo("default/default-tls");
        assertThat(tls.find("unknown.example.com").secret()).isEqualTo("default/default-tls");
        assertThat(tls.find(null).secret()).isEqualTo("default/default-tls");
    }

    @Test
    void aMissingOrInvalidDefaultSslCertificateIsAProblemOfTheSecretAndTheFakeOneIsServed() {
        secrets.add(secret("bad", Map.of("tls.crt", "garbage", "tls.key", key(A))));

        Translation missing = translate(withDefaultCertificate("default/nope"));
        Translation invalid = translate(withDefaultCertificate("default/bad"));

        assertThat(missing.table().tls().defaultCertificate()).isNull();
        assertThat(missing.problems()).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo("Secret");
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/nope");
            assertThat(p.message()).contains("--default-ssl-certificate default/nope: not found");
        });
        assertThat(invalid.table().tls().defaultCertificate()).isNull();
        assertThat(invalid.problems()).singleElement().satisfies(p -> {
            assertThat(p.kind()).isEqualTo("Secret");
            assertThat(p.message()).contains("tls.crt is not a PEM certificate");
        });
    }

    private static TranslatorConfig withDefaultCertificate(String secret) {
        TranslatorConfig d = TranslatorConfig.DEFAULTS;
        return new TranslatorConfig(d.ingressClass(), d.controllerClass(), d.watchIngressWithoutClass(),
                d.defaultBackendService(), d.annotationsPrefix(), secret);
    }

    private Translation translate(TranslatorConfig config) {
        return new IngressTranslator(config).translate(new ClusterState(ingresses, List.of(),
                List.of(service("default", "web", 80)), List.of(), List.of(), secrets), Instant.now());
    }

    @Test
    void anExpiredCertificateIsStillServedWithAWarning() {
        Instant now = Instant.now();
        TestCertificates.Issued expired = TestCertificates.issue("a.example.com", now.minus(Duration.ofDays(30)),
                now.minus(Duration.ofDays(1)), "a.example.com");
        secrets.add(secret("a-tls", expired));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("a-tls", "a.example.com")));

        assertThat(tls().find("a.example.com").secret()).isEqualTo("default/a-tls");
        assertThat(problems()).singleElement().asString().contains("default/a-tls", "expired", "served anyway");
    }

    @Test
    void validityIsCheckedAgainstTheTranslationsNowNotTheWallClock() {
        Instant notBefore = Instant.parse("2030-03-01T00:00:00Z");
        Instant notAfter = Instant.parse("2030-06-01T00:00:00Z");
        secrets.add(secret("a-tls", TestCertificates.issue("a.example.com", notBefore, notAfter, "a.example.com")));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("a-tls", "a.example.com")));
        ClusterState state = new ClusterState(ingresses, List.of(), List.of(service("default", "web", 80)), List.of(),
                List.of(), secrets);
        // one translator for all four: its cache keeps the parsed certificate, not a verdict on it
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        Instant today = Instant.parse("2030-05-31T12:00:00Z");
        Instant tomorrow = today.plus(Duration.ofDays(1));

        Translation before = translator.translate(state, notBefore.minusSeconds(1));
        Translation valid = translator.translate(state, today);
        Translation expired = translator.translate(state, tomorrow);
        Translation validAgain = translator.translate(state, today);

        assertThat(before.problems()).extracting(Problem::toString).containsExactly("Ingress default/web: the "
                + "certificate of TLS Secret default/a-tls is not valid before 2030-03-01T00:00:00Z; served anyway");
        assertThat(valid.problems()).isEmpty();
        assertThat(expired.problems()).extracting(Problem::toString).containsExactly("Ingress default/web: the "
                + "certificate of TLS Secret default/a-tls expired on 2030-06-01T00:00:00Z; served anyway");
        assertThat(validAgain).isEqualTo(valid);
        for (Translation t : List.of(before, valid, expired)) {
            assertThat(t.table().tls().find("a.example.com").secret()).isEqualTo("default/a-tls"); // served anyway
        }
    }

    @Test
    void pkcs1KeysAreAcceptedAndStoredAsPkcs8AndUnchangedSecretsGiveEqualTables() {
        secrets.add(secret("a-tls", Map.of("tls.crt", pem(A), "tls.key", A.pkcs1KeyPem())));
        ingresses.add(withTls(ingress("default", "web", "a.example.com", "/", "web", 80), 0,
                tlsEntry("a-tls", "a.example.com")));

        assertThat(A.pkcs1KeyPem()).contains("BEGIN RSA PRIVATE KEY");
        assertThat(tls().find("a.example.com").privateKeyPem()).contains("BEGIN PRIVATE KEY");
        assertThat(translate().table()).isEqualTo(translate().table());
    }

    private static String pem(TestCertificates.Issued c) {
        return c.certificatePem();
    }

    private static String key(TestCertificates.Issued c) {
        return c.pkcs8KeyPem();
    }

    private static Secret secret(String name, TestCertificates.Issued c) {
        return secret(name, Map.of("tls.crt", pem(c), "tls.key", key(c)));
    }

    /** A {@code kubernetes.io/tls} Secret with base64 {@code data}, as the API server returns it. */
    private static Secret secret(String name, Map<String, String> plain) {
        Map<String, String> data = new HashMap<>();
        plain.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("kubernetes.io/tls").withData(data).build();
    }

    private static io.fabric8.kubernetes.api.model.networking.v1.IngressTLS tlsEntry(String secretName, String... hosts) {
        return new IngressTLSBuilder().withSecretName(secretName).withHosts(hosts).build();
    }

    private static Ingress withTls(Ingress ing, int ageRank,
            io.fabric8.kubernetes.api.model.networking.v1.IngressTLS... tls) {
        ing.getSpec().setTls(List.of(tls));
        setAge(ing, ageRank);
        return ing;
    }

    /** Rank 0 is the oldest. */
    private static void setAge(Ingress ing, int rank) {
        ing.getMetadata().setCreationTimestamp(Instant.parse("2024-01-01T00:00:00Z").plusSeconds(rank).toString());
    }
}
