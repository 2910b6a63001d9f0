package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.ClientCertificateCheck.Pass;
import dev.sluice.gateway.proxy.ClientCertificateCheck.Reject;
import dev.sluice.gateway.proxy.ClientCertificateCheck.Result;
import dev.sluice.gateway.proxy.TestPki.ClientKeys;
import dev.sluice.gateway.proxy.TestPki.Issued;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.ClientCertificateAuth.Mode;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client-certificate authentication over real TLS on loopback: the handshake asks for a
 * certificate by SNI, names the host's CAs, completes whatever the client sends, and the request
 * check ({@link ProxyHandler#clientCertificateCheck}) gives NGINX's verdicts.
 */
class ClientCertificateTlsTest {
    private static final Issued CA = TestPki.ca("CN=Test CA,O=Example");
    private static final Issued OTHER_CA = TestPki.ca("CN=Other CA,O=Elsewhere");
    private static final Issued INTERMEDIATE = TestPki.intermediate("CN=Test Intermediate,O=Example", CA);
    private static final Issued CLIENT = TestPki.client("CN=client,O=Example", CA);
    private static final Issued STRANGER = TestPki.client("CN=stranger,O=Elsewhere", OTHER_CA);
    private static final Issued DEEP = TestPki.client("CN=deep,O=Example", INTERMEDIATE);
    private static final TestCertificates.Issued SERVER_CERT =
            TestCertificates.issue("secure.example.com", "secure.example.com");

    private static final ClientCertificateAuth SECURE = ClientCertificateAuth.required("default/ca", TestPki.bundle(CA));
    private static final ClientCertificateAuth OTHER = ClientCertificateAuth.required("default/other-ca",
            TestPki.bundle(OTHER_CA));

    private static TestBackend pod;
    private static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(
                host("secure.example.com", prefix("/", "default/secure", backend("secure", pod))),
                host("other.example.com", prefix("/", "default/other", backend("other", pod))),
                host("open.example.com", prefix("/", "default/open", backend("open", pod))))
                .withTls(new TlsCertificates(Map.of("secure.example.com",
                        new TlsCertificate("default/secure-tls", SERVER_CERT.certificatePem(), SERVER_CERT.pkcs8KeyPem())))
                        .withClientAuth(Map.of(
                                "secure.example.com", SECURE,
                                // no certificate of its own: the fake default certificate asks for OTHER_CA's clients
                                "other.example.com", OTHER))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        pod.close();
    }

    private static ClientCertificateAuth policy(Mode mode, int depth, String errorPage, boolean pass) {
        return new ClientCertificateAuth("default/ca", TestPki.bundle(CA), mode, depth, errorPage, pass);
    }

    /**
     * A TLS connection that has completed one request (the check is not wired into the request
     * path here, so it is proxied), so the server has finished its handshake.
     */
    private static RawHttpClient connect(String sni, ClientKeys keys) {
        RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), sni, keys);
        assertThat(c.exchange("GET / HTTP/1.1\r\nHost: open.example.com\r\n\r\n").status()).isEqualTo(200);
        return c;
    }

    /** Runs {@code task} on the event loop of the server side of {@code client}'s connection. */
    private static <T> T onServerSide(RawHttpClient client, java.util.function.Function<ProxyHandler, T> task)
            throws Exception {
        int port = client.socket().getLocalPort();
        for (Channel ch : server.clientChannels()) {
            if (((InetSocketAddress) ch.remoteAddress()).getPort() == port) {
                ProxyHandler h = ch.pipeline().get(ProxyHandler.class);
                Callable<T> call = () -> task.apply(h);
                return ch.eventLoop().submit(call).get(5, TimeUnit.SECONDS);
            }
        }
        throw new AssertionError("no server connection for client port " + port);
    }

    private static Result check(RawHttpClient client, ClientCertificateAuth policy) throws Exception {
        return onServerSide(client, h -> h.clientCertificateCheck(policy));
    }

    @Test
    void theHandshakeAsksForACertificateNamingTheHostsCasAndCompletesWithOrWithout() throws Exception {
        ClientKeys keys = new ClientKeys(CLIENT);
        try (RawHttpClient c = connect("secure.example.com", keys)) {
            assertThat(keys.asked()).isTrue();
            assertThat(keys.offeredIssuers()).containsExactly("CN=Test CA,O=Example");
            SSLSession clientView = ((SSLSocket) c.socket()).getSession();
            assertThat(clientView.getPeerCertificates()[0]).isEqualTo(SERVER_CERT.certificate());
            assertThat(clientView.getLocalCertificates()[0]).isEqualTo(CLIENT.certificate());
            SSLSession serverView = onServerSide(c, ProxyHandler::sslSession);
            assertThat(serverView.getPeerCertificates()[0]).isEqualTo(CLIENT.certificate());
        }
        // a certificate from another CA, or none at all: the handshake still completes
        ClientKeys stranger = new ClientKeys(STRANGER);
        try (RawHttpClient c = connect("secure.example.com", stranger)) {
            assertThat(stranger.asked()).isTrue();
        }
        try (RawHttpClient c = connect("secure.example.com", null)) {
            SSLSession serverView = onServerSide(c, ProxyHandler::sslSession);
            assertThat(serverView).isNotNull();
            assertThat(ClientCertificateStatus.NONE).isEqualTo(
                    ClientCertificateVerifier.forBundle(SECURE.caBundlePem()).verify(serverView, 1));
        }
        // a host with client auth and no certificate of its own gets the default certificate and its CAs
        ClientKeys otherKeys = new ClientKeys(STRANGER);
        try (RawHttpClient c = connect("other.example.com", otherKeys)) {
            assertThat(keys.offeredIssuers()).containsExactly("CN=Test CA,O=Example");
            assertThat(otherKeys.offeredIssuers()).containsExactly("CN=Other CA,O=Elsewhere");
            X509Certificate presented = (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
            assertThat(presented.getSubjectX500Principal().getName()).contains(FakeCertificate.COMMON_NAME);
        }
    }

    @Test
    void hostsWithoutClientAuthDoNotAskForACertificate() throws Exception {
        for (String sni : new String[] {"open.example.com", "unknown.example.com"}) {
            ClientKeys keys = new ClientKeys(CLIENT);
            try (RawHttpClient c = connect(sni, keys)) {
                assertThat(keys.asked()).as(sni).isFalse();
                // and a host requiring one, reached over this connection by its Host header, is refused
                assertThat(check(c, SECURE)).isEqualTo(new Reject(400, null,
                        ClientCertificateCheck.page("No required SSL certificate was sent")));
            }
        }
    }

    @Test
    void aCertificateOfTheHostsCaPassesWithNginxsHeaders() throws Exception {
        try (RawHttpClient c = connect("secure.example.com", new ClientKeys(CLIENT))) {
            Result r = check(c, SECURE);
            assertThat(r).isInstanceOf(Pass.class);
            assertThat(((Pass) r).upstreamHeaders()).containsExactly(
                    Map.entry("ssl-client-verify", "SUCCESS"),
                    Map.entry("ssl-client-subject-dn", "CN=client,O=Example"),
                    Map.entry("ssl-client-issuer-dn", "CN=Test CA,O=Example"));

            Result withCert = check(c, policy(Mode.ON, 1, null, true));
            String escaped = ((Pass) withCert).upstreamHeaders().get("ssl-client-cert");
            assertThat(URLDecoder.decode(escaped, StandardCharsets.US_ASCII)).isEqualTo(CLIENT.pem());
            assertThat(((Pass) withCert).upstreamHeaders()).containsKeys("ssl-client-verify", "ssl-client-subject-dn");
        }
    }

    @Test
    void aCertificateOfAnotherCaIsRejectedUnlessOptionalNoCa() throws Exception {
        try (RawHttpClient c = connect("secure.example.com", new ClientKeys(STRANGER))) {
            Reject error = new Reject(400, null, ClientCertificateCheck.page("The SSL certificate error"));
            assertThat(check(c, SECURE)).isEqualTo(error);
            assertThat(check(c, policy(Mode.OPTIONAL, 1, null, false))).isEqualTo(error);
            assertThat(error.body()).contains("<title>400 The SSL certificate error</title>");

            Result noCa = check(c, policy(Mode.OPTIONAL_NO_CA, 1, null, false));
            assertThat(noCa).isInstanceOf(Pass.class);
            assertThat(((Pass) noCa).upstreamHeaders()).containsExactly(
                    Map.entry("ssl-client-verify", "FAILED:unable to verify the first certificate"),
                    Map.entry("ssl-client-subject-dn", "CN=stranger,O=Elsewhere"),
                    Map.entry("ssl-client-issuer-dn", "CN=Other CA,O=Elsewhere"));

            Result redirected = check(c, policy(Mode.ON, 1, "https://login.example.com/cert-help", false));
            assertThat(redirected).isEqualTo(new Reject(302, "https://login.example.com/cert-help", LocalResponses.page(302)));
        }
    }

    @Test
    void noCertificateIsRejectedWhenRequiredAndNoneWhenOptional() throws Exception {
        try (RawHttpClient c = connect("secure.example.com", null)) {
            assertThat(check(c, SECURE)).isEqualTo(new Reject(400, null,
                    ClientCertificateCheck.page("No required SSL certificate was sent")));
            assertThat(check(c, policy(Mode.ON, 1, "https://login.example.com/", false)))
                    .isEqualTo(new Reject(302, "https://login.example.com/", LocalResponses.page(302)));
            for (Mode optional : new Mode[] {Mode.OPTIONAL, Mode.OPTIONAL_NO_CA, Mode.OFF}) {
                assertThat(check(c, policy(optional, 1, null, true)))
                        .isEqualTo(new Pass(Map.of("ssl-client-verify", "NONE")));
            }
        }
    }

    @Test
    void theVerifyDepthDecidesWhetherAnIntermediateMayStandBetween() throws Exception {
        ClientKeys keys = new ClientKeys(DEEP, INTERMEDIATE);
        try (RawHttpClient c = connect("secure.example.com", keys)) {
            SSLSession session = onServerSide(c, ProxyHandler::sslSession);
            assertThat(session.getPeerCertificates()).hasSize(2);
            assertThat(ClientCertificateVerifier.forBundle(TestPki.bundle(CA)).verify(session, 1).verifyHeader())
                    .isEqualTo("FAILED:certificate chain too long");
            Reject error = new Reject(400, null, ClientCertificateCheck.page("The SSL certificate error"));
            assertThat(check(c, policy(Mode.ON, 1, null, false))).isEqualTo(error);
            // not an untrusted-issuer error: optional_no_ca does not let it through either
            assertThat(check(c, policy(Mode.OPTIONAL_NO_CA, 1, null, false))).isEqualTo(error);
        }
        try (RawHttpClient c = connect("secure.example.com", keys)) {
            Result r = check(c, policy(Mode.ON, 2, null, false));
            assertThat(((Pass) r).upstreamHeaders()).containsEntry("ssl-client-verify", "SUCCESS")
                    .containsEntry("ssl-client-issuer-dn", "CN=Test Intermediate,O=Example");
        }
    }

    @Test
    void theCertificateIsVerifiedAgainstTheRequestHostsCasNotTheSniHosts() throws Exception {
        // asked for by secure.example.com's handshake, presented to a request for other.example.com
        try (RawHttpClient c = connect("secure.example.com", new ClientKeys(CLIENT))) {
            assertThat(check(c, SECURE)).isInstanceOf(Pass.class);
            assertThat(check(c, OTHER)).isEqualTo(new Reject(400, null,
                    ClientCertificateCheck.page("The SSL certificate error")));
        }
        // and the other way round: other.example.com's handshake, a client of OTHER_CA, a request for secure
        try (RawHttpClient c = connect("other.example.com", new ClientKeys(STRANGER))) {
            assertThat(check(c, OTHER)).isInstanceOf(Pass.class);
            assertThat(check(c, SECURE)).isInstanceOf(Reject.class);
        }
    }

    @Test
    void theVerdictIsCachedPerConnectionAndPolicy() throws Exception {
        try (RawHttpClient c = connect("secure.example.com", new ClientKeys(CLIENT))) {
            Result first = check(c, SECURE);
            assertThat(check(c, ClientCertificateAuth.required("default/ca", TestPki.bundle(CA)))).isSameAs(first);
            Result other = check(c, OTHER);
            assertThat(other).isNotSameAs(first);
            assertThat(check(c, OTHER)).isSameAs(other);
            assertThat(check(c, null)).isEqualTo(new Pass(Map.of()));
        }
    }

    @Test
    void plainHttpHasNoSessionAndRequiredClientAuthFailsClosed() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: open.example.com\r\n\r\n").status()).isEqualTo(200);
            SSLSession none = onServerSide(c, ProxyHandler::sslSession);
            assertThat(none).isNull();
            assertThat(check(c, SECURE)).isEqualTo(new Reject(400, null,
                    ClientCertificateCheck.page("No required SSL certificate was sent")));
            assertThat(check(c, policy(Mode.OPTIONAL, 1, null, false)))
                    .isEqualTo(new Pass(Map.of("ssl-client-verify", "NONE")));
        }
    }

    @Test
    void anUnusableCaBundleFailsClosed() {
        ClientCertificateAuth broken = new ClientCertificateAuth("default/broken", "not a certificate", Mode.OPTIONAL, 1,
                null, false);
        assertThat(ClientCertificateCheck.evaluate(broken, null)).isEqualTo(new Reject(503, null, LocalResponses.page(503)));
        try (RawHttpClient c = connect("secure.example.com", new ClientKeys(CLIENT))) {
            assertThat(check(c, broken)).isEqualTo(new Reject(503, null, LocalResponses.page(503)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(ClientCertificateCheck.evaluate(null, null)).isEqualTo(new Pass(Map.of()));
        assertThat(List.copyOf(ClientCertificateCheck.HEADER_NAMES)).hasSize(4);
    }
}
