package dev.sluice.gateway.proxy;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.LoggerFactory;

/**
 * The self-signed default certificate, generated once per process like ingress-nginx's
 * "Kubernetes Ingress Controller Fake Certificate" (subject {@code CN=Kubernetes Ingress
 * Controller Fake Certificate, O=Acme Co}, SAN {@code ingress.local}, one year) — with an EC P-256
 * key instead of ingress-nginx's RSA 2048: generating it takes milliseconds instead of up to
 * seconds of start-up, and every TLS client of the last decade accepts it.
 *
 * <p>Generated with BouncyCastle's certificate builder and the JDK's own signature provider
 * (Netty's {@code SelfSignedCertificate} needs JDK internals that Java 17 no longer exports).
 */
public final class FakeCertificate {
    /** The subject common name ingress-nginx uses; clients and tests recognise the default cert by it. */
    public static final String COMMON_NAME = "Kubernetes Ingress Controller Fake Certificate";

    /**
     * The type of the key store Netty puts a context's key into on its way to the TLS provider.
     * The JDK's default, PKCS#12, encrypts the key on the way in and decrypts it on the way out
     * with 10,000 rounds of PBKDF2 each: about 0.1 s of CPU per context in a fresh JVM (every TLS
     * Secret, and the default certificate on the start path). JKS protects it with one SHA-1 pass;
     * the store never leaves memory, so its protection is worth nothing either way.
     */
    static final String KEY_STORE_TYPE = "JKS";

    private static final AtomicBoolean PREPARING = new AtomicBoolean();
    private static final CompletableFuture<Void> PREPARED = new CompletableFuture<>();

    private FakeCertificate() {}

    private static final class Holder {
        static final KeyAndCert INSTANCE = generate();
        static final SslContext SERVER_CONTEXT = serverContext(INSTANCE.key(), INSTANCE.certificate());
    }

    /** A private key and its certificate. */
    public record KeyAndCert(PrivateKey key, X509Certificate certificate) {}

    /** The process-wide fake certificate (generated on first use, a few milliseconds). */
    public static KeyAndCert get() {
        return Holder.INSTANCE;
    }

    /** A server {@link SslContext} for the fake certificate. */
    public static SslContext serverContext() {
        return Holder.SERVER_CONTEXT;
    }

    /**
     * Starts choosing the TLS provider (loading BoringSSL) and generating the certificate and its
     * server context on a daemon thread, and returns at once; calls after the first do nothing.
     * Same as {@link #prepared()} without the result.
     */
    public static void prepareInBackground() {
        prepared();
    }

    /**
     * Completes once the TLS provider is chosen and the default certificate's server context is
     * built ({@link #provider()} and {@link #serverContext()} then return at once), exceptionally
     * if that failed; the first call starts the work on a daemon thread. About a third of a second
     * of CPU in a fresh JVM, most of it Netty's probing of OpenSSL and the JDK's TLS: the server
     * starts it once it is ready instead of on its start path, and a TLS handshake that arrives
     * sooner waits for it (asynchronously, off the event loop).
     */
    public static CompletableFuture<Void> prepared() {
        if (PREPARING.compareAndSet(false, true)) {
            Thread t = new Thread(() -> {
                try {
                    provider();
                    serverContext();
                    PREPARED.complete(null);
                } catch (RuntimeException | LinkageError e) { // ExceptionInInitializerError
                    LoggerFactory.getLogger(FakeCertificate.class).error(
                            "cannot prepare TLS (provider or default certificate): HTTPS handshakes fail", e);
                    PREPARED.completeExceptionally(e); // the caller of serverContext() gets the same
                }
            }, "sluice-tls-init");
            t.setDaemon(true);
            t.start();
        }
        return PREPARED.copy(); // callers cannot complete the shared one
    }

    /**
     * A server context for any key and certificate chain with Sluice's TLS settings: TLS 1.2 and
     * 1.3 only (ingress-nginx's default {@code ssl-protocols}), ALPN offering HTTP/2 and HTTP/1.1.
     */
    public static SslContext serverContext(PrivateKey key, X509Certificate... chain) {
        try {
            return withSluiceSettings(SslContextBuilder.forServer(key, chain).trustManager(NoClientCertificates.INSTANCE))
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build TLS context", e);
        }
    }

    /**
     * Sluice's server TLS settings: TLS 1.2 and 1.3 only; ALPN offering {@code h2}, then
     * {@code http/1.1} (a client that offers neither, or no ALPN at all, gets HTTP/1.1, as from
     * NGINX); the TLS 1.2 cipher suites HTTP/2 allows (RFC 9113 §9.2.2: ECDHE with an AEAD, which is
     * ingress-nginx's default {@code ssl-ciphers} list as well). BoringSSL (netty-tcnative) when it
     * loads, the JDK's provider otherwise. The key is handed to the TLS provider through an
     * in-memory {@link #KEY_STORE_TYPE} key store.
     */
    static SslContextBuilder withSluiceSettings(SslContextBuilder builder) {
        return builder
                .sslProvider(provider())
                .keyStoreType(KEY_STORE_TYPE)
                .protocols("TLSv1.3", "TLSv1.2")
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
    }

    /**
     * The TLS implementation of every context Sluice builds: OpenSSL (BoringSSL from
     * netty-tcnative) when its native library loads on this platform and does ALPN, else the JDK's.
     */
    static SslProvider provider() {
        return ProviderHolder.PROVIDER;
    }

    private static final class ProviderHolder {
        static final SslProvider PROVIDER = OpenSsl.isAvailable() && SslProvider.isAlpnSupported(SslProvider.OPENSSL)
                ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    private static KeyAndCert generate() {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = gen.generateKeyPair();
            X500Name subject = new X500Name("CN=" + COMMON_NAME + ",O=Acme Co");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    subject,
                    new BigInteger(127, new SecureRandom()),
                    Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(365))),
                    subject,
                    pair.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, "ingress.local")));
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            return new KeyAndCert(pair.getPrivate(), cert);
        } catch (GeneralSecurityException | OperatorCreationException | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException("cannot generate the default certificate", e);
        }
    }
}
