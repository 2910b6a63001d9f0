package dev.sluice.gateway.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.gateway.route.ClientCertificateAuth;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

/**
 * Verifies a client's certificate chain against one CA bundle the way NGINX does after a
 * handshake with {@code ssl_verify_client} ({@code ssl_client_certificate},
 * {@code ssl_verify_depth}): the chain the client sent is completed up to a CA of the bundle and
 * checked with the JDK's PKIX validator (signatures, validity, CA constraints; revocation off),
 * and a failure is named with OpenSSL 3's text for the error, since that is what upstreams see in
 * {@code ssl-client-verify: FAILED:<reason>}.
 *
 * <p>Depth as OpenSSL counts it: the chain (client certificate, intermediates, the bundle's CA)
 * may hold at most {@code depth + 1} certificates, so depth 1 needs the client certificate to be
 * issued by a CA of the bundle, depth 2 allows one intermediate sent by the client. Any
 * certificate of the bundle is a trust anchor (the bundle may hold intermediates). As an SSL
 * client certificate, the leaf's extended key usage, when present, must allow TLS client auth and
 * its key usage, when present, digital signature or key agreement (OpenSSL's {@code sslclient}
 * purpose).
 *
 * <p>Instances are immutable and thread-safe; {@link #forBundle} caches them by bundle content.
 * Verifying costs a few signature checks: callers verify once per connection
 * ({@link ClientCertificateCheck}, cached by {@link ProxyHandler}).
 */
public final class ClientCertificateVerifier {
    // OpenSSL 3's X509_verify_cert_error_string texts
    static final String SELF_SIGNED = "self-signed certificate";
    static final String SELF_SIGNED_IN_CHAIN = "self-signed certificate in certificate chain";
    static final String NO_LOCAL_ISSUER = "unable to get local issuer certificate";
    static final String FIRST_CERTIFICATE = "unable to verify the first certificate";
    static final String CHAIN_TOO_LONG = "certificate chain too long";
    static final String EXPIRED = "certificate has expired";
    static final String NOT_YET_VALID = "certificate is not yet valid";
    static final String BAD_SIGNATURE = "certificate signature failure";
    static final String INVALID_CA = "invalid CA certificate";
    static final String PATH_LENGTH = "path length constraint exceeded";
    static final String NO_CERT_SIGN = "key usage does not include certificate signing";
    static final String CRITICAL_EXTENSION = "unhandled critical extension";
    static final String PURPOSE = "unsupported certificate purpose";
    static final String UNSPECIFIED = "unspecified certificate verification error";

    private static final String CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_EKU = "2.5.29.37.0";

    // keyed by the bundle text: tables republished with an unchanged Secret reuse the parsed bundle
    private static final Cache<String, ClientCertificateVerifier> BY_BUNDLE =
            Caffeine.newBuilder().maximumSize(1024).build();

    private final List<X509Certificate> cas;
    private final Map<X500Principal, List<X509Certificate>> casBySubject = new HashMap<>();
    private final Map<X509Certificate, TrustAnchor> anchors = new IdentityHashMap<>();

    private ClientCertificateVerifier(List<X509Certificate> cas) {
        this.cas = cas;
        for (X509Certificate ca : cas) {
            casBySubject.computeIfAbsent(ca.getSubjectX500Principal(), k -> new ArrayList<>(1)).add(ca);
            anchors.put(ca, new TrustAnchor(ca, null));
        }
    }

    /**
     * The verifier of a PEM CA bundle, cached by content.
     *
     * @throws IllegalArgumentException when the bundle is empty or malformed
     *                                  ({@link ClientCertificateAuth#parseCaBundle})
     */
    public static ClientCertificateVerifier forBundle(String caBundlePem) {
        return BY_BUNDLE.get(caBundlePem, pem -> new ClientCertificateVerifier(ClientCertificateAuth.parseCaBundle(pem)));
    }

    /** The bundle's certificates, in file order: the CAs a client certificate may chain to. */
    public List<X509Certificate> caCertificates() {
        return cas;
    }

    /** Verifies the peer chain of a TLS session; no certificate (or no session) → {@link ClientCertificateStatus#NONE}. */
    public ClientCertificateStatus verify(SSLSession session, int verifyDepth) {
        if (session == null) {
            return ClientCertificateStatus.NONE;
        }
        try {
            return verify(session.getPeerCertificates(), verifyDepth);
        } catch (SSLPeerUnverifiedException e) {
            return ClientCertificateStatus.NONE;
        }
    }

    /** Verifies a chain as the client sent it (its certificate first); empty → {@link ClientCertificateStatus#NONE}. */
    public ClientCertificateStatus verify(Certificate[] chain, int verifyDepth) {
        return verify(chain, verifyDepth, new Date());
    }

    ClientCertificateStatus verify(Certificate[] chain, int verifyDepth, Date now) {
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            return ClientCertificateStatus.NONE;
        }
        List<X509Certificate> sent = new ArrayList<>(chain.length);
        for (int i = 1; i < chain.length; i++) {
            if (chain[i] instanceof X509Certificate x) {
                sent.add(x);
            }
        }

        // complete the chain as OpenSSL does (trusted issuers first), leaf first, the anchor apart
        List<X509Certificate> path = new ArrayList<>(chain.length);
        path.add(leaf);
        X509Certificate current = leaf;
        X509Certificate anchor;
        while (true) {
            anchor = issuerAmong(current, casBySubject.getOrDefault(current.getIssuerX500Principal(), List.of()));
            if (anchor != null) {
                break;
            }
            String untrusted = null;
            if (selfSigned(current)) {
                untrusted = path.size() == 1 ? SELF_SIGNED : SELF_SIGNED_IN_CHAIN;
            } else {
                X509Certificate next = issuerAmong(current, unused(sent, path, current.getIssuerX500Principal()));
                if (next == null) {
                    untrusted = path.size() == 1 ? FIRST_CERTIFICATE : NO_LOCAL_ISSUER;
                } else {
                    path.add(next);
                    current = next;
                }
            }
            if (untrusted != null) {
                // OpenSSL checks validity after the chain and reports the last error: an expired
                // certificate from an unknown CA fails as expired, which optional_no_ca does not let through
                String time = validityError(path, now);
                return time != null ? new ClientCertificateStatus.Failed(time, leaf, false)
                        : new ClientCertificateStatus.Failed(untrusted, leaf, true);
            }
        }

        boolean leafIsAnchor = anchor.equals(leaf);
        if (!leafIsAnchor && path.size() > verifyDepth) {
            return new ClientCertificateStatus.Failed(CHAIN_TOO_LONG, leaf, false);
        }
        String error = pkix(path, anchor, now);
        if (error == null) {
            error = validityError(List.of(anchor), now);
        }
        if (error == null && !sslClientPurpose(leaf)) {
            error = PURPOSE;
        }
        return error == null ? new ClientCertificateStatus.Success(leaf)
                : new ClientCertificateStatus.Failed(error, leaf, false);
    }

    /** Signatures, validity, CA constraints of {@code path} under {@code anchor}, or null when valid. */
    private String pkix(List<X509Certificate> path, X509Certificate anchor, Date now) {
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(Set.of(anchors.get(anchor)));
            params.setRevocationEnabled(false);
            params.setDate(now);
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
            return null;
        } catch (CertPathValidatorException e) {
            return reason(e);
        } catch (GeneralSecurityException e) {
            return UNSPECIFIED;
        }
    }

    private static String reason(CertPathValidatorException e) {
        CertPathValidatorException.Reason r = e.getReason();
        if (r == BasicReason.EXPIRED) {
            return EXPIRED;
        } else if (r == BasicReason.NOT_YET_VALID) {
            return NOT_YET_VALID;
        } else if (r == BasicReason.INVALID_SIGNATURE || r == BasicReason.ALGORITHM_CONSTRAINED) {
            return BAD_SIGNATURE;
        } else if (r == PKIXReason.NOT_CA_CERT) {
            return INVALID_CA;
        } else if (r == PKIXReason.PATH_TOO_LONG) {
            return PATH_LENGTH;
        } else if (r == PKIXReason.INVALID_KEY_USAGE) {
            return NO_CERT_SIGN;
        } else if (r == PKIXReason.UNRECOGNIZED_CRIT_EXT) {
            return CRITICAL_EXTENSION;
        } else if (r == PKIXReason.NO_TRUST_ANCHOR) {
            return NO_LOCAL_ISSUER;
        }
        return UNSPECIFIED;
    }

    /**
     * The issuer of {@code cert} among same-named candidates: one whose key verifies its signature,
     * else the first (the validator then reports the bad signature, as OpenSSL matches by name).
     */
    private static X509Certificate issuerAmong(X509Certificate cert, List<X509Certificate> candidates) {
        for (X509Certificate c : candidates) {
            if (signedBy(cert, c)) {
                return c;
            }
        }
        return candidates.isEmpty() ? null : candidates.get(0);
    }

    /** Certificates the client sent, named {@code subject}, not yet in the path. */
    private static List<X509Certificate> unused(List<X509Certificate> sent, List<X509Certificate> path,
            X500Principal subject) {
        List<X509Certificate> out = new ArrayList<>(1);
        for (X509Certificate c : sent) {
            if (c.getSubjectX500Principal().equals(subject) && !path.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static boolean selfSigned(X509Certificate c) {
        return c.getSubjectX500Principal().equals(c.getIssuerX500Principal()) && signedBy(c, c);
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static String validityError(List<X509Certificate> certs, Date now) {
        for (X509Certificate c : certs) {
            try {
                c.checkValidity(now);
            } catch (CertificateExpiredException e) {
                return EXPIRED;
            } catch (CertificateNotYetValidException e) {
                return NOT_YET_VALID;
            }
        }
        return null;
    }

    /** OpenSSL's {@code sslclient} purpose: EKU (if any) allows client auth, key usage (if any) signing. */
    private static boolean sslClientPurpose(X509Certificate leaf) {
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku != null && !eku.contains(CLIENT_AUTH_EKU) && !eku.contains(ANY_EKU)) {
                return false;
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        boolean[] ku = leaf.getKeyUsage();
        // bit 0 digitalSignature, bit 4 keyAgreement
        return ku == null || (ku.length > 0 && ku[0]) || (ku.length > 4 && ku[4]);
    }
}
