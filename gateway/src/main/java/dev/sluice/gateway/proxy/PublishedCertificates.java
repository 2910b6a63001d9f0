package dev.sluice.gateway.proxy;

import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
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
 * <p>When the SNI name's host has client-certificate authentication
 * ({@link TlsCertificates#clientAuth}, any mode but off), its context also asks for a client
 * certificate ({@link ClientAuth#OPTIONAL}) and names the host's CAs in the CertificateRequest,
 * but accepts whatever chain the client sends, or none: as with NGINX, the handshake completes
 * and the verdict is given per request ({@link ClientCertificateCheck}). The TLS layer still
 * checks that the client holds the certificate's private key.
 *
 * <p>A host with {@code ssl-ciphers} ({@link TlsCertificates#ciphers}) gets a context of its own
 * offering those TLS 1.2 suites (and every TLS 1.3 suite, as NGINX's {@code ssl_ciphers} leaves
 * them alone) instead of Sluice's default list.
 *
 * <p>The Netty {@link SslContext} of a certificate (and CA bundle) is built once, started as the
 * table is published ({@link RouteTableHolder#beforePublish}) on a thread of its own, and cached
 * by content: republishing an unchanged certificate reuses it; contexts no longer needed by the
 * table are dropped. A handshake that needs a context still being built waits for it (never for
 * another certificate). A certificate Netty cannot load is served as the default
 * certificate; a CA bundle that cannot be parsed asks for no client certificate (the request
 * check then answers 503).
 */
public final class PublishedCertificates implements SniCertificates {
    private static final Logger log = LoggerFactory.getLogger(PublishedCertificates.class);

    private final RouteTableHolder holder;
    private final Supplier<SslContext> defaultContext;
    private final Supplier<FakeCertificate.KeyAndCert> defaultKey;
    private final Supplier<CompletableFuture<?>> ready;
    /**
     * The contexts of the live table's certificates by content, each built on {@link #BUILDER}:
     * a table is published without waiting for them (building the first one loads the TLS
     * provider, a third of a second of CPU), and a handshake that needs one waits for it.
     */
    private final Map<ContextKey, CompletableFuture<SslContext>> contexts = new ConcurrentHashMap<>();

    /** Builds contexts off the publishing thread and off the event loops, one at a time. */
    private static final java.util.concurrent.Executor BUILDER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-tls-contexts");
        t.setDaemon(true);
        return t;
    });

    /**
     * What a context is built from.
     *
     * @param certificate the server certificate, {@code null} for the proxy's default
     * @param caBundlePem the CAs of a requested client certificate, {@code null}: none requested
     * @param ciphers     the TLS 1.2 suites ({@code ssl-ciphers}), {@code null}: Sluice's default
     */
    private record ContextKey(TlsCertificate certificate, String caBundlePem, List<String> ciphers) {}

    /** The TLS 1.3 suites: {@code ssl-ciphers} does not restrict them, as in OpenSSL. */
    private static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    /**
     * Follows {@code holder}; registers itself to prepare contexts for every table published from
     * now on and prepares the current one. The proxy's default certificate is the generated fake
     * certificate ({@link FakeCertificate}), whose key also serves hosts with client-certificate
     * authentication and no certificate of their own. It is not needed to start: the first
     * handshake starts {@link FakeCertificate#prepared()} unless something did already, and
     * handshakes wait until it is done.
     */
    public PublishedCertificates(RouteTableHolder holder) {
        this(holder, FakeCertificate::serverContext, FakeCertificate::get, FakeCertificate::prepared);
    }

    /** Like {@link #PublishedCertificates(RouteTableHolder)} with {@code defaultContext} built already. */
    public PublishedCertificates(RouteTableHolder holder, SslContext defaultContext) {
        this(holder, defaultContext, FakeCertificate.get());
    }

    /** Like {@link #PublishedCertificates(RouteTableHolder, SslContext)} with the default's key and certificate. */
    public PublishedCertificates(RouteTableHolder holder, SslContext defaultContext,
            FakeCertificate.KeyAndCert defaultKey) {
        this(holder, constant(Objects.requireNonNull(defaultContext, "defaultContext")),
                constant(Objects.requireNonNull(defaultKey, "defaultKey")), () -> BUILT);
    }

    private PublishedCertificates(RouteTableHolder holder, Supplier<SslContext> defaultContext,
            Supplier<FakeCertificate.KeyAndCert> defaultKey, Supplier<CompletableFuture<?>> ready) {
        this.holder = Objects.requireNonNull(holder, "holder");
        this.defaultContext = defaultContext;
        this.defaultKey = defaultKey;
        this.ready = ready;
        holder.beforeConfigurationChange(table -> prepare(table.tls())); // not after an endpoint-only change
        prepare(holder.current().tls());
    }

    private static final CompletableFuture<Void> BUILT = CompletableFuture.completedFuture(null);

    private static <T> Supplier<T> constant(T value) {
        return () -> value;
    }

    @Override
    public CompletableFuture<SslContext> contextFor(String serverName) {
        ContextKey key = key(holder.current().tls(), serverName);
        if (key == null) {
            CompletableFuture<?> provider = ready.get();
            return provider.isDone() && !provider.isCompletedExceptionally()
                    ? CompletableFuture.completedFuture(defaultContext.get())
                    : provider.thenApply(done -> defaultContext.get());
        }
        // normally started when the table was published; a table read just as the cache was pruned starts it here
        CompletableFuture<SslContext> ctx = contexts.get(key);
        return ctx != null ? ctx : contexts.computeIfAbsent(key, this::buildLater);
    }

    /** {@link #contextFor}, waited for: blocks until the context is built (tests; never on an event loop). */
    @Override
    public SslContext forServerName(String serverName) {
        return contextFor(serverName).join();
    }

    /** How many distinct certificate contexts are cached (for tests). */
    int cachedContexts() {
        return contexts.size();
    }

    /** The context key of an SNI name, {@code null} for the plain default context. */
    private static ContextKey key(TlsCertificates tls, String serverName) {
        TlsCertificate cert = tls.find(serverName);
        ClientCertificateAuth auth = tls.clientAuth(serverName);
        String ca = auth != null && auth.requestsCertificate() ? auth.caBundlePem() : null;
        List<String> ciphers = tls.ciphers(serverName);
        return cert == null && ca == null && ciphers == null ? null : new ContextKey(cert, ca, ciphers);
    }

    private void prepare(TlsCertificates certificates) {
        Set<ContextKey> live = new HashSet<>();
        Set<String> names = new HashSet<>(certificates.byHost().keySet());
        names.addAll(certificates.defaultHosts());
        names.addAll(certificates.clientAuthByHost().keySet());
        names.addAll(certificates.ciphersByHost().keySet());
        names.add(""); // no SNI
        for (String name : names) {
            ContextKey k = key(certificates, name.isEmpty() ? null : name);
            if (k != null) {
                live.add(k);
            }
        }
        for (ContextKey k : live) {
            contexts.computeIfAbsent(k, this::buildLater);
        }
        contexts.keySet().retainAll(live);
    }

    private CompletableFuture<SslContext> buildLater(ContextKey k) {
        return CompletableFuture.supplyAsync(() -> build(k), BUILDER);
    }

    private SslContext build(ContextKey k) {
        TlsCertificate c = k.certificate();
        try {
            SslContextBuilder builder = c == null
                    ? SslContextBuilder.forServer(defaultKey.get().key(), defaultKey.get().certificate())
                    : SslContextBuilder.forServer(
                            new ByteArrayInputStream(c.certificatePem().getBytes(StandardCharsets.US_ASCII)),
                            new ByteArrayInputStream(c.privateKeyPem().getBytes(StandardCharsets.US_ASCII)));
            builder.trustManager(NoClientCertificates.INSTANCE); // unless the host asks for client certificates:
            if (k.caBundlePem() != null) {
                requestClientCertificate(builder, k.caBundlePem());
            }
            FakeCertificate.withSluiceSettings(builder);
            if (k.ciphers() != null) {
                Set<String> suites = new LinkedHashSet<>(k.ciphers());
                suites.addAll(TLS13_SUITES);
                builder.ciphers(suites, SupportedCipherSuiteFilter.INSTANCE);
            }
            return builder.build();
        } catch (Exception e) {
            log.warn("[{}] cannot load the certificate into TLS ({}); the default certificate is served instead",
                    c != null ? c.secret() : "default", e.toString());
            return defaultContext.get();
        }
    }

    private static void requestClientCertificate(SslContextBuilder builder, String caBundlePem) {
        try {
            List<X509Certificate> cas = ClientCertificateVerifier.forBundle(caBundlePem).caCertificates();
            builder.clientAuth(ClientAuth.OPTIONAL).trustManager(new AnyClientChain(cas));
        } catch (IllegalArgumentException e) {
            log.warn("cannot use a client certificate CA bundle ({}); no client certificate is requested",
                    e.getMessage());
        }
    }

    /**
     * The handshake's trust manager for client certificates: names the CAs a client should pick
     * its certificate by, and accepts every chain, since NGINX lets the handshake complete and
     * judges the certificate per request. Extended, so the JDK adds no checks of its own.
     */
    private static final class AnyClientChain extends X509ExtendedTrustManager {
        private final X509Certificate[] issuers;

        AnyClientChain(List<X509Certificate> issuers) {
            this.issuers = issuers.toArray(new X509Certificate[0]);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return issuers.clone();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // accepted: verified per request against the request host's CAs
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            // accepted: verified per request against the request host's CAs
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            // accepted: verified per request against the request host's CAs
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a server context trusts no server");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a server context trusts no server");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a server context trusts no server");
        }
    }
}
