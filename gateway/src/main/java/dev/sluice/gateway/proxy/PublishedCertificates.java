package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server certificate by SNI from the live {@link RouteTable}'s {@link TlsCertificates}
 * (SPEC §10.2): exact host, then the wildcard form, else the default certificate; no SNI → the
 * default certificate. The default certificate is the table's
 * ({@code --default-ssl-certificate}, {@link TlsCertificates#defaultCertificate}) when it has one,
 * else the proxy's own (the generated fake certificate). Each handshake reads the table current at that moment, so a rotated Secret
 * is served from the next handshake on.
 *
 * <p>The Netty {@link SslContext} of a certificate is built once, on the publishing thread just
 * before the table becomes live ({@link RouteTableHolder#beforePublish}), and cached by the
 * certificate's content: republishing an unchanged certificate reuses it; certificates no longer in
 * the table are dropped. A certificate Netty cannot load is served as the default certificate.
 */
public final class PublishedCertificates implements SniCertificates {
    private static final Logger log = LoggerFactory.getLogger(PublishedCertificates.class);

    private final RouteTableHolder holder;
    private final SslContext defaultContext;
    private final Map<TlsCertificate, SslContext> contexts = new ConcurrentHashMap<>();

    /**
     * Follows {@code holder}; registers itself to prepare contexts for every table published from
     * now on and prepares the current one.
     */
    public PublishedCertificates(RouteTableHolder holder, SslContext defaultContext) {
        this.holder = Objects.requireNonNull(holder, "holder");
        this.defaultContext = Objects.requireNonNull(defaultContext, "defaultContext");
        holder.beforePublish(table -> prepare(table.tls()));
        prepare(holder.current().tls());
    }

    @Override
    public SslContext forServerName(String serverName) {
        TlsCertificate cert = holder.current().tls().find(serverName);
        if (cert == null) {
            return defaultContext;
        }
        SslContext ctx = contexts.get(cert);
        // normally prepared before publishing; a table read just as the cache was pruned builds here
        return ctx != null ? ctx : contexts.computeIfAbsent(cert, this::build);
    }

    /** How many distinct certificate contexts are cached (for tests). */
    int cachedContexts() {
        return contexts.size();
    }

    private void prepare(TlsCertificates certificates) {
        java.util.Set<TlsCertificate> live = new java.util.HashSet<>(certificates.byHost().values());
        if (certificates.defaultCertificate() != null) {
            live.add(certificates.defaultCertificate());
        }
        for (TlsCertificate c : live) {
            contexts.computeIfAbsent(c, this::build);
        }
        contexts.keySet().retainAll(live);
    }

    private SslContext build(TlsCertificate c) {
        try {
            return FakeCertificate.withSluiceSettings(SslContextBuilder.forServer(
                    new ByteArrayInputStream(c.certificatePem().getBytes(StandardCharsets.US_ASCII)),
                    new ByteArrayInputStream(c.privateKeyPem().getBytes(StandardCharsets.US_ASCII)))).build();
        } catch (Exception e) {
            log.warn("[{}] cannot load the certificate into TLS ({}); the default certificate is served instead",
                    c.secret(), e.toString());
            return defaultContext;
        }
    }
}
