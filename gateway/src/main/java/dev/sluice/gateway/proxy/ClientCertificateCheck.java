package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.ClientCertificateAuth.Mode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request-level verdict of client-certificate authentication ({@code auth-tls-*}), as NGINX
 * gives it in {@code ngx_http_process_request} after a handshake that never fails for the client
 * certificate's sake:
 *
 * <ul>
 *   <li>the certificate did not verify → 400 "The SSL certificate error" (NGINX's internal 495),
 *       except that {@code optional_no_ca} lets a certificate through whose only fault is an
 *       untrusted issuer;
 *   <li>mode {@code on} and no certificate → 400 "No required SSL certificate was sent" (496);
 *   <li>with {@code auth-tls-error-page}, both become a 302 to that URL (ingress-nginx renders
 *       {@code error_page 495 496 = <url>});
 *   <li>otherwise the request passes with ingress-nginx's upstream headers
 *       ({@code ssl-client-verify}, {@code ssl-client-subject-dn}, {@code ssl-client-issuer-dn},
 *       and {@code ssl-client-cert} with {@code auth-tls-pass-certificate-to-upstream}).
 * </ul>
 *
 * <p>The policy is that of the host serving the request (its Host header), while the client
 * certificate was requested during the handshake by the SNI name's host: the certificate is
 * always verified against the request host's CA bundle, so a certificate issued by another
 * host's CA never passes, and a connection whose SNI host asked for no certificate has none
 * (mode {@code on} → 400).
 *
 * <p>Plain HTTP (no session): no certificate can ever be sent, so mode {@code on} rejects with
 * 400 — Sluice fails closed here, whereas an NGINX {@code server} listening on both ports
 * performs no check on the plain-HTTP port at all. The optional modes pass with
 * {@code ssl-client-verify: NONE}. A CA bundle that cannot be parsed (the controller should have
 * refused it) answers 503, like every access-control setting Sluice cannot honour.
 *
 * <p>NGINX closes the connection after a 495/496 answer (keep-alive off, also with the error
 * page); the caller should send {@link Reject}s with {@code Connection: close}. Callers must also
 * remove the four {@link #HEADER_NAMES} from the client's request before adding
 * {@link Pass#upstreamHeaders()}, so that a client cannot forge them (NGINX's
 * {@code proxy_set_header} replaces them, and an empty value drops them).
 */
public final class ClientCertificateCheck {
    private static final Logger log = LoggerFactory.getLogger(ClientCertificateCheck.class);

    /** {@code $ssl_client_verify}. */
    public static final String VERIFY_HEADER = "ssl-client-verify";
    /** {@code $ssl_client_s_dn}. */
    public static final String SUBJECT_DN_HEADER = "ssl-client-subject-dn";
    /** {@code $ssl_client_i_dn}. */
    public static final String ISSUER_DN_HEADER = "ssl-client-issuer-dn";
    /** {@code $ssl_client_escaped_cert}, only with {@code auth-tls-pass-certificate-to-upstream}. */
    public static final String CERT_HEADER = "ssl-client-cert";
    /** Every header this check sets (lower-case): strip them from the client's request first. */
    public static final Set<String> HEADER_NAMES = Set.of(VERIFY_HEADER, SUBJECT_DN_HEADER, ISSUER_DN_HEADER, CERT_HEADER);

    static final String CERTIFICATE_ERROR = "The SSL certificate error";
    static final String NO_CERTIFICATE = "No required SSL certificate was sent";

    private static final Pass NO_POLICY = new Pass(Map.of());
    private static final Pass VERIFY_NONE = new Pass(Map.of(VERIFY_HEADER, "NONE"));

    private ClientCertificateCheck() {}

    /** The verdict for one request: {@link Pass} or {@link Reject}. */
    public sealed interface Result permits Pass, Reject {}

    /**
     * The request goes on to the upstream with these headers set (none when the host has no
     * client-certificate authentication). Iteration order is NGINX's template order.
     */
    public record Pass(Map<String, String> upstreamHeaders) implements Result {
        public Pass {
            upstreamHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(upstreamHeaders));
        }
    }

    /**
     * The request is answered locally.
     *
     * @param status   400, 302 (to the error page) or 503 (unusable CA bundle)
     * @param location the {@code Location} of a 302, else {@code null}
     * @param body     the HTML body (NGINX's page for the status, {@code text/html})
     */
    public record Reject(int status, String location, String body) implements Result {
        public Reject {
            Objects.requireNonNull(body, "body");
        }
    }

    /**
     * The verdict for a request to a host with {@code policy} (its Host header's host;
     * {@code null}: no client-certificate authentication → passes with no headers) on a
     * connection with {@code session} ({@code null}: plain HTTP). Verifies the chain each call:
     * per connection, cache the result ({@link ProxyHandler#clientCertificateCheck}).
     */
    public static Result evaluate(ClientCertificateAuth policy, SSLSession session) {
        if (policy == null) {
            return NO_POLICY;
        }
        if (policy.mode() == Mode.OFF) {
            // no certificate requested: ingress-nginx still sets the headers, $ssl_client_verify is NONE
            return VERIFY_NONE;
        }
        ClientCertificateVerifier verifier;
        try {
            verifier = ClientCertificateVerifier.forBundle(policy.caBundlePem());
        } catch (IllegalArgumentException e) {
            // on plain HTTP too: a host's broken setting answers the same on both ports
            log.debug("[{}] client certificate CA bundle unusable, answering 503: {}", policy.secret(), e.getMessage());
            return new Reject(503, null, LocalResponses.page(503));
        }
        if (session == null) {
            return policy.mode() == Mode.ON ? reject(policy, NO_CERTIFICATE) : VERIFY_NONE;
        }
        ClientCertificateStatus status = verifier.verify(session, policy.verifyDepth());
        if (status instanceof ClientCertificateStatus.None) {
            return policy.mode() == Mode.ON ? reject(policy, NO_CERTIFICATE) : VERIFY_NONE;
        }
        if (status instanceof ClientCertificateStatus.Failed f
                && !(policy.mode() == Mode.OPTIONAL_NO_CA && f.untrustedCaOnly())) {
            return reject(policy, CERTIFICATE_ERROR);
        }
        return new Pass(headers(status, policy.passCertificateToUpstream()));
    }

    /** ingress-nginx's upstream headers for a connection whose certificate has {@code status}. */
    public static Map<String, String> headers(ClientCertificateStatus status, boolean passCertificate) {
        Map<String, String> h = new LinkedHashMap<>(8);
        if (passCertificate && status.leaf() != null) {
            h.put(CERT_HEADER, status.escapedPem());
        }
        h.put(VERIFY_HEADER, status.verifyHeader());
        // an empty variable drops the header in NGINX: no DN headers without a certificate
        if (status.leaf() != null) {
            h.put(SUBJECT_DN_HEADER, status.subjectDn());
            h.put(ISSUER_DN_HEADER, status.issuerDn());
        }
        return Collections.unmodifiableMap(h);
    }

    private static Reject reject(ClientCertificateAuth policy, String what) {
        if (policy.errorPage() != null) {
            return new Reject(302, policy.errorPage(), LocalResponses.page(302));
        }
        return new Reject(400, null, page(what));
    }

    /** NGINX's page for 495/496, which go out as 400 with their own title and text. */
    static String page(String what) {
        return "<html>\r\n<head><title>400 " + what + "</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1>"
                + "</center>\r\n<center>" + what + "</center>\r\n<hr><center>sluice</center>\r\n</body>\r\n</html>\r\n";
    }
}
