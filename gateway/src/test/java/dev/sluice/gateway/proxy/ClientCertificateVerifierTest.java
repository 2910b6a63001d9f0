package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.proxy.TestPki.Issued;
import java.io.ByteArrayInputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.Test;

/** Verifying a client's chain against a CA bundle as NGINX/OpenSSL would, and the header values. */
class ClientCertificateVerifierTest {
    private static final Issued CA = TestPki.ca("CN=Test CA,O=Example");
    private static final Issued OTHER_CA = TestPki.ca("CN=Other CA,O=Elsewhere");
    private static final Issued INTERMEDIATE = TestPki.intermediate("CN=Test Intermediate,O=Example", CA);
    private static final Issued CLIENT = TestPki.client("CN=client,O=Example", CA);
    private static final Issued STRANGER = TestPki.client("CN=stranger,O=Elsewhere", OTHER_CA);
    private static final Issued VIA_INTERMEDIATE = TestPki.client("CN=deep,O=Example", INTERMEDIATE);
    private static final ClientCertificateVerifier VERIFIER = ClientCertificateVerifier.forBundle(TestPki.bundle(CA));

    private static Certificate[] chain(Issued... certs) {
        return Arrays.stream(certs).map(Issued::certificate).toArray(Certificate[]::new);
    }

    private static ClientCertificateStatus verify(int depth, Issued... certs) {
        return VERIFIER.verify(chain(certs), depth);
    }

    private static void assertFailed(ClientCertificateStatus s, String reason, boolean untrustedCaOnly) {
        assertThat(s).isInstanceOf(ClientCertificateStatus.Failed.class);
        assertThat(s.verifyHeader()).isEqualTo("FAILED:" + reason);
        assertThat(((ClientCertificateStatus.Failed) s).untrustedCaOnly()).isEqualTo(untrustedCaOnly);
    }

    @Test
    void aCertificateIssuedByACaOfTheBundleVerifies() {
        ClientCertificateStatus s = verify(1, CLIENT);
        assertThat(s).isEqualTo(new ClientCertificateStatus.Success(CLIENT.certificate()));
        assertThat(s.verifyHeader()).isEqualTo("SUCCESS");
        assertThat(s.subjectDn()).isEqualTo("CN=client,O=Example");
        assertThat(s.issuerDn()).isEqualTo("CN=Test CA,O=Example");
        // the client may send the CA along; it changes nothing
        assertThat(verify(1, CLIENT, CA)).isInstanceOf(ClientCertificateStatus.Success.class);
    }

    @Test
    void noCertificateIsNone() {
        ClientCertificateStatus s = VERIFIER.verify(new Certificate[0], 1);
        assertThat(s).isSameAs(ClientCertificateStatus.NONE);
        assertThat(s.verifyHeader()).isEqualTo("NONE");
        assertThat(s.subjectDn()).isNull();
        assertThat(s.issuerDn()).isNull();
        assertThat(s.escapedPem()).isNull();
        assertThat(VERIFIER.verify((Certificate[]) null, 1)).isSameAs(ClientCertificateStatus.NONE);
        assertThat(VERIFIER.verify((javax.net.ssl.SSLSession) null, 1)).isSameAs(ClientCertificateStatus.NONE);
    }

    @Test
    void untrustedIssuersFailWithOpenSslsReasonsThatOptionalNoCaTolerates() {
        assertFailed(verify(1, STRANGER), "unable to verify the first certificate", true);
        Issued otherIntermediate = TestPki.intermediate("CN=Other Intermediate 2", OTHER_CA);
        Issued viaOther = TestPki.client("CN=y", otherIntermediate);
        assertFailed(verify(3, viaOther, otherIntermediate), "unable to get local issuer certificate", true);
        assertFailed(verify(3, viaOther, otherIntermediate, OTHER_CA), "self-signed certificate in certificate chain",
                true);
        assertFailed(verify(1, TestPki.selfSignedClient("CN=me")), "self-signed certificate", true);
        assertThat(verify(1, STRANGER).leaf()).isEqualTo(STRANGER.certificate());
    }

    @Test
    void depthCountsTheCertificatesBetweenTheClientAndTheBundle() {
        assertFailed(verify(1, VIA_INTERMEDIATE, INTERMEDIATE), "certificate chain too long", false);
        assertThat(verify(2, VIA_INTERMEDIATE, INTERMEDIATE)).isInstanceOf(ClientCertificateStatus.Success.class);
        assertThat(verify(5, VIA_INTERMEDIATE, INTERMEDIATE)).isInstanceOf(ClientCertificateStatus.Success.class);
        // the intermediate not sent: its issuer is unknown
        assertFailed(verify(2, VIA_INTERMEDIATE), "unable to verify the first certificate", true);
        // an intermediate in the bundle is a trust anchor of its own
        ClientCertificateVerifier withIntermediate = ClientCertificateVerifier.forBundle(TestPki.bundle(INTERMEDIATE));
        assertThat(withIntermediate.verify(chain(VIA_INTERMEDIATE), 1)).isInstanceOf(ClientCertificateStatus.Success.class);
        // depth 0: only a certificate that is itself in the bundle
        assertFailed(verify(0, CLIENT), "certificate chain too long", false);
        Issued pinned = TestPki.selfSignedClient("CN=pinned,O=Example");
        ClientCertificateVerifier pinning = ClientCertificateVerifier.forBundle(TestPki.bundle(CA, pinned));
        assertThat(pinning.verify(chain(pinned), 0)).isInstanceOf(ClientCertificateStatus.Success.class);
        assertThat(pinning.verify(chain(pinned), 1)).isInstanceOf(ClientCertificateStatus.Success.class);
    }

    @Test
    void validityIsCheckedAndWinsOverAnUnknownIssuer() {
        Instant now = Instant.now();
        Issued expired = TestPki.client("CN=old", CA, now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)),
                KeyPurposeId.id_kp_clientAuth);
        Issued future = TestPki.client("CN=new", CA, now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(10)),
                KeyPurposeId.id_kp_clientAuth);
        assertFailed(verify(1, expired), "certificate has expired", false);
        assertFailed(verify(1, future), "certificate is not yet valid", false);
        Issued expiredStranger = TestPki.client("CN=old", OTHER_CA, now.minus(Duration.ofDays(10)),
                now.minus(Duration.ofDays(1)), KeyPurposeId.id_kp_clientAuth);
        assertFailed(verify(1, expiredStranger), "certificate has expired", false);
    }

    @Test
    void aForgedSignatureANonCaIssuerAndAServerOnlyCertificateFail() {
        Issued impostorCa = TestPki.ca("CN=Test CA,O=Example"); // same name, other key
        assertFailed(verify(1, TestPki.client("CN=forged", impostorCa)), "certificate signature failure", false);

        Issued issuedByLeaf = TestPki.client("CN=sub", CLIENT);
        // a client certificate cannot issue: no keyCertSign (checked before CA:false)
        assertFailed(verify(2, issuedByLeaf, CLIENT), "key usage does not include certificate signing", false);

        Issued serverOnly = TestPki.client("CN=server", CA, null, null, KeyPurposeId.id_kp_serverAuth);
        assertFailed(verify(1, serverOnly), "unsupported certificate purpose", false);
        Issued anyPurpose = TestPki.client("CN=any", CA, null, null, null);
        assertThat(verify(1, anyPurpose)).isInstanceOf(ClientCertificateStatus.Success.class);
    }

    @Test
    void anyCaOfABundleWillDo() {
        ClientCertificateVerifier both = ClientCertificateVerifier.forBundle(TestPki.bundle(CA, OTHER_CA));
        assertThat(both.caCertificates()).containsExactly(CA.certificate(), OTHER_CA.certificate());
        assertThat(both.verify(chain(STRANGER), 1)).isInstanceOf(ClientCertificateStatus.Success.class);
        assertThat(both.verify(chain(CLIENT), 1)).isInstanceOf(ClientCertificateStatus.Success.class);
    }

    @Test
    void verifiersAreCachedByBundleContentAndABadBundleIsRefused() {
        assertThat(ClientCertificateVerifier.forBundle(new String(TestPki.bundle(CA).toCharArray())))
                .isSameAs(VERIFIER);
        assertThatThrownBy(() -> ClientCertificateVerifier.forBundle("nope"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ca.crt");
    }

    @Test
    void escapedPemIsTheLeafPemEscapedLikeNginx() throws Exception {
        ClientCertificateStatus s = verify(1, CLIENT);
        String escaped = s.escapedPem();
        assertThat(escaped).startsWith("-----BEGIN%20CERTIFICATE-----%0AMII").endsWith("-----END%20CERTIFICATE-----%0A");
        assertThat(escaped).doesNotContain("+", "/", "=", " ", "\n");
        String pem = URLDecoder.decode(escaped, StandardCharsets.US_ASCII);
        assertThat(pem).isEqualTo(CLIENT.pem());
        assertThat(pem.lines().filter(l -> !l.startsWith("-----")).mapToInt(String::length).max().orElseThrow())
                .isEqualTo(64);
        assertThat(CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo(CLIENT.certificate());

        assertThat(ClientCertificateText.escapeUriComponent("a b+/=~-._!*'()\n\u00e9"))
                .isEqualTo("a%20b%2B%2F%3D~-._%21%2A%27%28%29%0A%C3%A9");
    }

    @Test
    void distinguishedNamesAreRfc2253WithOpenSslAttributeNames() {
        Issued named = TestPki.client("EMAILADDRESS=ops@example.com,CN=Jane Doe\\, Ops,SERIALNUMBER=42,O=Example,C=DE",
                CA);
        ClientCertificateStatus s = verify(1, named);
        assertThat(s.subjectDn())
                .isEqualTo("emailAddress=ops@example.com,CN=Jane Doe\\, Ops,serialNumber=42,O=Example,C=DE");
        assertThat(s.issuerDn()).isEqualTo("CN=Test CA,O=Example");
    }
}
