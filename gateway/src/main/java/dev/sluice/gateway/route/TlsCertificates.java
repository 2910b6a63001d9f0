package dev.sluice.gateway.route;

import java.util.Locale;
import java.util.Map;

/**
 * The server certificates of the published table, chosen per TLS connection by the SNI name as
 * ingress-nginx's {@code certificate.lua} does (SPEC §10.2).
 *
 * <p>Keys are lower-case host names, exact ({@code a.example.com}) or wildcard
 * ({@code *.example.com}). {@link #find} looks up the exact name, then the wildcard form: {@code *.}
 * followed by everything after the first label ({@code x.b.example.com} → {@code *.b.example.com});
 * a name with no entry gets the proxy's default certificate. Immutable; equal by content.
 *
 * @param byHost certificate per exact or wildcard host
 */
public record TlsCertificates(Map<String, TlsCertificate> byHost) {

    /** No certificates: every connection gets the default certificate. */
    public static final TlsCertificates EMPTY = new TlsCertificates(Map.of());

    public TlsCertificates {
        byHost = Map.copyOf(byHost);
    }

    /**
     * The certificate for an SNI name (lower-case, no trailing dot), or {@code null} when the
     * default certificate applies (also for a {@code null} name: no SNI).
     */
    public TlsCertificate find(String serverName) {
        if (serverName == null || serverName.isEmpty() || byHost.isEmpty()) {
            return null;
        }
        String name = serverName.toLowerCase(Locale.ROOT);
        TlsCertificate c = byHost.get(name);
        if (c != null) {
            return c;
        }
        int dot = name.indexOf('.');
        return dot > 0 ? byHost.get("*" + name.substring(dot)) : null;
    }

    public boolean isEmpty() {
        return byHost.isEmpty();
    }
}
