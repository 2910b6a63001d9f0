package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client {@link SslContext} of each distinct {@link UpstreamTls} of the live table: built
 * once, on the publishing thread just before a table becomes live, and kept while a location
 * uses it. One context per settings is what makes TLS session resumption work (the JDK caches
 * sessions per context, by the Pod's address and port), and keeps a session made under one set
 * of settings from being resumed under another.
 *
 * <p>Without {@code proxy-ssl-verify} any certificate is accepted (NGINX's default); with it, the
 * Pod's chain is checked by an {@link UpstreamTrustManager}. A context that cannot be built (the
 * translator checks the inputs, so this is a bug or a JDK limit) is not cached and fails the
 * connection, never falling back to fewer checks.
 *
 * <p>Thread-safe.
 */
final class UpstreamTlsContexts {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTlsContexts.class);

    /** The TLS 1.3 suites: {@code proxy-ssl-ciphers} does not restrict them, as in OpenSSL. */
    private static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private final Map<UpstreamTls, SslContext> contexts = new ConcurrentHashMap<>();

    UpstreamTlsContexts() {}

    /** Contexts that follow {@code holder}: prepared before a table with another configuration is published, the unused dropped. */
    UpstreamTlsContexts(RouteTableHolder holder) {
        holder.beforeConfigurationChange(this::prepare); // from locations' options: not after an endpoint-only change
        prepare(holder.current());
    }

    /**
     * The context of {@code tls}: normally prepared before publishing; built here for a table
     * read just as the cache was pruned.
     *
     * @throws IllegalArgumentException when it cannot be built
     */
    SslContext get(UpstreamTls tls) {
        SslContext c = contexts.get(tls);
        return c != null ? c : contexts.computeIfAbsent(tls, UpstreamTlsContexts::build);
    }

    /** How many contexts are cached (tests). */
    int size() {
        return contexts.size();
    }

    /** Builds the contexts {@code table}'s TLS locations need and drops the others. */
    void prepare(RouteTable table) {
        Set<UpstreamTls> live = new HashSet<>();
        List<HostRoutes> hosts = new ArrayList<>(table.hosts().values());
        hosts.addAll(table.wildcards().values());
        hosts.add(table.catchAll());
        for (HostRoutes h : hosts) {
            for (Route r : h.routes()) {
                collect(r, live);
            }
            collect(h.fallback(), live);
        }
        for (UpstreamTls tls : live) {
            try {
                get(tls);
            } catch (IllegalArgumentException e) {
                log.warn("[{}] cannot build the upstream TLS context ({}); its connections will fail",
                        tls.secret() != null ? tls.secret() : "proxy-ssl", e.getMessage());
            }
        }
        contexts.keySet().retainAll(live);
    }

    private static void collect(Route r, Set<UpstreamTls> live) {
        if (r == null) {
            return;
        }
        RouteOptions o = r.options();
        UpstreamTls tls = o.upstreamTlsFor(true); // AUTO_HTTP included
        if (tls != null) {
            live.add(tls);
        }
    }

    static SslContext build(UpstreamTls tls) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .protocols(tls.protocols())
                    // names are checked by UpstreamTrustManager, not against the Pod's IP by the JDK
                    .endpointIdentificationAlgorithm(null);
            if (tls.ciphers() != null) {
                Set<String> suites = new LinkedHashSet<>(tls.ciphers());
                suites.addAll(TLS13_SUITES);
                b.ciphers(suites, SupportedCipherSuiteFilter.INSTANCE);
            }
            if (tls.verify()) {
                if (tls.caBundlePem() == null) {
                    throw new IllegalArgumentException("proxy-ssl-verify is on and there is no ca.crt");
                }
                b.trustManager(new UpstreamTrustManager(ClientCertificateAuth.parseCaBundle(tls.caBundlePem()),
                        tls.verifyDepth(), tls.name()));
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE); // NGINX's proxy_ssl_verify off
            }
            if (tls.clientCertificatePem() != null) {
                b.keyStoreType(FakeCertificate.KEY_STORE_TYPE).keyManager(new ByteArrayInputStream(tls.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(tls.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
            }
            return b.build();
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
