package dev.sluice.gateway.route;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The server certificates of the published table, chosen per TLS connection by the SNI name as
 * ingress-nginx's {@code certificate.lua} does (SPEC §10.2), and the hosts that have TLS
 * configured at all, which turns on the HTTPS redirect for them (SPEC §7 {@code ssl-redirect},
 * §10.3).
 *
 * <p>Keys are lower-case host names, exact ({@code a.example.com}) or wildcard
 * ({@code *.example.com}). A host has TLS configured when it is a key of {@link #byHost} (its own
 * certificate) or a member of {@link #defaultHosts} (listed in an Ingress's {@code tls:} section,
 * or a host of an Ingress with a {@code tls:} section, but served the default certificate: empty
 * {@code secretName}, Secret missing or invalid, certificate not covering the host). Lookups try
 * the exact name, then the wildcard form: {@code *.} followed by everything after the first label
 * ({@code x.b.example.com} → {@code *.b.example.com}); an exact entry served the default certificate
 * wins over a wildcard entry. Immutable; equal by content.
 *
 * @param byHost             certificate per exact or wildcard host
 * @param defaultHosts       exact or wildcard hosts with TLS configured that get the default
 *                           certificate
 * @param defaultCertificate the default certificate ({@code --default-ssl-certificate}), or
 *                           {@code null} for the proxy's generated fake certificate
 */
public record TlsCertificates(Map<String, TlsCertificate> byHost, Set<String> defaultHosts,
        TlsCertificate defaultCertificate) {

    /** No certificates: every connection gets the proxy's fake certificate, no host has TLS. */
    public static final TlsCertificates EMPTY = new TlsCertificates(Map.of());

    public TlsCertificates {
        byHost = Map.copyOf(byHost);
        defaultHosts = Set.copyOf(defaultHosts);
    }

    /** Hosts with their own certificates only, and the proxy's fake default certificate. */
    public TlsCertificates(Map<String, TlsCertificate> byHost) {
        this(byHost, Set.of(), null);
    }

    /**
     * The certificate for an SNI name (lower-case, no trailing dot): the host's own, else the
     * {@linkplain #defaultCertificate default certificate} — {@code null} when that is the proxy's
     * fake certificate (also for a {@code null} name: no SNI).
     */
    public TlsCertificate find(String serverName) {
        if (serverName == null || serverName.isEmpty() || byHost.isEmpty()) {
            return defaultCertificate;
        }
        String name = serverName.toLowerCase(Locale.ROOT);
        TlsCertificate c = byHost.get(name);
        if (c != null || defaultHosts.contains(name)) {
            return c != null ? c : defaultCertificate;
        }
        int dot = name.indexOf('.');
        c = dot > 0 ? byHost.get("*" + name.substring(dot)) : null;
        return c != null ? c : defaultCertificate;
    }

    /**
     * Whether a host (lower-case, no port, no trailing dot: {@link RouteTable#normalizeHost}) has
     * TLS configured, exactly or through a wildcard entry — the condition of {@code ssl-redirect}.
     */
    public boolean configured(String host) {
        if (host == null || host.isEmpty() || (byHost.isEmpty() && defaultHosts.isEmpty())) {
            return false;
        }
        if (byHost.containsKey(host) || defaultHosts.contains(host)) {
            return true;
        }
        int dot = host.indexOf('.');
        if (dot <= 0) {
            return false;
        }
        String wildcard = "*" + host.substring(dot);
        return byHost.containsKey(wildcard) || defaultHosts.contains(wildcard);
    }

    /** No host has TLS configured and the default certificate is the fake one. */
    public boolean isEmpty() {
        return byHost.isEmpty() && defaultHosts.isEmpty() && defaultCertificate == null;
    }
}
