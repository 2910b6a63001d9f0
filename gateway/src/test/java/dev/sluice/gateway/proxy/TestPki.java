package dev.sluice.gateway.proxy;

import java.math.BigInteger;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small PKI made at test time (BouncyCastle, EC P-256 keys: fast to generate): CAs,
 * intermediates and client certificates, and a client key manager that always offers its
 * certificate, as curl and browsers configured with one do (the JDK's own would hold back a
 * certificate whose issuer the server did not name).
 */
public final class TestPki {
    private TestPki() {}

    /** A certificate with its key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
        public String pem() {
            return ClientCertificateText.pem(certificate);
        }

        public String subject() {
            return certificate.getSubjectX500Principal().getName();
        }
    }

    /** A self-signed CA, subject {@code dn} (RFC 2253, e.g. {@code CN=Test CA,O=Example}). */
    public static Issued ca(String dn) {
        KeyPair pair = keyPair();
        return build(dn, pair, new X500Principal(dn), pair.getPrivate(), true, null, null, null);
    }

    /** An intermediate CA issued by {@code issuer}. */
    public static Issued intermediate(String dn, Issued issuer) {
        return build(dn, keyPair(), issuer.certificate.getSubjectX500Principal(), issuer.key, true, null,
                null, null);
    }

    /** A client certificate (EKU clientAuth) issued by {@code issuer}, valid now. */
    public static Issued client(String dn, Issued issuer) {
        return client(dn, issuer, null, null, KeyPurposeId.id_kp_clientAuth);
    }

    /** A client certificate with the validity and extended key usage of our choosing ({@code null}: defaults / none). */
    public static Issued client(String dn, Issued issuer, Instant notBefore, Instant notAfter, KeyPurposeId eku) {
        return build(dn, keyPair(), issuer.certificate.getSubjectX500Principal(), issuer.key, false,
                notBefore, notAfter, eku);
    }

    /**
     * A TLS server certificate (EKU serverAuth) issued by {@code issuer}, valid now, with the
     * subject alternative names {@code sans}: IP literals become IP SANs, the others DNS SANs.
     */
    public static Issued server(String dn, Issued issuer, String... sans) {
        KeyPair pair = keyPair();
        Issued built = build(dn, pair, issuer.certificate.getSubjectX500Principal(), issuer.key, false, null, null,
                KeyPurposeId.id_kp_serverAuth, sans);
        return built;
    }

    /** A self-signed end-entity certificate (no CA). */
    public static Issued selfSignedClient(String dn) {
        KeyPair pair = keyPair();
        return build(dn, pair, new X500Principal(dn), pair.getPrivate(), false, null, null, KeyPurposeId.id_kp_clientAuth);
    }

    /** The PEM bundle of {@code cas}, as a {@code ca.crt} holds it. */
    public static String bundle(Issued... cas) {
        StringBuilder b = new StringBuilder();
        for (Issued c : cas) {
            b.append(c.pem());
        }
        return b.toString();
    }

    private static Issued build(String dn, KeyPair pair, X500Principal issuerDn, PrivateKey issuerKey, boolean ca,
            Instant notBefore, Instant notAfter, KeyPurposeId eku, String... sans) {
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerDn,
                    new BigInteger(64, new SecureRandom()),
                    Date.from(notBefore != null ? notBefore : now.minus(Duration.ofHours(1))),
                    Date.from(notAfter != null ? notAfter : now.plus(Duration.ofDays(1))),
                    new X500Principal(dn), pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                    : KeyUsage.digitalSignature));
            if (eku != null) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
            }
            if (sans.length > 0) {
                GeneralName[] names = new GeneralName[sans.length];
                for (int i = 0; i < sans.length; i++) {
                    names[i] = io.netty.util.NetUtil.isValidIpV4Address(sans[i])
                            || io.netty.util.NetUtil.isValidIpV6Address(sans[i])
                            ? new GeneralName(GeneralName.iPAddress, sans[i])
                            : new GeneralName(GeneralName.dNSName, sans[i]);
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
            return new Issued(cert, pair.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Offers {@code leaf} (followed by {@code chain}) whenever the server asks, and records the CA
     * names the server's CertificateRequest listed.
     */
    public static final class ClientKeys extends X509ExtendedKeyManager {
        private final Issued leaf;
        private final X509Certificate[] chain;
        private final List<String> offeredIssuers = new ArrayList<>();
        private volatile boolean asked;

        public ClientKeys(Issued leaf, Issued... chain) {
            this.leaf = leaf;
            this.chain = new X509Certificate[chain.length + 1];
            this.chain[0] = leaf.certificate;
            for (int i = 0; i < chain.length; i++) {
                this.chain[i + 1] = chain[i].certificate;
            }
        }

        /** Whether the server asked for a client certificate. */
        public boolean asked() {
            return asked;
        }

        /** The issuer names of the server's CertificateRequest, RFC 2253. */
        public synchronized List<String> offeredIssuers() {
            return List.copyOf(offeredIssuers);
        }

        private String choose(Principal[] issuers) {
            asked = true;
            synchronized (this) {
                if (issuers != null) {
                    Arrays.stream(issuers).map(Principal::getName).forEach(offeredIssuers::add);
                }
            }
            return "client";
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return choose(issuers);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return choose(issuers);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return chain.clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return leaf.key;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"client"};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }
}
