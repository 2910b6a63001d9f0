package dev.sluice.controller.translate;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Reads the {@code tls.crt} and {@code tls.key} of a TLS Secret into a {@link ParsedCertificate}:
 * the chain is kept in the given order (leaf first), the key must be unencrypted PKCS#8, PKCS#1 RSA
 * or SEC1 EC and is re-encoded as PKCS#8 (so the proxy loads every key the same way), and the key
 * must match the leaf's public key. Knows nothing of Secrets, hosts or the time of day.
 */
final class CertificateParser {
    private CertificateParser() {}

    /**
     * What a pair of PEM texts parses to: a certificate, or why it cannot be served (exactly one of
     * the two is non-null).
     *
     * @param certificate the parsed certificate, or {@code null}
     * @param error       why not, e.g. {@code tls.key does not match the certificate in tls.crt}
     */
    record Result(ParsedCertificate certificate, String error) {
        Result {
            if ((certificate == null) == (error == null)) {
                throw new IllegalArgumentException("exactly one of certificate and error");
            }
        }

        static Result invalid(String why) {
            return new Result(null, Objects.requireNonNull(why, "why"));
        }
    }

    /** Parses and checks; never throws for bad input (it becomes {@link Result#error}). */
    static Result parse(String certPem, String keyPem) {
        List<X509Certificate> chain;
        try {
            chain = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            return Result.invalid("tls.crt is not a PEM certificate (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            return Result.invalid("tls.crt holds no certificate");
        }
        PrivateKey privateKey;
        try {
            privateKey = privateKey(keyPem);
        } catch (IOException | RuntimeException e) {
            return Result.invalid("tls.key is not a PEM private key (" + e.getMessage() + ")");
        }
        if (privateKey == null) {
            return Result.invalid("tls.key holds no unencrypted private key");
        }
        X509Certificate leaf = chain.get(0);
        if (!matches(privateKey, leaf.getPublicKey())) {
            return Result.invalid("tls.key does not match the certificate in tls.crt");
        }
        try {
            return new Result(new ParsedCertificate(pem(chain), pkcs8(privateKey), names(leaf),
                    leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()), null);
        } catch (IOException | GeneralSecurityException e) {
            return Result.invalid("cannot re-encode the key (" + e.getMessage() + ")");
        }
    }

    private static PrivateKey privateKey(String pem) throws IOException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    // PKCS#1 RSA, SEC1 EC; only the private half: SEC1's public key is optional
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info); // PKCS#8
                }
            }
        }
        return null;
    }

    /** Whether the key signs what the certificate's public key verifies. */
    private static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] probe = "sluice key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // e.g. an RSA key with an EC certificate
        }
    }

    /**
     * The DNS SANs, or the subject CN when there is no DNS SAN (RFC 6125 and ingress-nginx); none
     * when the SAN extension cannot be read, so such a certificate covers no host.
     */
    private static List<String> names(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) { // dNSName
                        names.add(normalise(String.valueOf(san.get(1))));
                    }
                }
            }
        } catch (GeneralSecurityException e) {
            return List.of();
        }
        if (names.isEmpty()) {
            String cn = commonName(leaf);
            if (cn != null) {
                names.add(normalise(cn));
            }
        }
        return names;
    }

    private static String normalise(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    private static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    private static String pem(List<X509Certificate> chain) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (X509Certificate c : chain) {
                w.writeObject(c);
            }
        }
        return out.toString();
    }

    private static String pkcs8(PrivateKey key) throws IOException, GeneralSecurityException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(new JcaPKCS8Generator(key, null));
        }
        return out.toString();
    }
}
