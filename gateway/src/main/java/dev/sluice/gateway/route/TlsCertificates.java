package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.request.HostNormalizer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

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
 * <p>Client-certificate authentication ({@code auth-tls-*}, a server-level setting) is kept per
 * host the same way ({@link #clientAuth(String)}): the handshake of an SNI name asks for a client
 * certificate when that name's host has it, and each request is checked against the policy of
 * its Host header's host.
 *
 * @param byHost             certificate per exact or wildcard host
 * @param defaultHosts       exact or wildcard hosts with TLS configured that get the default
 *                           certificate
 * @param defaultCertificate the default certificate ({@code --default-ssl-certificate}), or
 *                           {@code null} for the proxy's generated fake certificate
 * @param clientAuthByHost   client-certificate authentication per exact or wildcard host
 * @param passthrough        SSL passthrough ({@code --enable-ssl-passthrough} and the
 *                           {@code ssl-passthrough} annotation): TLS connections whose SNI name
 *                           equals one of these hosts (exactly, lower-case) are piped unterminated
 *                           to the upstream of the host's {@code /} location
 * @param ciphersByHost      {@code ssl-ciphers} per exact or wildcard host: the TLS 1.2 cipher
 *                           suites (JDK names) offered to a connection with that SNI name, looked up
 *                           as {@link #clientAuth}; TLS 1.3 suites are not restricted, as in OpenSSL
 */
public record TlsCertificates(Map<String, TlsCertificate> byHost, Set<String> defaultHosts,
        TlsCertificate defaultCertificate, Map<String, ClientCertificateAuth> clientAuthByHost,
        Map<String, Upstream> passthrough, Map<String, List<String>> ciphersByHost) {

    /** No certificates: every connection gets the proxy's fake certificate, no host has TLS. */
    public static final TlsCertificates EMPTY = new TlsCertificates(Map.of());

    public TlsCertificates {
        byHost = Map.copyOf(byHost);
        defaultHosts = Set.copyOf(defaultHosts);
        clientAuthByHost = clientAuthByHost == null ? Map.of() : Map.copyOf(clientAuthByHost);
        passthrough = passthrough == null ? Map.of() : Map.copyOf(passthrough);
        ciphersByHost = ciphersByHost == null ? Map.of() : ciphersByHost.entrySet().stream()
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> List.copyOf(e.getValue())));
    }

    /** Certificates, client-certificate authentication and passthrough hosts, with the default ciphers. */
    public TlsCertificates(Map<String, TlsCertificate> byHost, Set<String> defaultHosts,
            TlsCertificate defaultCertificate, Map<String, ClientCertificateAuth> clientAuthByHost,
            Map<String, Upstream> passthrough) {
        this(byHost, defaultHosts, defaultCertificate, clientAuthByHost, passthrough, Map.of());
    }

    /** Certificates and client-certificate authentication, without passthrough hosts. */
    public TlsCertificates(Map<String, TlsCertificate> byHost, Set<String> defaultHosts,
            TlsCertificate defaultCertificate, Map<String, ClientCertificateAuth> clientAuthByHost) {
        this(byHost, defaultHosts, defaultCertificate, clientAuthByHost, Map.of());
    }

    /** Certificates without client-certificate authentication. */
    public TlsCertificates(Map<String, TlsCertificate> byHost, Set<String> defaultHosts,
            TlsCertificate defaultCertificate) {
        this(byHost, defaultHosts, defaultCertificate, Map.of());
    }

    /** Hosts with their own certificates only, and the proxy's fake default certificate. */
    public TlsCertificates(Map<String, TlsCertificate> byHost) {
        this(byHost, Set.of(), null);
    }

    /**
     * These certificates with client-certificate authentication per exact or wildcard host
     * (replacing any there was); keys lower-case like {@link #byHost}.
     */
    public TlsCertificates withClientAuth(Map<String, ClientCertificateAuth> clientAuthByHost) {
        return new TlsCertificates(byHost, defaultHosts, defaultCertificate, clientAuthByHost, passthrough,
                ciphersByHost);
    }

    /** These certificates with the SSL passthrough hosts (replacing any there were). */
    public TlsCertificates withPassthrough(Map<String, Upstream> passthroughByHost) {
        return new TlsCertificates(byHost, defaultHosts, defaultCertificate, clientAuthByHost, passthroughByHost,
                ciphersByHost);
    }

    /**
     * These certificates with every passthrough upstream {@code u} replaced by
     * {@code replace.apply(u)}; these very certificates when none was replaced.
     */
    public TlsCertificates withUpstreams(UnaryOperator<Upstream> replace) {
        if (passthrough.isEmpty()) {
            return this;
        }
        Map<String, Upstream> replaced = new HashMap<>();
        boolean changed = false;
        for (Map.Entry<String, Upstream> e : passthrough.entrySet()) {
            Upstream u = replace.apply(e.getValue());
            changed |= u != e.getValue();
            replaced.put(e.getKey(), u);
        }
        return changed ? withPassthrough(replaced) : this;
    }

    /** These certificates with {@code ssl-ciphers} per exact or wildcard host (replacing any there were). */
    public TlsCertificates withCiphers(Map<String, List<String>> ciphers) {
        return new TlsCertificates(byHost, defaultHosts, defaultCertificate, clientAuthByHost, passthrough, ciphers);
    }

    /**
     * The {@code ssl-ciphers} of an SNI name (lower-case, no trailing dot), or {@code null} for
     * Sluice's default suites; looked up as {@link #clientAuth}.
     */
    public List<String> ciphers(String serverName) {
        return serverName == null || serverName.isEmpty() || ciphersByHost.isEmpty() ? null
                : byServerName(ciphersByHost, serverName.toLowerCase(Locale.ROOT));
    }

    /** The upstream a TLS connection with this SNI name is piped to unterminated, or {@code null}. */
    public Upstream passthrough(String serverName) {
        return serverName == null || passthrough.isEmpty() ? null : passthrough.get(serverName);
    }

    /** Whether any host checks client certificates (so requests need the per-host lookup at all). */
    public boolean hasClientAuth() {
        return !clientAuthByHost.isEmpty();
    }

    /**
     * The client-certificate authentication of an SNI name or request host (lower-case, no port,
     * no trailing dot), or {@code null} when it has none: the exact entry, else the wildcard form
     * ({@code *.} + everything after the first label) — unless the exact name has a TLS entry of
     * its own ({@link #byHost} or {@link #defaultHosts}), which makes it a server of its own that
     * does not inherit the wildcard server's setting.
     */
    public ClientCertificateAuth clientAuth(String serverName) {
        if (serverName == null || serverName.isEmpty() || clientAuthByHost.isEmpty()) {
            return null;
        }
        return byServerName(clientAuthByHost, serverName.toLowerCase(Locale.ROOT));
    }

    /**
     * A server-level setting of a name: the exact entry, else the wildcard form's — unless the
     * exact name is a TLS server of its own, which does not inherit the wildcard server's.
     */
    private <T> T byServerName(Map<String, T> settings, String name) {
        T a = settings.get(name);
        if (a != null || byHost.containsKey(name) || defaultHosts.contains(name)) {
            return a;
        }
        int dot = name.indexOf('.');
        return dot > 0 ? settings.get("*" + name.substring(dot)) : null;
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
     * Whether a host (lower-case, no port, no trailing dot: {@link dev.sluice.gateway.request.HostNormalizer#normalize}) has
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

    /**
     * No host has TLS configured, the default certificate is the fake one and no host has
     * client-certificate authentication.
     */
    public boolean isEmpty() {
        return byHost.isEmpty() && defaultHosts.isEmpty() && defaultCertificate == null && clientAuthByHost.isEmpty()
                && passthrough.isEmpty() && ciphersByHost.isEmpty();
    }
}
