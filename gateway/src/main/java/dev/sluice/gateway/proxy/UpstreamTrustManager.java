package dev.sluice.gateway.proxy;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import io.netty.util.NetUtil;

/**
 * Verifies an upstream's certificate as NGINX's {@code proxy_ssl_verify on} does, with
 * {@code proxy_ssl_trusted_certificate}, {@code proxy_ssl_verify_depth} and {@code proxy_ssl_name}.
 *
 * <p>The chain goes to the JDK's PKIX trust manager over the CA bundle (signatures, validity, CA
 * constraints, the TLS server purpose; no revocation, as NGINX without CRLs). Depth is counted as
 * {@link ClientCertificateVerifier} counts it for client certificates: the certificates from the
 * Pod's own up to the first one issued by a CA of the bundle may number at most {@code depth}.
 * The name is checked here rather than by the JDK's endpoint identification, because the JDK
 * checks the address the engine was made for, which is the Pod's IP (and must stay so: that is
 * what TLS sessions are cached by). It follows OpenSSL's {@code X509_check_host}: DNS SANs,
 * a wildcard only as the whole left-most label, the subject CN only when there is no DNS SAN; an
 * IP literal name matches an IP SAN.
 *
 * <p>Immutable and thread-safe.
 */
final class UpstreamTrustManager extends X509ExtendedTrustManager {
    private final X509TrustManager pkix;
    private final Set<X500Principal> caSubjects = new HashSet<>();
    private final Set<X509Certificate> cas;
    private final int depth;
    private final String name;

    /**
     * @param cas   the trusted CAs (at least one)
     * @param depth {@code proxy-ssl-verify-depth}
     * @param name  {@code proxy-ssl-name}, or {@code null} for no name check
     */
    UpstreamTrustManager(List<X509Certificate> cas, int depth, String name) {
        this.cas = Set.copyOf(cas);
        for (X509Certificate ca : cas) {
            caSubjects.add(ca.getSubjectX500Principal());
        }
        this.depth = depth;
        this.name = name;
        this.pkix = pkix(cas);
    }

    private static X509TrustManager pkix(List<X509Certificate> cas) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            for (TrustManager tm : f.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    return x;
                }
            }
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot use the CA bundle: " + e.getMessage(), e);
        }
        throw new IllegalStateException("the JDK offers no X.509 trust manager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        // the two-argument check: chain and purpose only, no host name from the JDK (see the class comment)
        pkix.checkServerTrusted(chain, authType);
        checkDepth(chain);
        if (name != null && !matches(chain[0], name)) {
            throw new CertificateException("the upstream certificate does not match proxy-ssl-name \"" + name + "\"");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    private void checkDepth(X509Certificate[] chain) throws CertificateException {
        if (cas.contains(chain[0])) {
            return; // the Pod's certificate is itself trusted
        }
        int length = 1;
        X509Certificate current = chain[0];
        List<X509Certificate> sent = new ArrayList<>(List.of(chain).subList(1, chain.length));
        while (!caSubjects.contains(current.getIssuerX500Principal())) {
            X509Certificate next = null;
            for (X509Certificate c : sent) {
                if (c.getSubjectX500Principal().equals(current.getIssuerX500Principal())) {
                    next = c;
                    break;
                }
            }
            if (next == null) {
                break; // PKIX found a path we cannot retrace from what was sent: leave it at that
            }
            sent.remove(next);
            current = next;
            length++;
        }
        if (length > depth) {
            throw new CertificateException("certificate chain too long: " + length
                    + " certificates before a trusted CA, proxy-ssl-verify-depth is " + depth);
        }
    }

    /** OpenSSL's {@code X509_check_host} (or {@code X509_check_ip} for an IP literal), default flags. */
    static boolean matches(X509Certificate leaf, String name) {
        String host = name.toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        boolean anyDns = false;
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                if (type == 2 && san.get(1) instanceof String dns) {
                    anyDns = true;
                    if (ip == null && dnsMatches(dns, host)) {
                        return true;
                    }
                } else if (type == 7 && ip != null && san.get(1) instanceof String address && sameIp(address, ip)) {
                    return true;
                }
            }
        }
        if (ip != null || anyDns) {
            return false;
        }
        String cn = commonName(leaf);
        return cn != null && dnsMatches(cn, host);
    }

    private static boolean dnsMatches(String pattern, String host) {
        String p = pattern.toLowerCase(Locale.ROOT);
        if (p.endsWith(".")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.equals(host)) {
            return true;
        }
        if (p.startsWith("*.") && p.indexOf('*', 1) < 0) {
            int dot = host.indexOf('.');
            // one whole label, and not a wildcard over a public suffix-like single label ("*.com")
            return dot > 0 && p.substring(1).indexOf('.', 1) > 0 && host.substring(dot).equals(p.substring(1));
        }
        return false;
    }

    private static boolean sameIp(String san, byte[] ip) {
        try {
            return java.util.Arrays.equals(InetAddress.getByName(san).getAddress(), ip);
        } catch (UnknownHostException e) {
            return false; // an IP SAN is always a literal: no lookup happens
        }
    }

    private static String commonName(X509Certificate cert) {
        try {
            String cn = null;
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = rdn.getValue().toString(); // the most specific (last) CN, as OpenSSL
                }
            }
            return cn;
        } catch (InvalidNameException e) {
            return null;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("an upstream client context trusts no client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
