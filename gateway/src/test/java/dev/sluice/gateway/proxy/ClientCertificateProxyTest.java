package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestPki.Issued;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code auth-tls-*} end to end: what a client with, without or with the wrong certificate gets
 * back, and the {@code ssl-client-*} headers the upstream sees (SPEC §0.1 step 3).
 */
class ClientCertificateProxyTest {
    private static final Issued CA = TestPki.ca("CN=Test CA,O=Example");
    private static final Issued OTHER_CA = TestPki.ca("CN=Other CA,O=Elsewhere");
    private static final Issued CLIENT = TestPki.client("CN=client,O=Example", CA);
    private static final Issued STRANGER = TestPki.client("CN=stranger,O=Elsewhere", OTHER_CA);
    private static final TestCertificates.Issued SERVER_CERT =
            TestCertificates.issue("secure.test", "secure.test", "page.test", "optional.test");

    private static TestBackend pod;
    private static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        RouteOptions noRedirect = RouteOptions.DEFAULTS.withHttpsRedirect(false, false, false);
        TlsCertificate cert = new TlsCertificate("default/tls", SERVER_CERT.certificatePem(), SERVER_CERT.pkcs8KeyPem());
        holder.publish(table(
                host("secure.test", prefix("/", "default/secure", backend("secure", pod), noRedirect)),
                host("page.test", prefix("/", "default/page", backend("page", pod))),
                host("optional.test", prefix("/", "default/optional", backend("optional", pod))))
                .withTls(new TlsCertificates(Map.of("secure.test", cert, "page.test", cert, "optional.test", cert))
                        .withClientAuth(Map.of(
                                "secure.test", new ClientCertificateAuth("default/ca", TestPki.bundle(CA),
                                        ClientCertificateAuth.Mode.ON, 1, null, true),
                                "page.test", new ClientCertificateAuth("default/ca", TestPki.bundle(CA),
                                        ClientCertificateAuth.Mode.ON, 1, "https://errors.test/cert", false),
                                "optional.test", new ClientCertificateAuth("default/ca", TestPki.bundle(CA),
                                        ClientCertificateAuth.Mode.OPTIONAL, 1, null, false)))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        pod.close();
    }

    private static RawHttpClient.Response tls(String host, Issued clientCert, String... headers) {
        StringBuilder raw = new StringBuilder("GET / HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String h : headers) {
            raw.append(h).append("\r\n");
        }
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), host,
                clientCert == null ? null : new TestPki.ClientKeys(clientCert))) {
            return c.exchange(raw.append("\r\n").toString());
        }
    }

    @Test
    void theRightCertificateIsServedWithItsHeadersAndForgedOnesAreReplaced() {
        RawHttpClient.Response r = tls("secure.test", CLIENT, "ssl-client-verify: SUCCESS-FORGED",
                "ssl-client-subject-dn: CN=admin");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("ssl-client-verify")).isEqualTo("SUCCESS");
        assertThat(r.echoedHeader("ssl-client-subject-dn")).isEqualTo("CN=client,O=Example");
        assertThat(r.echoedHeader("ssl-client-issuer-dn")).isEqualTo("CN=Test CA,O=Example");
        assertThat(URLDecoder.decode(r.echoedHeader("ssl-client-cert"), StandardCharsets.UTF_8))
                .startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(r.json().get("headers").get("ssl-client-verify")).hasSize(1);
    }

    @Test
    void noCertificateOrOneFromAnotherCaAnswers400AndNeverReachesTheUpstream() {
        int before = pod.requestsReceived();
        assertThat(tls("secure.test", null).status()).isEqualTo(400);
        assertThat(tls("secure.test", STRANGER).status()).isEqualTo(400);
        assertThat(pod.requestsReceived()).isEqualTo(before);
    }

    @Test
    void theErrorPageTurnsTheRefusalIntoARedirect() {
        RawHttpClient.Response r = tls("page.test", STRANGER);
        assertThat(r.status()).isEqualTo(302);
        assertThat(r.header("location")).isEqualTo("https://errors.test/cert");
    }

    @Test
    void optionalServesClientsWithoutACertificateButNotWithABadOne() {
        RawHttpClient.Response none = tls("optional.test", null, "ssl-client-verify: SUCCESS");
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.echoedHeader("ssl-client-verify")).isEqualTo("NONE");
        assertThat(none.echoedHeader("ssl-client-cert")).isNull();
        assertThat(tls("optional.test", STRANGER).status()).isEqualTo(400);
    }

    @Test
    void theHostHeaderDecidesWhichCasApplyNotTheSniName() {
        // handshake for optional.test without a certificate, then a request for secure.test
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "optional.test", null)) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: secure.test\r\n\r\n").status()).isEqualTo(400);
        }
    }

    @Test
    void plainHttpCannotCarryACertificateSoARequiredOneAnswers400AfterTheHttpsRedirect() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: secure.test\r\n\r\n").status()).isEqualTo(400);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            // page.test keeps ssl-redirect: the redirect comes first, as NGINX's location phases do
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: page.test\r\n\r\n").status()).isEqualTo(308);
        }
    }
}
