package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.UpstreamTls;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS upstreams through the real {@link GatewayServer} ({@code backend-protocol: HTTPS} /
 * {@code AUTO_HTTP} and the {@code proxy-ssl-*} settings): Pods on 127.0.0.x with certificates
 * of a test CA, one gateway event loop so every request shares one upstream pool.
 */
class HttpsUpstreamProxyTest {
    private static final String POD_NAME = "pod.svc.test";

    private static TestPki.Issued ca;
    private static TestPki.Issued otherCa;
    private static TestPki.Issued clientCa;
    private static TestPki.Issued clientCert;
    private static TlsPod pod;          // cert for pod.svc.test by ca
    private static TlsPod mtlsPod;      // requires a client certificate of clientCa
    private static TlsPod dualPod;      // TLS and clear on one port
    private static TlsPod chainPod;     // cert by an intermediate it sends
    private static TlsPod strangerPod;  // cert by otherCa
    private static TestBackend fcgiPod;
    private static GatewayServer server;

    @BeforeAll
    static void start() throws InterruptedException {
        ca = TestPki.ca("CN=Upstream CA,O=Sluice Test");
        otherCa = TestPki.ca("CN=Other CA,O=Sluice Test");
        clientCa = TestPki.ca("CN=Client CA,O=Sluice Test");
        clientCert = TestPki.client("CN=sluice,O=Sluice Test", clientCa);
        TestPki.Issued intermediate = TestPki.intermediate("CN=Upstream Intermediate,O=Sluice Test", ca);

        pod = new TlsPod("127.0.0.2", TestPki.server("CN=" + POD_NAME, ca, POD_NAME), List.of(), null, false);
        mtlsPod = new TlsPod("127.0.0.3", TestPki.server("CN=" + POD_NAME, ca, POD_NAME), List.of(), clientCa, false);
        dualPod = new TlsPod("127.0.0.4", TestPki.server("CN=" + POD_NAME, ca, POD_NAME), List.of(), null, true);
        chainPod = new TlsPod("127.0.0.5", TestPki.server("CN=" + POD_NAME, intermediate, POD_NAME),
                List.of(intermediate), null, false);
        fcgiPod = TestBackend.start("fcgi", "127.0.0.6");
        strangerPod = new TlsPod("127.0.0.7", TestPki.server("CN=" + POD_NAME, otherCa, POD_NAME), List.of(), null,
                false);

        UpstreamTls verifyOff = UpstreamTls.DEFAULTS;
        UpstreamTls verifyOn = tls(ca, true, 1, POD_NAME, false, null);
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(
                route("off.test", pod.endpoint(), BackendProtocol.HTTPS, verifyOff),
                route("verify.test", pod.endpoint(), BackendProtocol.HTTPS, verifyOn),
                route("chain-only.test", pod.endpoint(), BackendProtocol.HTTPS, tls(ca, true, 1, null, false, null)),
                route("wrong-ca.test", pod.endpoint(), BackendProtocol.HTTPS, tls(otherCa, true, 1, POD_NAME, false,
                        null)),
                route("wrong-name.test", pod.endpoint(), BackendProtocol.HTTPS, tls(ca, true, 1, "other.test", false,
                        null)),
                route("sni.test", pod.endpoint(), BackendProtocol.HTTPS, tls(null, false, 1, POD_NAME, true, null)),
                route("no-sni.test", pod.endpoint(), BackendProtocol.HTTPS, tls(null, false, 1, POD_NAME, false, null)),
                route("mtls.test", mtlsPod.endpoint(), BackendProtocol.HTTPS, tls(null, false, 1, null, false,
                        clientCert)),
                route("no-client-cert.test", mtlsPod.endpoint(), BackendProtocol.HTTPS, verifyOff),
                route("auto.test", dualPod.endpoint(), BackendProtocol.AUTO_HTTP, verifyOff),
                route("clear.test", dualPod.endpoint(), BackendProtocol.HTTP, verifyOff),
                route("depth1.test", chainPod.endpoint(), BackendProtocol.HTTPS, tls(ca, true, 1, POD_NAME, false,
                        null)),
                route("depth2.test", chainPod.endpoint(), BackendProtocol.HTTPS, tls(ca, true, 2, POD_NAME, false,
                        null)),
                route("fcgi.test", fcgiPod.endpoint(), BackendProtocol.FCGI, verifyOff),
                host("retry.test", prefix("/", "default/retry", backend("retry", strangerPod.endpoint(),
                        pod.endpoint()), RouteOptions.DEFAULTS.withBackendProtocol(BackendProtocol.HTTPS)
                        .withUpstreamTls(verifyOn).withHttpsRedirect(false, false, false)))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        for (AutoCloseable c : new AutoCloseable[] {pod, mtlsPod, dualPod, chainPod, strangerPod, fcgiPod}) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private static UpstreamTls tls(TestPki.Issued trusted, boolean verify, int depth, String name, boolean sni,
            TestPki.Issued client) {
        return new UpstreamTls("default/proxy-ssl", trusted == null ? null : trusted.pem(),
                client == null ? null : client.pem(), client == null ? null : pkcs8(client), verify, depth, name,
                sni, UpstreamTls.DEFAULT_PROTOCOLS, null);
    }

    private static String pkcs8(TestPki.Issued issued) {
        String b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(issued.key().getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n";
    }

    private static HostRoutes route(String hostName, Endpoint endpoint, BackendProtocol protocol, UpstreamTls tls) {
        RouteOptions options = RouteOptions.DEFAULTS.withBackendProtocol(protocol).withUpstreamTls(tls)
                .withHttpsRedirect(false, false, false);
        return host(hostName, prefix("/", "default/" + hostName, backend(hostName, endpoint), options));
    }

    private static RawHttpClient.Response get(String host) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange("GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        }
    }

    @Test
    void httpsWithVerificationOffAcceptsAnyCertificateAndSendsNoSni() {
        RawHttpClient.Response r = get("off.test");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-tls")).isEqualTo("true");
        assertThat(r.header("x-sni")).isEqualTo("none");
        assertThat(r.text()).isEqualTo("ok /x");
    }

    @Test
    void verificationWithTheRightCaAndNameSucceeds() {
        RawHttpClient.Response r = get("verify.test");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-tls")).isEqualTo("true");
        assertThat(r.header("x-sni")).as("proxy-ssl-server-name is off").isEqualTo("none");
    }

    @Test
    void verificationWithoutANameChecksTheChainOnly() {
        assertThat(get("chain-only.test").status()).isEqualTo(200);
    }

    @Test
    void aCertificateOfAnotherCaIsABadGateway() {
        assertThat(get("wrong-ca.test").status()).isEqualTo(502);
    }

    @Test
    void aCertificateForAnotherNameIsABadGateway() {
        assertThat(get("wrong-name.test").status()).isEqualTo(502);
    }

    @Test
    void sniIsSentOnlyWithProxySslServerNameOn() {
        RawHttpClient.Response on = get("sni.test");
        assertThat(on.status()).isEqualTo(200);
        assertThat(on.header("x-sni")).isEqualTo(POD_NAME);
        RawHttpClient.Response off = get("no-sni.test");
        assertThat(off.status()).isEqualTo(200);
        assertThat(off.header("x-sni")).isEqualTo("none");
    }

    @Test
    void theClientCertificateOfTheSecretIsPresentedToAPodThatRequiresOne() {
        RawHttpClient.Response r = get("mtls.test");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-client")).isEqualTo(clientCert.subject());
        assertThat(get("no-client-cert.test").status()).as("the Pod refuses the handshake").isEqualTo(502);
    }

    @Test
    void verifyDepthCountsTheIntermediateThePodSends() {
        assertThat(get("depth1.test").status()).isEqualTo(502);
        assertThat(get("depth2.test").status()).isEqualTo(200);
    }

    @Test
    void autoHttpUsesTlsOnlyForRequestsThatCameInOverTls() {
        RawHttpClient.Response clear = get("auto.test");
        assertThat(clear.status()).isEqualTo(200);
        assertThat(clear.header("x-tls")).isEqualTo("false");
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "auto.test")) {
            RawHttpClient.Response tls = c.exchange("GET /x HTTP/1.1\r\nHost: auto.test\r\n\r\n");
            assertThat(tls.status()).isEqualTo(200);
            assertThat(tls.header("x-tls")).isEqualTo("true");
        }
    }

    @Test
    void pooledTlsConnectionsAreReusedAndNeverMixedWithClearOnes() {
        // dualPod answers clear and TLS on one port: only the pool key keeps them apart
        try (RawHttpClient plain = RawHttpClient.connect(server.httpPort());
                RawHttpClient secure = RawHttpClient.connectTls(server.httpsPort(), "auto.test")) {
            RawHttpClient.Response clear1 = plain.exchange("GET /1 HTTP/1.1\r\nHost: clear.test\r\n\r\n");
            RawHttpClient.Response tls1 = secure.exchange("GET /2 HTTP/1.1\r\nHost: auto.test\r\n\r\n");
            RawHttpClient.Response clear2 = plain.exchange("GET /3 HTTP/1.1\r\nHost: auto.test\r\n\r\n");
            RawHttpClient.Response tls2 = secure.exchange("GET /4 HTTP/1.1\r\nHost: auto.test\r\n\r\n");
            RawHttpClient.Response clear3 = plain.exchange("GET /5 HTTP/1.1\r\nHost: clear.test\r\n\r\n");

            assertThat(List.of(clear1, clear2, clear3)).extracting(r -> r.header("x-tls")).containsOnly("false");
            assertThat(List.of(tls1, tls2)).extracting(r -> r.header("x-tls")).containsOnly("true");
            assertThat(clear2.header("x-conn")).isEqualTo(clear1.header("x-conn")).isEqualTo(clear3.header("x-conn"));
            assertThat(tls2.header("x-conn")).as("the TLS connection was pooled and reused")
                    .isEqualTo(tls1.header("x-conn"));
            assertThat(tls1.header("x-conn")).isNotEqualTo(clear1.header("x-conn"));
        }
    }

    @Test
    void connectionsWithOtherTlsSettingsAreNotShared() {
        String off1 = get("off.test").header("x-conn");
        String off2 = get("off.test").header("x-conn");
        String sni = get("sni.test").header("x-conn");
        String verified = get("verify.test").header("x-conn");
        assertThat(off2).isEqualTo(off1);
        assertThat(sni).isNotEqualTo(off1);
        assertThat(verified).isNotEqualTo(off1).isNotEqualTo(sni);
    }

    @Test
    void aFailedVerificationIsAConnectFailureTheNextEndpointIsTried() {
        // round robin starts on either Pod: each request either fails over from the stranger or never meets it
        for (int i = 0; i < 4; i++) {
            RawHttpClient.Response r = get("retry.test");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("x-tls")).isEqualTo("true");
        }
        assertThat(strangerPod.connections()).as("the stranger was tried").isPositive();
    }

    @Test
    void fastCgiIsNotSpokenTheLocationAnswers502WithoutContactingThePod() {
        int before = fcgiPod.requestsReceived();
        assertThat(get("fcgi.test").status()).isEqualTo(502);
        assertThat(fcgiPod.requestsReceived()).isEqualTo(before);
    }
}
