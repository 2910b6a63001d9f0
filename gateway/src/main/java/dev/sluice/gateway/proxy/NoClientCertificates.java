package dev.sluice.gateway.proxy;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of a server context that asks for no client certificate: trusts no chain and
 * names no CA.
 *
 * <p>Without a trust manager of its own, Netty gives every server context the JDK's default one:
 * it reads the JDK's ~150 trusted CA certificates ({@code cacerts}) and hands each of them, PEM
 * encoded, to BoringSSL as the CA list of a CertificateRequest the context never sends (it asks for
 * no client certificate). That was about a tenth of a second of CPU on the start path, for the
 * default certificate's context, and again for the first TLS Secret's. A context that does ask
 * for client certificates ({@link PublishedCertificates}) sets its own trust manager instead.
 */
final class NoClientCertificates extends X509ExtendedTrustManager {
    static final NoClientCertificates INSTANCE = new NoClientCertificates();

    private static final X509Certificate[] NONE = new X509Certificate[0];

    private NoClientCertificates() {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NONE;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw rejected();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw rejected();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw rejected();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw rejected();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw rejected();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw rejected();
    }

    private static CertificateException rejected() {
        return new CertificateException("this context accepts no client certificate");
    }
}
