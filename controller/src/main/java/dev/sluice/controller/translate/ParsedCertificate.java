package dev.sluice.controller.translate;

import dev.sluice.gateway.route.TlsCertificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A TLS Secret's certificate chain and private key after {@link CertificateParser} has read and
 * checked them: the PEM texts the proxy loads, and what the translator needs to know about the leaf
 * (the names it is valid for and its validity period). Equal by content.
 *
 * <p>Name matching ({@link #covers}) follows ingress-nginx and browsers: a name equals the host
 * (case-insensitive, a trailing dot ignored), or a wildcard name {@code *.example.com} covers
 * exactly one label ({@code a.example.com}, not {@code a.b.example.com} nor {@code example.com}).
 * A wildcard host such as {@code *.example.com} is covered only by an equal wildcard name.
 *
 * @param chainPem      the certificate chain, PEM, in the order {@code tls.crt} gives it (leaf first)
 * @param privateKeyPem the private key, PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----})
 * @param names         the leaf's DNS SANs, or its subject CN when it has no DNS SAN; lower-case,
 *                      without a trailing dot
 * @param notBefore     start of the leaf's validity period
 * @param notAfter      end of the leaf's validity period (inclusive, as X.509 has it)
 */
record ParsedCertificate(String chainPem, String privateKeyPem, List<String> names, Instant notBefore,
        Instant notAfter) {

    ParsedCertificate {
        Objects.requireNonNull(chainPem, "chainPem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
        names = List.copyOf(names);
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
    }

    /** Whether this certificate is valid for {@code host} (lower-case; may be a wildcard host). */
    boolean covers(String host) {
        for (String n : names) {
            if (n.equals(host)) {
                return true;
            }
            if (n.startsWith("*.") && !host.startsWith("*")) {
                int dot = host.indexOf('.');
                if (dot > 0 && host.substring(dot).equals(n.substring(1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the validity period ended before {@code now}. */
    boolean expiredAt(Instant now) {
        return now.isAfter(notAfter);
    }

    /** Whether the validity period starts after {@code now}. */
    boolean notYetValidAt(Instant now) {
        return now.isBefore(notBefore);
    }

    /** The certificate as the proxy serves it, named after the Secret it came from. */
    TlsCertificate toTlsCertificate(String secret) {
        return new TlsCertificate(secret, chainPem, privateKeyPem);
    }

    /** Never prints the key. */
    @Override
    public String toString() {
        return "ParsedCertificate" + names + "[" + notBefore + ", " + notAfter + "]";
    }
}
