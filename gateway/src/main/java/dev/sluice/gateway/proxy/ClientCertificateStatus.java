package dev.sluice.gateway.proxy;

import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * The outcome of verifying a connection's client certificate against a CA bundle, as NGINX's
 * {@code $ssl_client_verify} reports it: {@link None} (no certificate sent), {@link Success}, or
 * {@link Failed} with OpenSSL's reason text. The helpers give the values of ingress-nginx's
 * upstream headers ({@code ssl-client-verify}, {@code ssl-client-subject-dn},
 * {@code ssl-client-issuer-dn}, {@code ssl-client-cert}).
 */
public sealed interface ClientCertificateStatus {

    /** No client certificate was sent (or none was asked for). */
    None NONE = new None();

    /** The client's certificate (the leaf), or {@code null} for {@link None}. */
    X509Certificate leaf();

    /** {@code $ssl_client_verify}: {@code SUCCESS}, {@code FAILED:<reason>} or {@code NONE}. */
    String verifyHeader();

    /**
     * {@code $ssl_client_s_dn}: the leaf's subject as an RFC 2253 string ({@code CN=client,O=Example}),
     * or {@code null} for {@link None}.
     */
    default String subjectDn() {
        return leaf() == null ? null : ClientCertificateText.rfc2253(leaf().getSubjectX500Principal());
    }

    /** {@code $ssl_client_i_dn}: the leaf's issuer as an RFC 2253 string, or {@code null} for {@link None}. */
    default String issuerDn() {
        return leaf() == null ? null : ClientCertificateText.rfc2253(leaf().getIssuerX500Principal());
    }

    /**
     * {@code $ssl_client_escaped_cert}: the leaf as PEM (64-character lines, {@code \n} line ends,
     * as OpenSSL writes it) escaped like NGINX's {@code ngx_escape_uri} for URI components: every
     * byte but {@code A-Z a-z 0-9 - . _ ~} becomes {@code %XX} (upper-case hex). {@code null} for
     * {@link None}.
     */
    default String escapedPem() {
        return leaf() == null ? null : ClientCertificateText.escapeUriComponent(ClientCertificateText.pem(leaf()));
    }

    /** No client certificate. */
    record None() implements ClientCertificateStatus {
        @Override
        public X509Certificate leaf() {
            return null;
        }

        @Override
        public String verifyHeader() {
            return "NONE";
        }
    }

    /** The certificate chains up to a CA of the bundle within the verify depth. */
    record Success(X509Certificate leaf) implements ClientCertificateStatus {
        public Success {
            Objects.requireNonNull(leaf, "leaf");
        }

        @Override
        public String verifyHeader() {
            return "SUCCESS";
        }
    }

    /**
     * The certificate did not verify.
     *
     * @param reason       OpenSSL's text for the error ({@code X509_verify_cert_error_string}),
     *                     e.g. {@code unable to verify the first certificate}
     * @param leaf         the client's certificate
     * @param untrustedCaOnly whether the only fault is an issuer that is not trusted (self-signed,
     *                     unknown CA): the errors NGINX's {@code optional_no_ca} lets through
     */
    record Failed(String reason, X509Certificate leaf, boolean untrustedCaOnly) implements ClientCertificateStatus {
        public Failed {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(leaf, "leaf");
        }

        @Override
        public String verifyHeader() {
            return "FAILED:" + reason;
        }
    }
}
