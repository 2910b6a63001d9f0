package dev.sluice.gateway.proxy;

import java.net.Socket;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** JDK {@link HttpClient}s for the TLS listener: any certificate trusted, no host name check. */
public final class Http2Clients {
    private Http2Clients() {}

    /** A client preferring {@code version} (ALPN {@code h2} for HTTP/2) that trusts any server. */
    public static HttpClient trustingAll(HttpClient.Version version) {
        SSLContext tls = trustAllContext();
        SSLParameters params = tls.getDefaultSSLParameters();
        params.setEndpointIdentificationAlgorithm(null); // the fake certificate names ingress.local
        return HttpClient.newBuilder()
                .version(version)
                .sslContext(tls)
                .sslParameters(params)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** An SSLContext that accepts every server certificate. */
    public static SSLContext trustAllContext() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {TRUST_ALL}, new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // extended: the JDK adds no host name check of its own around it
    private static final X509ExtendedTrustManager TRUST_ALL = new X509ExtendedTrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    };
}
