package dev.sluice.gateway.route;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The client-certificate authentication of one server (host), from ingress-nginx's
 * {@code auth-tls-*} annotations: NGINX's {@code ssl_client_certificate}, {@code ssl_verify_client}
 * and {@code ssl_verify_depth}, plus {@code error_page 495 496} and the {@code ssl-client-cert}
 * upstream header. Equal by content, so an unchanged Secret rebuilds into an equal value.
 *
 * <p>The handshake never fails because of the client certificate; the verdict is given per
 * request, against the policy of the host that serves the request (see
 * {@code dev.sluice.gateway.proxy.ClientCertificateCheck}).
 *
 * @param secret                    {@code namespace/name} of the Secret holding {@code ca.crt} (for logs)
 * @param caBundlePem               the trusted CA certificates, PEM (validate with {@link #parseCaBundle})
 * @param mode                      {@code auth-tls-verify-client}
 * @param verifyDepth               {@code auth-tls-verify-depth}: 1 = the client certificate must be
 *                                  issued directly by a CA of the bundle, 2 allows one intermediate, …;
 *                                  0 accepts only a certificate that is itself in the bundle
 * @param errorPage                 {@code auth-tls-error-page}: where a rejected request is redirected
 *                                  (302) instead of getting 400, or {@code null}
 * @param passCertificateToUpstream {@code auth-tls-pass-certificate-to-upstream}: send the client's
 *                                  certificate, URL-encoded PEM, as {@code ssl-client-cert}
 */
public record ClientCertificateAuth(String secret, String caBundlePem, Mode mode, int verifyDepth, String errorPage,
        boolean passCertificateToUpstream) {

    /** ingress-nginx's default {@code auth-tls-verify-depth}. */
    public static final int DEFAULT_VERIFY_DEPTH = 1;

    /** {@code auth-tls-verify-client}: NGINX's {@code ssl_verify_client} values. */
    public enum Mode {
        /** A valid client certificate is required (ingress-nginx's default). */
        ON,
        /** No client certificate is requested; upstreams see {@code ssl-client-verify: NONE}. */
        OFF,
        /** A client certificate is requested; none is fine, an invalid one is rejected. */
        OPTIONAL,
        /**
         * Like {@link #OPTIONAL}, but a certificate whose only fault is that its issuer is not
         * trusted (self-signed, unknown CA) is let through with {@code FAILED:<reason>}.
         */
        OPTIONAL_NO_CA;

        /** The annotation value ({@code on}, {@code off}, {@code optional}, {@code optional_no_ca}). */
        public String annotationValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Parses an annotation value (ASCII case-insensitive); {@link IllegalArgumentException} otherwise. */
        public static Mode fromAnnotation(String value) {
            if (value != null) {
                for (Mode m : values()) {
                    if (m.annotationValue().equalsIgnoreCase(value.trim())) {
                        return m;
                    }
                }
            }
            throw new IllegalArgumentException("auth-tls-verify-client must be one of on, off, optional, "
                    + "optional_no_ca, not '" + value + "'");
        }
    }

    public ClientCertificateAuth {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(caBundlePem, "caBundlePem");
        Objects.requireNonNull(mode, "mode");
        if (verifyDepth < 0) {
            throw new IllegalArgumentException("verifyDepth must not be negative: " + verifyDepth);
        }
        if (errorPage != null && errorPage.isBlank()) {
            errorPage = null;
        }
    }

    /** ingress-nginx's defaults for a host with only {@code auth-tls-secret}: on, depth 1, no error page. */
    public static ClientCertificateAuth required(String secret, String caBundlePem) {
        return new ClientCertificateAuth(secret, caBundlePem, Mode.ON, DEFAULT_VERIFY_DEPTH, null, false);
    }

    /** Whether the handshake asks the client for a certificate (every mode but {@link Mode#OFF}). */
    public boolean requestsCertificate() {
        return mode != Mode.OFF;
    }

    /**
     * Parses a PEM CA bundle ({@code ca.crt}): one or more concatenated certificates. For the
     * controller to reject a Secret before it reaches the data plane.
     *
     * @throws IllegalArgumentException when the text holds no certificate or one that does not parse
     */
    public static List<X509Certificate> parseCaBundle(String pem) {
        if (pem == null || pem.isBlank()) {
            throw new IllegalArgumentException("the CA bundle (ca.crt) is empty");
        }
        if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("the CA bundle (ca.crt) holds no PEM certificate "
                    + "(-----BEGIN CERTIFICATE-----)");
        }
        Collection<? extends Certificate> parsed;
        try {
            parsed = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (CertificateException | RuntimeException e) {
            throw new IllegalArgumentException("the CA bundle (ca.crt) is not valid PEM: " + e.getMessage(), e);
        }
        List<X509Certificate> out = new ArrayList<>(parsed.size());
        for (Certificate c : parsed) {
            if (c instanceof X509Certificate x) {
                out.add(x);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("the CA bundle (ca.crt) holds no certificate");
        }
        // the JDK stops quietly at the first block it cannot read; a partly readable bundle is an error
        int blocks = countOccurrences(pem, "-----BEGIN CERTIFICATE-----");
        if (out.size() != blocks) {
            throw new IllegalArgumentException("the CA bundle (ca.crt) has " + blocks + " certificates of which only "
                    + out.size() + " parse");
        }
        return List.copyOf(out);
    }

    private static int countOccurrences(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** Never prints the bundle. */
    @Override
    public String toString() {
        return "ClientCertificateAuth[" + secret + ", " + mode.annotationValue() + ", depth " + verifyDepth
                + (errorPage != null ? ", error page " + errorPage : "")
                + (passCertificateToUpstream ? ", pass certificate" : "") + "]";
    }
}
