package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import java.security.cert.X509Certificate;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The certificate a TLS client is shown, by SNI, from the published table (SPEC §10.2). */
class PublishedCertificatesTest {
    private static final TestCertificates.Issued A = TestCertificates.issue("a.example.com", "a.example.com");
    private static final TestCertificates.Issued B = TestCertificates.issue("*.b.example.com", "*.b.example.com");
    private static TestBackend pod;
    private final RouteTableHolder holder = new RouteTableHolder();

    @BeforeAll
    static void startPod() {
        pod = TestBackend.start("pod-1", "127.0.0.2");
    }

    @AfterAll
    static void stopPod() {
        pod.close();
    }

    private RouteTable tableWith(TestCertificates.Issued a, TestCertificates.Issued b) {
        return table(host("a.example.com", prefix("/", "default/a", backend("a", pod))),
                host("other.example.com", prefix("/", "default/other", backend("other", pod))))
                .withTls(new TlsCertificates(Map.of(
                        "a.example.com", new TlsCertificate("default/a-tls", a.certificatePem(), a.pkcs8KeyPem()),
                        "*.b.example.com", new TlsCertificate("default/b-tls", b.certificatePem(), b.pkcs1KeyPem()))));
    }

    @Test
    void certificateBySniExactThenWildcardElseDefault() throws Exception {
        holder.publish(tableWith(A, B));
        try (GatewayServer server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(0).eventLoops(1).build()) {
            server.start();
            assertThat(presented(server, "a.example.com")).isEqualTo(A.certificate());
            assertThat(presented(server, "A.Example.COM")).isEqualTo(A.certificate());
            assertThat(presented(server, "x.b.example.com")).isEqualTo(B.certificate()); // PKCS#1 key
            assertThat(subject(presented(server, "x.y.b.example.com"))).contains(FakeCertificate.COMMON_NAME);
            assertThat(subject(presented(server, "b.example.com"))).contains(FakeCertificate.COMMON_NAME);
            assertThat(subject(presented(server, "unknown.example.com"))).contains(FakeCertificate.COMMON_NAME);
            assertThat(subject(presented(server, null))).contains(FakeCertificate.COMMON_NAME);

            // routing uses the Host header, not the SNI name
            try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "a.example.com")) {
                RawHttpClient.Response r = c.exchange("GET /x HTTP/1.1\r\nHost: other.example.com\r\n\r\n");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echoedHeader("host")).isEqualTo("other.example.com");
                RawHttpClient.Response nowhere = c.exchange("GET /x HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n");
                assertThat(nowhere.status()).isEqualTo(404);
            }
        }
    }

    @Test
    void aRotatedCertificateIsPresentedFromTheNextHandshake() throws Exception {
        holder.publish(tableWith(A, B));
        try (GatewayServer server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(0).eventLoops(1).build()) {
            server.start();
            assertThat(presented(server, "a.example.com")).isEqualTo(A.certificate());
            TestCertificates.Issued renewed = TestCertificates.issue("a.example.com", "a.example.com");
            holder.publish(tableWith(renewed, B));
            assertThat(presented(server, "a.example.com")).isEqualTo(renewed.certificate());
        }
    }

    @Test
    void contextsAreBuiltOncePerCertificateContentAndDroppedWhenUnused() {
        holder.publish(tableWith(A, B));
        PublishedCertificates certs = new PublishedCertificates(holder, FakeCertificate.serverContext());
        var first = certs.forServerName("a.example.com");
        assertThat(certs.cachedContexts()).isEqualTo(2);

        holder.publish(tableWith(A, B)); // an equal table built anew: same contexts
        assertThat(certs.forServerName("a.example.com")).isSameAs(first);
        assertThat(certs.forServerName("x.b.example.com")).isNotSameAs(first);

        holder.publish(tableWith(TestCertificates.issue("a.example.com", "a.example.com"), B));
        assertThat(certs.forServerName("a.example.com")).isNotSameAs(first);
        assertThat(certs.cachedContexts()).isEqualTo(2);

        holder.publish(table(host("a.example.com")));
        assertThat(certs.cachedContexts()).isZero();
        assertThat(certs.forServerName("a.example.com")).isSameAs(FakeCertificate.serverContext());
    }

    @Test
    void theTablesDefaultCertificateServesUnknownNamesNoSniAndHostsWithoutTheirOwn() throws Exception {
        TestCertificates.Issued fallback = TestCertificates.issue("fallback.example.com", "fallback.example.com");
        holder.publish(table(host("a.example.com"), host("lost.example.com")).withTls(new TlsCertificates(
                Map.of("a.example.com", new TlsCertificate("default/a-tls", A.certificatePem(), A.pkcs8KeyPem())),
                java.util.Set.of("lost.example.com"),
                new TlsCertificate("default/fallback", fallback.certificatePem(), fallback.pkcs8KeyPem()))));
        try (GatewayServer server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(0).eventLoops(1).build()) {
            server.start();
            assertThat(presented(server, "a.example.com")).isEqualTo(A.certificate());
            assertThat(presented(server, "lost.example.com")).isEqualTo(fallback.certificate());
            assertThat(presented(server, "unknown.example.com")).isEqualTo(fallback.certificate());
            assertThat(presented(server, null)).isEqualTo(fallback.certificate());

            holder.publish(table(host("a.example.com"))); // no default certificate any more: the fake one
            assertThat(subject(presented(server, "unknown.example.com"))).contains(FakeCertificate.COMMON_NAME);
        }
    }

    @Test
    void aCertificateNettyCannotLoadIsServedAsTheDefault() {
        holder.publish(table(host("a.example.com")).withTls(new TlsCertificates(Map.of(
                "a.example.com", new TlsCertificate("default/bad", "not a pem", "nope")))));
        PublishedCertificates certs = new PublishedCertificates(holder, FakeCertificate.serverContext());
        assertThat(certs.forServerName("a.example.com")).isSameAs(FakeCertificate.serverContext());
    }

    @Test
    void hostsWithClientAuthGetTheirOwnContextsCachedByCertificateAndCaBundle() {
        TestPki.Issued ca = TestPki.ca("CN=Test CA,O=Example");
        ClientCertificateAuth required = ClientCertificateAuth.required("default/ca", TestPki.bundle(ca));
        ClientCertificateAuth sameCaOptional = new ClientCertificateAuth("default/ca", TestPki.bundle(ca),
                ClientCertificateAuth.Mode.OPTIONAL, 2, null, true);
        ClientCertificateAuth off = new ClientCertificateAuth("default/ca", TestPki.bundle(ca),
                ClientCertificateAuth.Mode.OFF, 1, null, false);
        holder.publish(tableWith(A, B).withTls(tableWith(A, B).tls().withClientAuth(Map.of(
                "a.example.com", required,
                "x.b.example.com", sameCaOptional,
                "y.b.example.com", off,
                "nocert.example.com", required))));
        PublishedCertificates certs = new PublishedCertificates(holder, FakeCertificate.serverContext());
        // a (+CA), *.b, x.b (*.b's certificate +CA), nocert (fake certificate +CA)
        assertThat(certs.cachedContexts()).isEqualTo(4);
        var a = certs.forServerName("a.example.com");
        var xb = certs.forServerName("x.b.example.com");
        var plainB = certs.forServerName("z.b.example.com");
        assertThat(a.isServer()).isTrue();
        assertThat(xb).isNotSameAs(plainB);
        assertThat(certs.forServerName("y.b.example.com")).isSameAs(plainB); // off: no certificate requested
        var nocert = certs.forServerName("nocert.example.com");
        assertThat(nocert).isNotSameAs(FakeCertificate.serverContext());
        assertThat(certs.forServerName("unknown.example.com")).isSameAs(FakeCertificate.serverContext());

        // republished unchanged (a new, equal bundle string): the same contexts
        holder.publish(tableWith(A, B).withTls(tableWith(A, B).tls().withClientAuth(Map.of(
                "a.example.com", ClientCertificateAuth.required("default/ca", TestPki.bundle(ca)),
                "x.b.example.com", sameCaOptional,
                "nocert.example.com", required))));
        assertThat(certs.forServerName("a.example.com")).isSameAs(a);
        assertThat(certs.forServerName("x.b.example.com")).isSameAs(xb);
        assertThat(certs.forServerName("nocert.example.com")).isSameAs(nocert);

        // client auth removed: back to the plain certificate context, the CA contexts are dropped
        holder.publish(tableWith(A, B));
        assertThat(certs.cachedContexts()).isEqualTo(2);
        assertThat(certs.forServerName("a.example.com")).isNotSameAs(a);
        assertThat(certs.forServerName("nocert.example.com")).isSameAs(FakeCertificate.serverContext());
    }

    private static X509Certificate presented(GatewayServer server, String sni) throws Exception {
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), sni)) {
            return (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
        }
    }

    private static String subject(X509Certificate c) {
        return c.getSubjectX500Principal().getName();
    }
}
