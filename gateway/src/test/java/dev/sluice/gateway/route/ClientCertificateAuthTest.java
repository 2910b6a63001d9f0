package dev.sluice.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.proxy.TestPki;
import dev.sluice.gateway.route.ClientCertificateAuth.Mode;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The {@code auth-tls-*} model: CA bundle validation, modes, and per-host lookup in {@link TlsCertificates}. */
class ClientCertificateAuthTest {
    private static final TestPki.Issued CA = TestPki.ca("CN=Test CA,O=Example");
    private static final TestPki.Issued OTHER_CA = TestPki.ca("CN=Other CA,O=Elsewhere");
    private static final ClientCertificateAuth A = ClientCertificateAuth.required("default/a-ca", TestPki.bundle(CA));
    private static final ClientCertificateAuth WILD = new ClientCertificateAuth("default/wild-ca",
            TestPki.bundle(OTHER_CA), Mode.OPTIONAL, 2, "https://help.example.com/", true);
    private static final TlsCertificate CERT = new TlsCertificate("default/tls", "cert", "key");

    @Test
    void aCaBundleParsesIntoItsCertificates() {
        assertThat(ClientCertificateAuth.parseCaBundle(TestPki.bundle(CA, OTHER_CA)))
                .containsExactly(CA.certificate(), OTHER_CA.certificate());
        // text around the blocks, as openssl x509 -text writes it, is fine
        assertThat(ClientCertificateAuth.parseCaBundle("Subject: CN=Test CA\n" + CA.pem() + "\n\n"))
                .containsExactly(CA.certificate());
    }

    @Test
    void anEmptyOrMalformedCaBundleIsRefusedWithAClearMessage() {
        assertThatThrownBy(() -> ClientCertificateAuth.parseCaBundle(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> ClientCertificateAuth.parseCaBundle("  \n")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ClientCertificateAuth.parseCaBundle("just some text"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no PEM certificate");
        String broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
        assertThatThrownBy(() -> ClientCertificateAuth.parseCaBundle(broken))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ca.crt");
        assertThatThrownBy(() -> ClientCertificateAuth.parseCaBundle(CA.pem() + broken))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ca.crt");
    }

    @Test
    void modesAndDefaultsFollowTheAnnotations() {
        assertThat(Mode.fromAnnotation("on")).isEqualTo(Mode.ON);
        assertThat(Mode.fromAnnotation("optional_no_ca")).isEqualTo(Mode.OPTIONAL_NO_CA);
        assertThat(Mode.fromAnnotation(" OFF ")).isEqualTo(Mode.OFF);
        assertThatThrownBy(() -> Mode.fromAnnotation("maybe")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("optional_no_ca");
        assertThat(A.mode()).isEqualTo(Mode.ON);
        assertThat(A.verifyDepth()).isEqualTo(1);
        assertThat(A.errorPage()).isNull();
        assertThat(A.passCertificateToUpstream()).isFalse();
        assertThat(A.requestsCertificate()).isTrue();
        assertThat(new ClientCertificateAuth("x", "y", Mode.OFF, 1, " ", false).requestsCertificate()).isFalse();
        assertThat(new ClientCertificateAuth("x", "y", Mode.OFF, 1, " ", false).errorPage()).isNull();
        assertThatThrownBy(() -> new ClientCertificateAuth("x", "y", Mode.ON, -1, null, false))
                .isInstanceOf(IllegalArgumentException.class);
        // equal by content; printing never shows the bundle
        assertThat(ClientCertificateAuth.required("default/a-ca", TestPki.bundle(CA))).isEqualTo(A).hasSameHashCodeAs(A);
        assertThat(WILD.toString()).doesNotContain("BEGIN").contains("optional", "default/wild-ca");
    }

    @Test
    void clientAuthIsFoundByExactThenWildcardHost() {
        TlsCertificates tls = new TlsCertificates(Map.of("own.b.example.com", CERT), Set.of("default.b.example.com"), null)
                .withClientAuth(Map.of("a.example.com", A, "*.b.example.com", WILD));
        assertThat(tls.clientAuth("a.example.com")).isEqualTo(A);
        assertThat(tls.clientAuth("A.Example.COM")).isEqualTo(A);
        assertThat(tls.clientAuth("x.b.example.com")).isEqualTo(WILD);
        assertThat(tls.clientAuth("*.b.example.com")).isEqualTo(WILD);
        assertThat(tls.clientAuth("x.y.b.example.com")).isNull();
        assertThat(tls.clientAuth("b.example.com")).isNull();
        assertThat(tls.clientAuth(null)).isNull();
        // a host with a TLS entry of its own is a server of its own: it does not inherit the wildcard's
        assertThat(tls.clientAuth("own.b.example.com")).isNull();
        assertThat(tls.clientAuth("default.b.example.com")).isNull();

        assertThat(tls.byHost()).containsOnlyKeys("own.b.example.com");
        assertThat(tls.configured("own.b.example.com")).isTrue();
        assertThat(tls.isEmpty()).isFalse();
        assertThat(TlsCertificates.EMPTY.withClientAuth(Map.of("a.example.com", A)).isEmpty()).isFalse();
        assertThat(TlsCertificates.EMPTY.clientAuth("a.example.com")).isNull();
        assertThat(tls).isEqualTo(new TlsCertificates(Map.of("own.b.example.com", CERT), Set.of("default.b.example.com"),
                null, Map.of("a.example.com", A, "*.b.example.com", WILD)));
        assertThat(tls).isNotEqualTo(tls.withClientAuth(Map.of()));
    }
}
