package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestCertificates;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;

/** Reading TLS Secrets' PEM texts: key formats, chain order, names, validity, and what is refused. */
class CertificateParserTest {
    private static final Instant NOT_BEFORE = Instant.parse("2030-01-01T00:00:00Z");
    private static final Instant NOT_AFTER = Instant.parse("2030-04-01T00:00:00Z");

    @Test
    void pkcs8AndPkcs1RsaKeysGiveTheSamePkcs8Key() {
        TestCertificates.Issued a = TestCertificates.issue("a.example.com", "a.example.com");

        ParsedCertificate fromPkcs8 = ok(a.certificatePem(), a.pkcs8KeyPem());
        ParsedCertificate fromPkcs1 = ok(a.certificatePem(), a.pkcs1KeyPem());

        assertThat(a.pkcs1KeyPem()).contains("BEGIN RSA PRIVATE KEY");
        assertThat(fromPkcs1.privateKeyPem()).contains("BEGIN PRIVATE KEY").doesNotContain("RSA PRIVATE KEY");
        assertThat(fromPkcs1).isEqualTo(fromPkcs8);
    }

    @Test
    void sec1AndPkcs8EcKeysAreAcceptedAndStoredAsPkcs8() throws Exception {
        KeyPair ec = ecKeys(new BouncyCastleProvider()); // its SEC1 form carries the public key, as openssl's does
        String cert = pem(certificate("CN=ec.example.com", ec, "CN=ec.example.com", ec, "ec.example.com"));
        String sec1 = pem(new JcaMiscPEMGenerator(ec.getPrivate()));
        String pkcs8 = pem(new JcaPKCS8Generator(ec.getPrivate(), null));

        assertThat(sec1).contains("BEGIN EC PRIVATE KEY");
        ParsedCertificate fromSec1 = ok(cert, sec1);
        assertThat(fromSec1.privateKeyPem()).contains("BEGIN PRIVATE KEY");
        assertThat(fromSec1.names()).containsExactly("ec.example.com");
        assertThat(ok(cert, pkcs8)).isEqualTo(fromSec1);
    }

    @Test
    void aSec1EcKeyWithoutItsOptionalPublicKeyIsAccepted() throws Exception {
        KeyPair ec = ecKeys(new BouncyCastleProvider());
        String cert = pem(certificate("CN=ec.example.com", ec, "CN=ec.example.com", ec, "ec.example.com"));
        // what "openssl ec -no_public" writes: the curve, the private value, no public key
        java.security.interfaces.ECPrivateKey k = (java.security.interfaces.ECPrivateKey) ec.getPrivate();
        byte[] der = new org.bouncycastle.asn1.sec.ECPrivateKey(256, k.getS(),
                new X962Parameters(SECObjectIdentifiers.secp256r1)).getEncoded();
        String sec1 = pem(new PemObject("EC PRIVATE KEY", der));

        assertThat(ok(cert, sec1).privateKeyPem()).contains("BEGIN PRIVATE KEY");
    }

    @Test
    void theChainKeepsItsOrderAndTheFirstCertificateIsTheLeaf() throws Exception {
        KeyPair caKeys = rsaKeys();
        KeyPair leafKeys = rsaKeys();
        String ca = pem(certificate("CN=Test CA", caKeys, "CN=Test CA", caKeys, "ca.example.com"));
        String leaf = pem(certificate("CN=leaf", leafKeys, "CN=Test CA", caKeys, "leaf.example.com"));
        String key = pem(new JcaPKCS8Generator(leafKeys.getPrivate(), null));

        ParsedCertificate c = ok(leaf + ca, key);

        assertThat(c.chainPem().split("-----BEGIN CERTIFICATE-----")).hasSize(3);
        assertThat(c.chainPem()).isEqualTo(leaf + ca);
        assertThat(c.names()).containsExactly("leaf.example.com"); // the leaf's, not the CA's
        // no reordering: with the CA first, the CA is taken as the leaf and the key does not match it
        assertThat(CertificateParser.parse(ca + leaf, key).error())
                .isEqualTo("tls.key does not match the certificate in tls.crt");
    }

    @Test
    void dnsSansAreTheNamesLowerCaseWithoutTrailingDotAndTheCommonNameOnlyWithoutThem() throws Exception {
        KeyPair k = rsaKeys();
        String keyPem = pem(new JcaPKCS8Generator(k.getPrivate(), null));

        ParsedCertificate sans = ok(pem(certificate("CN=cn.example.com", k, "CN=cn.example.com", k,
                "A.Example.com", "*.b.example.com.")), keyPem);
        ParsedCertificate cnOnly = ok(pem(certificate("CN=CN.Example.com,O=Test", k, "CN=x", k)), keyPem);

        assertThat(sans.names()).containsExactly("a.example.com", "*.b.example.com");
        assertThat(cnOnly.names()).containsExactly("cn.example.com");
    }

    @Test
    void namesCoverHostsExactlyOrOneLabelBelowAWildcard() {
        ParsedCertificate c = new ParsedCertificate("chain", "key", java.util.List.of("a.example.com",
                "*.b.example.com"), NOT_BEFORE, NOT_AFTER);

        assertThat(c.covers("a.example.com")).isTrue();
        assertThat(c.covers("x.a.example.com")).isFalse();
        assertThat(c.covers("api.b.example.com")).isTrue();
        assertThat(c.covers("x.api.b.example.com")).isFalse();
        assertThat(c.covers("b.example.com")).isFalse();
        assertThat(c.covers("*.b.example.com")).isTrue(); // a wildcard host needs an equal wildcard name
        assertThat(c.covers("*.a.example.com")).isFalse();
    }

    @Test
    void theValidityPeriodIsReadAndCheckedAgainstTheGivenTime() throws Exception {
        KeyPair k = rsaKeys();
        ParsedCertificate c = ok(pem(certificate("CN=a", k, "CN=a", k, "a.example.com")),
                pem(new JcaPKCS8Generator(k.getPrivate(), null)));

        assertThat(c.notBefore()).isEqualTo(NOT_BEFORE);
        assertThat(c.notAfter()).isEqualTo(NOT_AFTER);
        assertThat(c.notYetValidAt(NOT_BEFORE.minusSeconds(1))).isTrue();
        assertThat(c.notYetValidAt(NOT_BEFORE)).isFalse();
        assertThat(c.expiredAt(NOT_AFTER)).isFalse(); // notAfter is inclusive
        assertThat(c.expiredAt(NOT_AFTER.plusSeconds(1))).isTrue();
    }

    @Test
    void unusableTextsGiveTheReasonAndNoCertificate() {
        TestCertificates.Issued a = TestCertificates.issue("a.example.com", "a.example.com");
        TestCertificates.Issued other = TestCertificates.issue("other.example.com", "other.example.com");

        assertThat(CertificateParser.parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                a.pkcs8KeyPem()).error()).startsWith("tls.crt is not a PEM certificate");
        assertThat(CertificateParser.parse(a.certificatePem(), "not a key").error())
                .isEqualTo("tls.key holds no unencrypted private key");
        assertThat(CertificateParser.parse(a.certificatePem(), a.certificatePem()).error())
                .isEqualTo("tls.key holds no unencrypted private key");
        assertThat(CertificateParser.parse(a.certificatePem(), other.pkcs8KeyPem()))
                .satisfies(r -> assertThat(r.certificate()).isNull())
                .satisfies(r -> assertThat(r.error()).isEqualTo("tls.key does not match the certificate in tls.crt"));
    }

    @Test
    void theKeyNeverAppearsInToString() {
        TestCertificates.Issued a = TestCertificates.issue("a.example.com", "a.example.com");
        ParsedCertificate c = ok(a.certificatePem(), a.pkcs8KeyPem());

        assertThat(c.toString()).doesNotContain("PRIVATE KEY").contains("a.example.com");
    }

    private static ParsedCertificate ok(String certPem, String keyPem) {
        CertificateParser.Result r = CertificateParser.parse(certPem, keyPem);
        assertThat(r.error()).isNull();
        return r.certificate();
    }

    private static KeyPair rsaKeys() throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048, new SecureRandom());
        return gen.generateKeyPair();
    }

    private static KeyPair ecKeys(Provider provider) throws GeneralSecurityException {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", provider);
        gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return gen.generateKeyPair();
    }

    /** A certificate for {@code subjectKeys}, signed by {@code issuerKeys}, valid NOT_BEFORE..NOT_AFTER. */
    private static Object certificate(String subject, KeyPair subjectKeys, String issuer, KeyPair issuerKeys,
            String... sans) throws Exception {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                new BigInteger(64, new SecureRandom()), Date.from(NOT_BEFORE), Date.from(NOT_AFTER),
                new X500Name(subject), subjectKeys.getPublic());
        if (sans.length > 0) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(Arrays.stream(sans)
                    .map(s -> new GeneralName(GeneralName.dNSName, s)).toArray(GeneralName[]::new)));
        }
        String algorithm = issuerKeys.getPrivate().getAlgorithm().startsWith("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return b.build(new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate()));
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
