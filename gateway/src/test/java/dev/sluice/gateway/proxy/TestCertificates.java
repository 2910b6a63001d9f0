package dev.sluice.gateway.proxy;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates made at test time (BouncyCastle), as PEM the way TLS Secrets hold them. */
public final class TestCertificates {
    private TestCertificates() {}

    /**
     * A certificate and its key.
     *
     * @param certificatePem the certificate, PEM
     * @param pkcs8KeyPem    the key, {@code -----BEGIN PRIVATE KEY-----}
     * @param pkcs1KeyPem    the same key, {@code -----BEGIN RSA PRIVATE KEY-----} (as openssl writes it)
     * @param certificate    the parsed certificate
     */
    public record Issued(String certificatePem, String pkcs8KeyPem, String pkcs1KeyPem, X509Certificate certificate) {}

    /** RSA 2048, subject {@code CN=cn}, DNS SANs {@code sans} (none: no SAN extension), valid now for a day. */
    public static Issued issue(String cn, String... sans) {
        Instant now = Instant.now();
        return issue(cn, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), sans);
    }

    /** Like {@link #issue(String, String...)} with a validity period of our choosing. */
    public static Issued issue(String cn, Instant notBefore, Instant notAfter, String... sans) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048, new SecureRandom());
            KeyPair pair = gen.generateKeyPair();
            X500Name subject = new X500Name("CN=" + cn + ",O=Sluice Test");
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(notBefore), Date.from(notAfter), subject,
                    pair.getPublic());
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(Arrays.stream(sans)
                        .map(s -> new GeneralName(GeneralName.dNSName, s)).toArray(GeneralName[]::new)));
            }
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
            return new Issued(pem(cert), pem(new JcaPKCS8Generator(pair.getPrivate(), null)),
                    pem(new JcaMiscPEMGenerator(pair.getPrivate())), cert);
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
