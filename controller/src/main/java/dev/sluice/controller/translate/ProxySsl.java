package dev.sluice.controller.translate;

import static dev.sluice.controller.translate.AnnotationKey.*;

import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.UpstreamTls;
import io.fabric8.kubernetes.api.model.Secret;
import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.util.NetUtil;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The {@code proxy-ssl-*} annotations of one Ingress (NGINX's {@code proxy_ssl_*}): how its
 * locations speak TLS to their Pods when {@code backend-protocol} asks for TLS.
 *
 * <p>Bad values are reported and replaced by ingress-nginx's defaults, except where the default
 * would trust the upstream more than the Ingress asked: a {@code proxy-ssl-verify} that is neither
 * {@code on} nor {@code off}, {@code proxy-ssl-verify: on} without a usable {@code ca.crt}, or with
 * an invalid {@code proxy-ssl-name}, deny the locations (503) instead of proxying unverified (fail
 * closed). As in ingress-nginx, a {@code proxy-ssl-secret} that names no readable Secret (or one
 * whose client certificate cannot be used) also denies them.
 */
final class ProxySsl {
    private ProxySsl() {}

    /**
     * What the annotations ask for.
     *
     * @param tls    the settings ({@link UpstreamTls#DEFAULTS} without annotations)
     * @param denied why the locations must answer 503, or {@code null}
     */
    record Result(UpstreamTls tls, String denied) {}

    private static final Result NONE = new Result(UpstreamTls.DEFAULTS, null);
    /** A DNS name (LDH labels, as SNI requires): what can be sent as SNI and matched (no NGINX variables). */
    private static final Pattern HOST_NAME =
            Pattern.compile("^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$");
    private static final Set<String> OLD_PROTOCOLS = Set.of("SSLv2", "SSLv3", "TLSv1", "TLSv1.1");

    /** Whether any {@code proxy-ssl-*} key is present. */
    static boolean present(Map<String, String> own) {
        for (String k : own.keySet()) {
            if (k.startsWith("proxy-ssl-")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads the annotations.
     *
     * @param own       the Ingress's annotations under the prefix, keys without it
     * @param prefix    the prefix with its {@code /}, for messages
     * @param namespace the Ingress's namespace (a Secret must be in it)
     * @param secrets   the snapshot's Secrets
     * @param problems  receives one message per problem
     */
    static Result parse(Map<String, String> own, String prefix, String namespace, SecretIndex secrets,
            Consumer<String> problems) {
        if (!present(own)) {
            return NONE;
        }
        List<String> denials = new ArrayList<>();
        Consumer<String> deny = why -> denials.add(why);

        Boolean verifyOrNull = onOff(own, PROXY_SSL_VERIFY);
        boolean verify;
        if (verifyOrNull == null) {
            // "true", "yes", …: whoever wrote it probably wanted verification; do not proxy unverified
            deny.accept(invalid(prefix, PROXY_SSL_VERIFY, own, "expected on or off"));
            verify = true;
        } else {
            verify = verifyOrNull;
        }

        int depth = UpstreamTls.DEFAULT_VERIFY_DEPTH;
        String depthText = own.get(PROXY_SSL_VERIFY_DEPTH.suffix());
        if (depthText != null) {
            Integer d = AnnotationValues.integer(depthText, 1);
            if (d == null) {
                problems.accept(invalid(prefix, PROXY_SSL_VERIFY_DEPTH, own, "expected an integer >= 1; using 1"));
            } else {
                depth = d;
            }
        }

        String name = own.get(PROXY_SSL_NAME.suffix());
        if (name != null) {
            name = name.trim();
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1); // the same name; SNI carries no trailing dot
            }
            if (name.isEmpty()) {
                name = null;
            } else if (!HOST_NAME.matcher(name).matches() && !NetUtil.isValidIpV4Address(name)
                    && !NetUtil.isValidIpV6Address(name)) {
                String why = "expected a host name or an IP address (NGINX variables are not supported)";
                if (verify) {
                    deny.accept(invalid(prefix, PROXY_SSL_NAME, own, why + "; proxy-ssl-verify is on and the name "
                            + "cannot be checked"));
                } else {
                    problems.accept(invalid(prefix, PROXY_SSL_NAME, own, why + "; no name is sent"));
                }
                name = null;
            }
        }

        Boolean sniOrNull = onOff(own, PROXY_SSL_SERVER_NAME);
        boolean serverName = false;
        if (sniOrNull == null) {
            problems.accept(invalid(prefix, PROXY_SSL_SERVER_NAME, own, "expected on or off; using off"));
        } else {
            serverName = sniOrNull;
        }
        if (serverName && name == null && own.get(PROXY_SSL_NAME.suffix()) == null) {
            // NGINX would send $proxy_host, in ingress-nginx the literal "upstream_balancer"
            problems.accept("annotation " + prefix + PROXY_SSL_SERVER_NAME.suffix() + " is on without "
                    + prefix + PROXY_SSL_NAME.suffix() + ": no SNI is sent");
        }

        List<String> protocols = protocols(own, prefix, problems);
        List<String> ciphers = ciphers(own, prefix, problems);

        String secretName = null;
        String ca = null;
        String certPem = null;
        String keyPem = null;
        String ref = own.get(PROXY_SSL_SECRET.suffix());
        if (ref != null) {
            SecretIndex.Reference r = secrets.resolve(ref, namespace);
            secretName = r.key();
            Secret secret = r.secret();
            if (r.refused() != null) {
                deny.accept(invalid(prefix, PROXY_SSL_SECRET, own, r.refused()));
            } else if (secret == null) {
                deny.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": Secret " + secretName
                        + " not found");
            }
            if (secret != null) {
                String where = "Secret " + secretName;
                ca = SecretIndex.value(secret, "ca.crt");
                if (ca != null) {
                    try {
                        ClientCertificateAuth.parseCaBundle(ca);
                    } catch (IllegalArgumentException e) {
                        if (verify) {
                            deny.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": " + where
                                    + " has no usable CA bundle in ca.crt: " + e.getMessage());
                        } else {
                            problems.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": " + where
                                    + " has no usable CA bundle in ca.crt (" + e.getMessage()
                                    + "); unused while proxy-ssl-verify is off");
                        }
                        ca = null;
                    }
                } else if (verify) {
                    deny.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": " + where
                            + " has no key \"ca.crt\": proxy-ssl-verify is on and nothing can be verified");
                }
                String crt = SecretIndex.value(secret, "tls.crt");
                String key = SecretIndex.value(secret, "tls.key");
                if (crt != null && key != null) {
                    CertificateParser.Result parsed = CertificateParser.parse(crt, key);
                    if (parsed.error() != null) {
                        deny.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": " + where
                                + ": the client certificate cannot be used: " + parsed.error());
                    } else {
                        certPem = parsed.certificate().chainPem();
                        keyPem = parsed.certificate().privateKeyPem();
                    }
                } else if (crt != null || key != null) {
                    deny.accept("annotation " + prefix + PROXY_SSL_SECRET.suffix() + ": " + where + " has "
                            + (crt != null ? "tls.crt without tls.key" : "tls.key without tls.crt"));
                }
            }
        } else if (verify) {
            deny.accept("annotation " + prefix + PROXY_SSL_VERIFY.suffix() + " is on without " + prefix
                    + PROXY_SSL_SECRET.suffix() + ": no CA to verify the upstream with");
        }

        if (!denials.isEmpty()) {
            for (String d : denials) {
                problems.accept(d + "; every location of this Ingress answers 503 (location denied)");
            }
            return new Result(UpstreamTls.DEFAULTS, String.join("; ", denials));
        }
        return new Result(new UpstreamTls(secretName, ca, certPem, keyPem, verify, depth, name, serverName,
                protocols, ciphers), null);
    }

    /** NGINX's {@code on}/{@code off} (either case); absent: {@code off}; anything else {@code null}. */
    private static Boolean onOff(Map<String, String> own, AnnotationKey key) {
        String v = own.get(key.suffix());
        if (v == null) {
            return Boolean.FALSE;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "on" -> Boolean.TRUE;
            case "off" -> Boolean.FALSE;
            default -> null;
        };
    }

    /**
     * {@code proxy-ssl-protocols}: NGINX's names separated by spaces. {@code TLSv1.2} and
     * {@code TLSv1.3} are kept; the older ones are reported and dropped (the JDK disables them);
     * anything else, or nothing left, is reported and the default used.
     */
    private static List<String> protocols(Map<String, String> own, String prefix, Consumer<String> problems) {
        String v = own.get(PROXY_SSL_PROTOCOLS.suffix());
        if (v == null) {
            return UpstreamTls.DEFAULT_PROTOCOLS;
        }
        List<String> kept = new ArrayList<>();
        List<String> old = new ArrayList<>();
        for (String p : v.trim().split("\\s+")) {
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("TLSv1.2") || p.equals("TLSv1.3")) {
                if (!kept.contains(p)) {
                    kept.add(p);
                }
            } else if (OLD_PROTOCOLS.contains(p)) {
                old.add(p);
            } else {
                problems.accept(invalid(prefix, PROXY_SSL_PROTOCOLS, own, "expected TLS versions such as "
                        + "\"TLSv1.2 TLSv1.3\"; using TLSv1.2 TLSv1.3"));
                return UpstreamTls.DEFAULT_PROTOCOLS;
            }
        }
        if (!old.isEmpty()) {
            problems.accept("annotation " + prefix + PROXY_SSL_PROTOCOLS.suffix() + ": " + String.join(" ", old)
                    + " not supported (disabled in the JDK), dropped");
        }
        if (kept.isEmpty()) {
            problems.accept(invalid(prefix, PROXY_SSL_PROTOCOLS, own, "no supported protocol left; "
                    + "using TLSv1.2 TLSv1.3"));
            return UpstreamTls.DEFAULT_PROTOCOLS;
        }
        return List.copyOf(kept);
    }

    /**
     * {@code proxy-ssl-ciphers}: {@code DEFAULT} (the JDK's defaults), or a list of cipher names
     * separated by {@code :} (or commas, spaces), each an OpenSSL name (mapped to the JDK's) or a
     * JDK/IANA name, and supported by this JDK. OpenSSL's cipher-string language (keywords such
     * as {@code HIGH}, {@code !aNULL}) is not: any name that is not a supported cipher is reported
     * and {@code DEFAULT} used.
     *
     * @return JDK names, or {@code null} for the defaults
     */
    private static List<String> ciphers(Map<String, String> own, String prefix, Consumer<String> problems) {
        String v = own.get(PROXY_SSL_CIPHERS.suffix());
        if (v == null || v.trim().equals("DEFAULT")) {
            return null;
        }
        List<String> unknown = new ArrayList<>();
        List<String> out = jdkCiphers(v, unknown);
        if (!unknown.isEmpty() || out.isEmpty()) {
            problems.accept(invalid(prefix, PROXY_SSL_CIPHERS, own, (unknown.isEmpty() ? "no cipher named"
                    : "not a cipher this JDK supports: " + String.join(", ", unknown))
                    + " (OpenSSL keywords such as HIGH or !aNULL are not supported); using DEFAULT"));
            return null;
        }
        return List.copyOf(out);
    }

    /**
     * The JDK names of a cipher list separated by {@code :} (or commas, spaces), each an OpenSSL
     * name (mapped to the JDK's) or a JDK/IANA name; names this JDK does not support (and
     * OpenSSL's keywords) go to {@code unknown}.
     */
    static List<String> jdkCiphers(String value, List<String> unknown) {
        List<String> out = new ArrayList<>();
        for (String c : value.trim().split("[:,\\s]+")) {
            if (c.isEmpty()) {
                continue;
            }
            String jdk = c.startsWith("TLS_") || c.startsWith("SSL_") ? c : CipherSuiteConverter.toJava(c, "TLS");
            if (jdk != null && Supported.CIPHERS.contains(jdk)) {
                if (!out.contains(jdk)) {
                    out.add(jdk);
                }
            } else {
                unknown.add(c);
            }
        }
        return out;
    }

    private static String invalid(String prefix, AnnotationKey key, Map<String, String> own, String why) {
        return "invalid value \"" + AnnotationValues.quoted(own.get(key.suffix())) + "\" for annotation " + prefix + key.suffix() + ": " + why;
    }

    /** The cipher suites of this JDK, read once. */
    private static final class Supported {
        static final Set<String> CIPHERS = read();

        private static Set<String> read() {
            try {
                return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
            } catch (NoSuchAlgorithmException e) {
                return Set.of();
            }
        }
    }
}
