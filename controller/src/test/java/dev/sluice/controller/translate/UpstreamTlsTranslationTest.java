package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestCertificates;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RoutingDecision;
import dev.sluice.gateway.route.UpstreamTls;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code backend-protocol} with the {@code proxy-ssl-*} annotations, through the translator: valid
 * values become the location's {@link UpstreamTls}; bad values are reported with the Ingress's
 * {@code namespace/name} and replaced by ingress-nginx's defaults; a verification that cannot be
 * honoured (and a Secret that cannot be read) denies the location (503) instead of proxying
 * unverified. The other Ingress is always served.
 */
class UpstreamTlsTranslationTest {
    private static final TestCertificates.Issued UPSTREAM_CA = TestCertificates.issue("upstream-ca");
    private static final TestCertificates.Issued CLIENT = TestCertificates.issue("sluice-client");
    private static final TestCertificates.Issued OTHER = TestCertificates.issue("other");

    private final IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);

    @Test
    void withoutAnnotationsTheDefaultsApply() {
        RouteOptions o = forwarded(Map.of("backend-protocol", "https"));
        assertThat(o.backendProtocol()).isEqualTo(BackendProtocol.HTTPS);
        assertThat(o.upstreamTls()).isEqualTo(UpstreamTls.DEFAULTS);
        assertThat(RouteOptions.DEFAULTS.upstreamTls()).isEqualTo(UpstreamTls.DEFAULTS);
    }

    @Test
    void everyAnnotationIsRead() {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("backend-protocol", "HTTPS");
        a.put("proxy-ssl-secret", "default/upstream-tls");
        a.put("proxy-ssl-verify", "on");
        a.put("proxy-ssl-verify-depth", "2");
        a.put("proxy-ssl-name", "pod.svc.test");
        a.put("proxy-ssl-server-name", "on");
        a.put("proxy-ssl-protocols", "TLSv1.3");
        a.put("proxy-ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
        Translation t = translate(a);
        assertThat(t.problems()).isEmpty();
        UpstreamTls tls = options(t).upstreamTls();
        assertThat(tls.secret()).isEqualTo("default/upstream-tls");
        assertThat(tls.caBundlePem()).isEqualTo(UPSTREAM_CA.certificatePem());
        assertThat(tls.clientCertificatePem()).contains("BEGIN CERTIFICATE");
        assertThat(tls.clientKeyPem()).as("re-encoded PKCS#8").contains("BEGIN PRIVATE KEY");
        assertThat(tls.verify()).isTrue();
        assertThat(tls.verifyDepth()).isEqualTo(2);
        assertThat(tls.name()).isEqualTo("pod.svc.test");
        assertThat(tls.sniName()).isEqualTo("pod.svc.test");
        assertThat(tls.protocols()).containsExactly("TLSv1.3");
        assertThat(tls.ciphers()).containsExactly("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
        assertThat(tls.toString()).doesNotContain("PRIVATE");
    }

    @Test
    void aTrailingDotIsDroppedFromTheName() {
        Translation t = translate(Map.of("backend-protocol", "HTTPS", "proxy-ssl-name", "pod.svc.test.",
                "proxy-ssl-server-name", "on"));
        assertThat(t.problems()).isEmpty();
        assertThat(options(t).upstreamTls().sniName()).isEqualTo("pod.svc.test");
    }

    @Test
    void aSecretWithOnlyACaAndVerificationOffNeedsNothingElse() {
        Translation t = translate(Map.of("backend-protocol", "AUTO_HTTP", "proxy-ssl-secret", "ca-only"));
        assertThat(t.problems()).isEmpty();
        UpstreamTls tls = options(t).upstreamTls();
        assertThat(tls.verify()).isFalse();
        assertThat(tls.clientCertificatePem()).isNull();
        assertThat(options(t).upstreamTlsFor(false)).as("AUTO_HTTP on the HTTP port: clear").isNull();
        assertThat(options(t).upstreamTlsFor(true)).isEqualTo(tls);
    }

    @Test
    void badValuesAreReportedAndTheDefaultsUsed() {
        assertFallsBack(Map.of("proxy-ssl-verify-depth", "0"), "proxy-ssl-verify-depth",
                tls -> assertThat(tls.verifyDepth()).isEqualTo(1));
        assertFallsBack(Map.of("proxy-ssl-verify-depth", "deep"), "proxy-ssl-verify-depth",
                tls -> assertThat(tls.verifyDepth()).isEqualTo(1));
        assertFallsBack(Map.of("proxy-ssl-server-name", "yes", "proxy-ssl-name", "pod.svc.test"),
                "proxy-ssl-server-name", tls -> assertThat(tls.sniName()).isNull());
        assertFallsBack(Map.of("proxy-ssl-server-name", "on"), "proxy-ssl-server-name",
                tls -> assertThat(tls.sniName()).as("no name: no SNI").isNull());
        assertFallsBack(Map.of("proxy-ssl-protocols", "TLSv1.4"), "proxy-ssl-protocols",
                tls -> assertThat(tls.protocols()).containsExactly("TLSv1.2", "TLSv1.3"));
        assertFallsBack(Map.of("proxy-ssl-protocols", "TLSv1 TLSv1.1 TLSv1.2"), "proxy-ssl-protocols",
                tls -> assertThat(tls.protocols()).containsExactly("TLSv1.2"));
        assertFallsBack(Map.of("proxy-ssl-protocols", "SSLv3"), "proxy-ssl-protocols",
                tls -> assertThat(tls.protocols()).containsExactly("TLSv1.2", "TLSv1.3"));
        assertFallsBack(Map.of("proxy-ssl-ciphers", "HIGH:!aNULL:!MD5"), "proxy-ssl-ciphers",
                tls -> assertThat(tls.ciphers()).isNull());
        assertFallsBack(Map.of("proxy-ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:NO-SUCH-CIPHER"), "NO-SUCH-CIPHER",
                tls -> assertThat(tls.ciphers()).isNull());
        assertFallsBack(Map.of("proxy-ssl-name", "$host"), "proxy-ssl-name",
                tls -> assertThat(tls.name()).isNull());
        assertFallsBack(Map.of("proxy-ssl-name", "under_score.test"), "proxy-ssl-name",
                tls -> assertThat(tls.name()).as("not a name SNI can carry").isNull());
        assertFallsBack(Map.of("proxy-ssl-secret", "bad-ca"), "ca.crt",
                tls -> assertThat(tls.caBundlePem()).as("unused while verify is off").isNull());
    }

    @Test
    void proxySslWithAClearBackendProtocolIsReportedAsWithoutEffect() {
        Translation t = translate(Map.of("proxy-ssl-verify", "off"));
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("no effect")
                .contains("backend-protocol HTTP"));
        assertThat(t.table().decide("a.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
    }

    @Test
    void fastCgiIsReportedAsNotSupported() {
        Translation t = translate(Map.of("backend-protocol", "fcgi"));
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("FCGI is not supported")
                .contains("502"));
        assertThat(options(t).backendProtocol()).isEqualTo(BackendProtocol.FCGI);
    }

    @Test
    void verificationThatCannotBeHonouredDeniesTheLocation() {
        assertDenied(Map.of("proxy-ssl-verify", "on"), "proxy-ssl-secret");
        assertDenied(Map.of("proxy-ssl-verify", "on", "proxy-ssl-secret", "nope"), "default/nope");
        assertDenied(Map.of("proxy-ssl-verify", "on", "proxy-ssl-secret", "client-only"), "ca.crt");
        assertDenied(Map.of("proxy-ssl-verify", "on", "proxy-ssl-secret", "bad-ca"), "ca.crt");
        assertDenied(Map.of("proxy-ssl-verify", "yes", "proxy-ssl-secret", "ca-only"), "proxy-ssl-verify");
        assertDenied(Map.of("proxy-ssl-verify", "on", "proxy-ssl-secret", "ca-only", "proxy-ssl-name", "$host"),
                "proxy-ssl-name");
    }

    @Test
    void aSecretThatCannotBeReadDeniesTheLocationAsInIngressNginx() {
        assertDenied(Map.of("proxy-ssl-secret", "nope"), "default/nope");
        assertDenied(Map.of("proxy-ssl-secret", "other/upstream-tls"), "other namespaces");
        assertDenied(Map.of("proxy-ssl-secret", "Not A Name"), "proxy-ssl-secret");
        assertDenied(Map.of("proxy-ssl-secret", "cert-without-key"), "tls.crt without tls.key");
        assertDenied(Map.of("proxy-ssl-secret", "mismatched"), "does not match");
    }

    @Test
    void aSecretThatAppearsLiftsTheDenial() {
        Map<String, String> a = Map.of("backend-protocol", "HTTPS", "proxy-ssl-verify", "on",
                "proxy-ssl-secret", "late");
        assertThat(translate(a).table().decide("a.test", "/", "http")).isInstanceOf(RoutingDecision.Respond.class);
        Translation later = translate(a, secret("late", Map.of("ca.crt", UPSTREAM_CA.certificatePem())));
        assertThat(later.table().decide("a.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
    }

    // ---------------------------------------------------------------- helpers

    private void assertFallsBack(Map<String, String> annotations, String mentioned,
            java.util.function.Consumer<UpstreamTls> check) {
        Map<String, String> a = new LinkedHashMap<>(annotations);
        a.put("backend-protocol", "HTTPS");
        Translation t = translate(a);
        assertThat(t.problems()).as(annotations.toString()).anySatisfy(p -> {
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/upstream");
            assertThat(p.message()).contains(mentioned).doesNotContain("503");
        });
        check.accept(options(t).upstreamTls());
    }

    private void assertDenied(Map<String, String> annotations, String mentioned) {
        Map<String, String> a = new LinkedHashMap<>(annotations);
        a.put("backend-protocol", "HTTPS");
        Translation t = translate(a);
        assertThat(t.table().decide("a.test", "/", "http")).as(annotations + " must deny")
                .isInstanceOfSatisfying(RoutingDecision.Respond.class, r -> assertThat(r.status()).isEqualTo(503));
        assertThat(t.problems()).as(annotations.toString()).anySatisfy(p -> {
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/upstream");
            assertThat(p.message()).contains(mentioned).contains("503");
        });
        assertThat(t.table().decide("b.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
    }

    private RouteOptions forwarded(Map<String, String> annotations) {
        Translation t = translate(annotations);
        assertThat(t.problems()).isEmpty();
        return options(t);
    }

    private static RouteOptions options(Translation t) {
        RoutingDecision d = t.table().decide("a.test", "/", "http");
        assertThat(d).isInstanceOf(RoutingDecision.Forward.class);
        return ((RoutingDecision.Forward) d).route().options();
    }

    private Translation translate(Map<String, String> annotations, Secret... extra) {
        List<Secret> secrets = new java.util.ArrayList<>(List.of(
                secret("upstream-tls", Map.of("ca.crt", UPSTREAM_CA.certificatePem(),
                        "tls.crt", CLIENT.certificatePem(), "tls.key", CLIENT.pkcs1KeyPem())),
                secret("ca-only", Map.of("ca.crt", UPSTREAM_CA.certificatePem())),
                secret("client-only", Map.of("tls.crt", CLIENT.certificatePem(), "tls.key", CLIENT.pkcs8KeyPem())),
                secret("bad-ca", Map.of("ca.crt", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")),
                secret("cert-without-key", Map.of("ca.crt", UPSTREAM_CA.certificatePem(),
                        "tls.crt", CLIENT.certificatePem())),
                secret("mismatched", Map.of("tls.crt", CLIENT.certificatePem(), "tls.key", OTHER.pkcs8KeyPem()))));
        secrets.addAll(List.of(extra));
        return translator.translate(new ClusterState(List.of(ingress("upstream", "a.test", annotations),
                ingress("open", "b.test", Map.of())),
                List.of(), List.of(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("app")
                        .endMetadata().withNewSpec().addNewPort().withPort(443).endPort().endSpec().build()),
                List.of(), List.of(new EndpointsBuilder().withNewMetadata().withNamespace("default").withName("app")
                        .endMetadata().addNewSubset().addNewAddress().withIp("127.0.0.5").endAddress()
                        .addNewPort().withPort(8443).endPort().endSubset().build()),
                secrets), Instant.now());
    }

    private static Ingress ingress(String name, String host, Map<String, String> annotations) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("kubernetes.io/ingress.class", "nginx");
        annotations.forEach((k, v) -> all.put(TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX + "/" + k, v));
        return new IngressBuilder().withNewMetadata().withNamespace("default").withName(name)
                .withAnnotations(all).endMetadata()
                .withNewSpec().addNewRule().withHost(host).withNewHttp()
                .addNewPath().withPath("/").withPathType("Prefix").withNewBackend().withNewService()
                .withName("app").withNewPort().withNumber(443).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
    }

    private static Secret secret(String name, Map<String, String> plain) {
        Map<String, String> data = new LinkedHashMap<>();
        plain.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("Opaque").withData(data).build();
    }
}
