package dev.sluice.gateway.route;

import java.util.List;
import java.util.Objects;

/**
 * How a location speaks TLS to its Pods: ingress-nginx's {@code proxy-ssl-*} annotations, which
 * become NGINX's {@code proxy_ssl_*} directives. Equal by content, so an unchanged Secret rebuilds
 * into an equal value and the proxy keeps its TLS context and pooled connections.
 *
 * <p>Used only when the location's {@link BackendProtocol} asks for TLS ({@code HTTPS}, or
 * {@code AUTO_HTTP} for a request that came in over TLS).
 *
 * @param secret               {@code proxy-ssl-secret} ({@code namespace/name}, for logs), or {@code null}
 * @param caBundlePem          the Secret's {@code ca.crt}: the CAs that may issue the Pod's certificate
 *                             when {@code verify} is on; {@code null} when the Secret has none
 * @param clientCertificatePem the Secret's {@code tls.crt}: the chain Sluice presents when the Pod
 *                             asks for a client certificate, or {@code null} (none presented)
 * @param clientKeyPem         the Secret's {@code tls.key}, PKCS#8 PEM; {@code null} exactly when
 *                             {@code clientCertificatePem} is
 * @param verify               {@code proxy-ssl-verify} (default off: any certificate is accepted, as NGINX)
 * @param verifyDepth          {@code proxy-ssl-verify-depth} (default 1: the Pod's certificate is issued
 *                             directly by a CA of the bundle; 2 allows one intermediate the Pod sends, …)
 * @param name                 {@code proxy-ssl-name}: the name the certificate must match when
 *                             {@code verify} is on, and the SNI name when {@code serverName} is on;
 *                             {@code null}: no name check (Pods are addressed by IP)
 * @param serverName           {@code proxy-ssl-server-name} (default off): send {@code name} as SNI
 * @param protocols            {@code proxy-ssl-protocols} as JDK names ({@code TLSv1.2}, {@code TLSv1.3})
 * @param ciphers              {@code proxy-ssl-ciphers} as JDK cipher-suite names (TLS 1.2 and below), or
 *                             {@code null} for the JDK's defaults ({@code DEFAULT}); TLS 1.3 suites are
 *                             never restricted by it, as with OpenSSL
 */
public record UpstreamTls(
        String secret,
        String caBundlePem,
        String clientCertificatePem,
        String clientKeyPem,
        boolean verify,
        int verifyDepth,
        String name,
        boolean serverName,
        List<String> protocols,
        List<String> ciphers) {

    /** ingress-nginx's default {@code proxy-ssl-verify-depth}. */
    public static final int DEFAULT_VERIFY_DEPTH = 1;
    /** ingress-nginx's default {@code proxy-ssl-protocols}. */
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");

    /** No {@code proxy-ssl-*} annotation: no verification, no SNI, no client certificate, TLS 1.2 and 1.3. */
    public static final UpstreamTls DEFAULTS = new UpstreamTls(null, null, null, null, false, DEFAULT_VERIFY_DEPTH,
            null, false, DEFAULT_PROTOCOLS, null);

    public UpstreamTls {
        if ((clientCertificatePem == null) != (clientKeyPem == null)) {
            throw new IllegalArgumentException("a client certificate needs its key, and a key its certificate");
        }
        if (verifyDepth < 0) {
            throw new IllegalArgumentException("verifyDepth must not be negative: " + verifyDepth);
        }
        protocols = List.copyOf(protocols);
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("at least one protocol");
        }
        ciphers = ciphers == null ? null : List.copyOf(ciphers);
        if (name != null && name.isBlank()) {
            name = null;
        }
    }

    /** The SNI name to send, or {@code null} to send none. */
    public String sniName() {
        return serverName ? name : null;
    }

    /** Never prints the key or the PEM texts. */
    @Override
    public String toString() {
        return "UpstreamTls[" + (secret != null ? secret + ", " : "") + "verify " + (verify ? "on" : "off")
                + (verify ? ", depth " + verifyDepth : "") + (name != null ? ", name " + name : "")
                + (serverName ? ", sni" : "") + (clientCertificatePem != null ? ", client certificate" : "")
                + ", " + String.join(" ", protocols) + (ciphers != null ? ", ciphers " + String.join(":", ciphers) : "")
                + "]";
    }
}
