package dev.sluice.gateway.route;

import java.util.Objects;

/**
 * One server certificate taken from a Kubernetes TLS Secret: the PEM certificate chain (leaf
 * first) and the PEM private key (PKCS#8, {@code -----BEGIN PRIVATE KEY-----}), already validated
 * by the controller. Equal by content, so a rebuild that reads an unchanged Secret produces an
 * equal value and nothing is republished or rebuilt.
 *
 * @param secret         {@code namespace/name} of the Secret it came from (for logs and problems)
 * @param certificatePem the certificate chain, PEM
 * @param privateKeyPem  the private key, PKCS#8 PEM
 */
public record TlsCertificate(String secret, String certificatePem, String privateKeyPem) {
    public TlsCertificate {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(certificatePem, "certificatePem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    }

    /** Never prints the key. */
    @Override
    public String toString() {
        return "TlsCertificate[" + secret + "]";
    }
}
