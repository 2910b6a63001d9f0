package dev.sluice.gateway.proxy;

import io.netty.handler.ssl.SslContext;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Chooses the server certificate of a TLS connection from the SNI name in the ClientHello, as
 * ingress-nginx's {@code certificate.lua} does (SPEC §10.2).
 *
 * <p>The name passed in is already lower-cased with any trailing dot removed, or {@code null}
 * when the client sent no SNI. An implementation looks up the exact host, then the wildcard form
 * ({@code *.} + everything after the first label), and otherwise returns the default
 * certificate; it must never return {@code null}. It runs on the event loop during the
 * handshake: it must not block (look up a prebuilt immutable map).
 *
 * <p>{@link PublishedCertificates} (the GatewayServer's default) serves the certificates of the
 * live route table (TLS Secrets); {@link #defaultCertificate()} serves only the fake certificate.
 */
@FunctionalInterface
public interface SniCertificates {

    /** The context for a connection whose ClientHello named {@code serverName} ({@code null}: no SNI). */
    SslContext forServerName(String serverName);

    /**
     * The context for {@code serverName} once it is ready: a handshake waits for it without
     * holding up its event loop (a context still being built, the TLS provider still loading).
     * The default: {@link #forServerName} at once.
     */
    default CompletableFuture<SslContext> contextFor(String serverName) {
        return CompletableFuture.completedFuture(forServerName(serverName));
    }

    /** Every name gets {@code context}. */
    static SniCertificates fixed(SslContext context) {
        Objects.requireNonNull(context, "context");
        return name -> context;
    }

    /**
     * Every name gets the generated "Kubernetes Ingress Controller Fake Certificate", as
     * ingress-nginx serves when no {@code --default-ssl-certificate} is configured.
     */
    static SniCertificates defaultCertificate() {
        return fixed(FakeCertificate.serverContext());
    }
}
