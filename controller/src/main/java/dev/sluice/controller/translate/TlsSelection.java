package dev.sluice.controller.translate;

import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLS;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Chooses the server certificate of every host from the Ingresses' {@code tls:} sections and
 * their Secrets, as ingress-nginx's {@code createServers} does (SPEC §10.1).
 *
 * <p>For each host, Ingresses are looked at oldest first; the first one that has a {@code tls:}
 * section and a rule for that host decides:
 * <ul>
 *   <li>a {@code tls[].hosts} entry equal (case-insensitive) to the host → that {@code secretName};
 *   <li>otherwise the first Secret of that Ingress's {@code tls:} list whose certificate covers the
 *       host (DNS SANs, {@code *.example.com} covering exactly one label; the subject CN only when
 *       the certificate has no DNS SAN);
 *   <li>otherwise, or when the {@code secretName} is empty, or the Secret is missing or invalid
 *       (not {@code kubernetes.io/tls}, no {@code tls.crt}/{@code tls.key}, unparsable PEM, key
 *       not matching the certificate), or its certificate does not cover the host → the default
 *       certificate ({@code --default-ssl-certificate}, else the proxy's fake one): the host is
 *       listed in {@link TlsCertificates#defaultHosts}, so it still has TLS configured and is
 *       redirected to HTTPS. Each of these except the empty name is a {@link Problem} on the
 *       Ingress naming the Secret.
 * </ul>
 * Expired certificates are still served, with a Problem as a warning. Wildcard rule hosts
 * ({@code *.foo.com}) get a wildcard entry. Keys are stored PKCS#8 (PKCS#1 RSA and SEC1 EC keys
 * are converted), so the proxy loads every key the same way.
 */
final class TlsSelection {
    static final String TLS_TYPE = "kubernetes.io/tls";

    /** A Secret read and checked: either a usable certificate or why not. */
    private record Loaded(TlsCertificate certificate, X509Certificate leaf, String error) {}

    private final Map<String, Secret> secrets = new HashMap<>();
    private final Map<String, Loaded> loaded = new HashMap<>();
    private final ProblemSink problems;

    TlsSelection(Collection<Secret> secrets, ProblemSink problems) {
        for (Secret s : secrets) {
            if (s.getMetadata() != null && s.getMetadata().getName() != null) {
                this.secrets.put(BackendResolver.namespace(s) + "/" + s.getMetadata().getName(), s);
            }
        }
        this.problems = problems;
    }

    /**
     * The certificates of all hosts, from mainline Ingresses sorted oldest first.
     *
     * @param defaultCertificate the default certificate ({@link #defaultCertificate}), or
     *                           {@code null} for the proxy's fake one
     */
    TlsCertificates select(List<Ingress> oldestFirst, TlsCertificate defaultCertificate) {
        Map<String, TlsCertificate> byHost = new LinkedHashMap<>();
        java.util.Set<String> defaultHosts = new java.util.HashSet<>();
        java.util.Set<String> decided = new java.util.HashSet<>();
        for (Ingress ing : oldestFirst) {
            List<IngressTLS> tls = ing.getSpec() == null ? null : ing.getSpec().getTls();
            if (tls == null || tls.isEmpty() || ing.getSpec().getRules() == null) {
                continue;
            }
            for (IngressRule rule : ing.getSpec().getRules()) {
                String host = IngressTranslator.hostKey(rule.getHost());
                if (host == null || host.isEmpty() || !decided.add(host)) {
                    continue;
                }
                TlsCertificate c = choose(ing, tls, host);
                if (c != null) {
                    byHost.put(host, c);
                } else {
                    // still a TLS host: served the default certificate, and redirected to HTTPS
                    defaultHosts.add(host);
                }
            }
        }
        return new TlsCertificates(byHost, defaultHosts, defaultCertificate);
    }

    /**
     * The certificate of {@code --default-ssl-certificate} (a {@code kubernetes.io/tls} Secret), or
     * {@code null} with the reason given to {@code problem} when it is missing or invalid (the
     * proxy then keeps its generated fake certificate).
     */
    TlsCertificate defaultCertificate(String namespace, String name, java.util.function.Consumer<String> problem) {
        Loaded l = load(namespace, name);
        if (l.error() != null) {
            problem.accept("--default-ssl-certificate " + namespace + "/" + name + ": " + l.error()
                    + "; the generated fake certificate is served as the default");
            return null;
        }
        return l.certificate();
    }

    private TlsCertificate choose(Ingress ing, List<IngressTLS> tls, String host) {
        String ns = BackendResolver.namespace(ing);
        String name = ing.getMetadata().getName();
        for (IngressTLS t : tls) {
            if (t.getHosts() != null && t.getHosts().stream().anyMatch(h -> h != null && h.trim().equalsIgnoreCase(host))) {
                String secretName = t.getSecretName();
                if (secretName == null || secretName.isEmpty()) {
                    return null; // documented: TLS with the default certificate
                }
                Loaded l = load(ns, secretName);
                if (l.error() != null) {
                    problems.report(ns, name, "TLS Secret " + ns + "/" + secretName + " for host " + host + ": "
                            + l.error() + "; the default certificate is served");
                    return null;
                }
                if (!covers(l.leaf(), host)) {
                    problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName
                            + " does not cover host " + host + "; the default certificate is served");
                    return null;
                }
                warnIfExpired(ns, name, secretName, l.leaf());
                return l.certificate();
            }
        }
        List<String> unusable = new ArrayList<>();
        for (IngressTLS t : tls) {
            String secretName = t.getSecretName();
            if (secretName == null || secretName.isEmpty()) {
                continue;
            }
            Loaded l = load(ns, secretName);
            if (l.error() != null) {
                unusable.add(ns + "/" + secretName + " (" + l.error() + ")");
            } else if (covers(l.leaf(), host)) {
                warnIfExpired(ns, name, secretName, l.leaf());
                return l.certificate();
            }
        }
        problems.report(ns, name, "no TLS Secret of this Ingress covers host " + host
                + (unusable.isEmpty() ? "" : "; unusable: " + String.join(", ", unusable))
                + "; the default certificate is served");
        return null;
    }

    private void warnIfExpired(String ns, String name, String secretName, X509Certificate leaf) {
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName + " expired on "
                    + leaf.getNotAfter().toInstant() + "; served anyway");
        } catch (CertificateNotYetValidException e) {
            problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName + " is not valid before "
                    + leaf.getNotBefore().toInstant() + "; served anyway");
        }
    }

    private Loaded load(String ns, String secretName) {
        return loaded.computeIfAbsent(ns + "/" + secretName, this::read);
    }

    private Loaded read(String key) {
        Secret s = secrets.get(key);
        if (s == null) {
            return failed("not found");
        }
        if (!TLS_TYPE.equals(s.getType())) {
            return failed("type is " + s.getType() + ", not " + TLS_TYPE);
        }
        String certPem = SecretIndex.value(s, "tls.crt");
        String keyPem = SecretIndex.value(s, "tls.key");
        if (certPem == null || keyPem == null) {
            return failed("tls.crt or tls.key missing or empty");
        }
        Content content = new Content(key, certPem, keyPem);
        synchronized (PARSED) {
            Loaded cached = PARSED.get(content);
            if (cached != null) {
                return cached;
            }
        }
        Loaded l = parse(content);
        synchronized (PARSED) {
            PARSED.put(content, l);
        }
        return l;
    }

    /** A Secret's name and PEM texts: what the parse result depends on. */
    private record Content(String secret, String certPem, String keyPem) {}

    /**
     * Parse results by content, shared by all translations: every rebuild (an endpoint change is
     * enough) reads every TLS Secret, and parsing plus the key check cost milliseconds each.
     * Least recently used entries go first.
     */
    private static final Map<Content, Loaded> PARSED = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Content, Loaded> eldest) {
            return size() > 4096;
        }
    };

    private static Loaded parse(Content content) {
        String key = content.secret();
        String certPem = content.certPem();
        String keyPem = content.keyPem();
        List<X509Certificate> chain;
        try {
            chain = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            return failed("tls.crt is not a PEM certificate (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            return failed("tls.crt holds no certificate");
        }
        PrivateKey privateKey;
        try {
            privateKey = privateKey(keyPem);
        } catch (IOException | RuntimeException e) {
            return failed("tls.key is not a PEM private key (" + e.getMessage() + ")");
        }
        if (privateKey == null) {
            return failed("tls.key holds no unencrypted private key");
        }
        if (!matches(privateKey, chain.get(0).getPublicKey())) {
            return failed("tls.key does not match the certificate in tls.crt");
        }
        try {
            return new Loaded(new TlsCertificate(key, pem(chain), pkcs8(privateKey)), chain.get(0), null);
        } catch (IOException | GeneralSecurityException e) {
            return failed("cannot re-encode the key (" + e.getMessage() + ")");
        }
    }

    private static Loaded failed(String why) {
        return new Loaded(null, null, why);
    }

    private static PrivateKey privateKey(String pem) throws IOException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate(); // PKCS#1 RSA, SEC1 EC
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
     * Whether {@code cert} is valid for {@code host} (which may itself be a wildcard such as
     * {@code *.foo.com}, then only an equal wildcard SAN covers it).
     */
    static boolean covers(X509Certificate cert, String host) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        names.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (GeneralSecurityException e) {
            return false;
        }
        if (names.isEmpty()) {
            String cn = commonName(cert);
            if (cn != null) {
                names.add(cn);
            }
        }
        for (String n : names) {
            if (nameMatches(n.toLowerCase(Locale.ROOT), host)) {
                return true;
            }
        }
        return false;
    }

    private static boolean nameMatches(String pattern, String host) {
        if (pattern.endsWith(".")) {
            pattern = pattern.substring(0, pattern.length() - 1);
        }
        if (pattern.equals(host)) {
            return true;
        }
        if (pattern.startsWith("*.") && !host.startsWith("*")) {
            int dot = host.indexOf('.');
            return dot > 0 && host.substring(dot).equals(pattern.substring(1));
        }
        return false;
    }

    private static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (javax.naming.InvalidNameException e) {
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
