package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.controller.testing.Fixtures;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.proxy.TestBackend;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code ssl-ciphers} from an Ingress to the HTTPS listener: a TLS 1.2 client offering only one
 * suite completes the handshake for a host whose list has it and fails for a host whose list does
 * not, while a host without the annotation keeps Sluice's default suites. (The proxy's own
 * certificate has an EC key: the ECDSA suites apply.)
 */
class SslCiphersProxyTest {
    private static final String AES128 = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    private static final String AES256 = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";

    private static TestBackend pod;
    private static GatewayServer gateway;
    private static Translation translation;

    @BeforeAll
    static void start() throws Exception {
        pod = TestBackend.start("pod", "127.0.0.2");
        int port = pod.endpoint().port();
        List<Ingress> ingresses = List.of(
                ingress("narrow", "narrow.test", Map.of("ssl-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256")),
                ingress("plain", "plain.test", Map.of()),
                ingress("keywords", "keywords.test", Map.of("ssl-ciphers", "HIGH:!aNULL:!MD5")));
        ClusterState state = new ClusterState(ingresses, List.of(), List.of(Fixtures.service("shop", "web", port)),
                List.of(Fixtures.slice("shop", "web-abc", "web", port, "127.0.0.2")), List.of(), List.of());
        translation = new IngressTranslator(TranslatorConfig.DEFAULTS).translate(state, Instant.EPOCH);
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(translation.table());
        gateway = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        gateway.start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        pod.close();
    }

    private static Ingress ingress(String name, String host, Map<String, String> annotations) {
        Ingress ing = Fixtures.ingress("shop", name, host, "/", "web", pod.endpoint().port());
        Map<String, String> all = new HashMap<>(ing.getMetadata().getAnnotations());
        annotations.forEach((k, v) -> all.put("nginx.ingress.kubernetes.io/" + k, v));
        ing.getMetadata().setAnnotations(all);
        return ing;
    }

    /** A TLS 1.2 handshake offering only {@code suite}; the negotiated suite. */
    private static String handshake(String sni, String suite) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", gateway.httpsPort()), 5000);
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(sni)));
            p.setProtocols(new String[] {"TLSv1.2"});
            p.setCipherSuites(new String[] {suite});
            s.setSSLParameters(p);
            s.startHandshake();
            return s.getSession().getCipherSuite();
        }
    }

    @Test
    void aSuiteInTheListIsNegotiated() throws Exception {
        assertThat(handshake("narrow.test", AES128)).isEqualTo(AES128);
    }

    @Test
    void aSuiteOutsideTheListIsRefused() {
        assertThatThrownBy(() -> handshake("narrow.test", AES256)).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void otherHostsKeepTheDefaultSuites() throws Exception {
        assertThat(handshake("plain.test", AES256)).isEqualTo(AES256);
        assertThat(handshake("plain.test", AES128)).isEqualTo(AES128);
    }

    @Test
    void openSslKeywordsAreReportedAndTheDefaultSuitesKept() throws Exception {
        assertThat(translation.problems()).anyMatch(p -> p.name().equals("keywords")
                && p.message().contains("ssl-ciphers") && p.message().contains("HIGH"));
        assertThat(handshake("keywords.test", AES256)).isEqualTo(AES256);
    }

    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
