package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.route.RouteTableHolder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow and many clients: a head sent a byte at a time is cut at {@code client_header_timeout}
 * however steadily the bytes come, and the global and per-address connection caps close what is
 * over them on accept while other clients are served.
 */
class ClientLimitsTest {
    static final String HOST = "limits.example.com";
    static final RouteTableHolder routes = new RouteTableHolder();
    static RawBackend upstream;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        upstream = RawBackend.ok("127.0.0.2");
        routes.publish(table(host(HOST, prefix("/", "default/limits", backend("default-limits-80", upstream.endpoint())))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).clientHeaderTimeout(Duration.ofMillis(800)).maxConnections(6).maxConnectionsPerAddress(3)
                .build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        upstream.close();
    }

    private static Socket connect(String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress("127.0.0.1", server.httpPort()), 5000);
        s.setSoTimeout(5000);
        return s;
    }

    /** Whether the proxy closed {@code s}: EOF (or a reset) within the socket's timeout. */
    private static boolean closed(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void aHeadSentAByteAtATimeIsCutAtTheHeaderTimeoutThoughBytesKeepComing() throws Exception {
        try (Socket slow = connect("127.0.0.1")) {
            byte[] head = ("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n" + "X-Slow: ".repeat(200)).getBytes(StandardCharsets.US_ASCII);
            long start = System.nanoTime();
            boolean cut = false;
            for (int i = 0; i < head.length && !cut; i++) {
                try {
                    slow.getOutputStream().write(head[i]);
                    slow.getOutputStream().flush();
                } catch (IOException e) {
                    cut = true;
                }
                Thread.sleep(50); // well inside any idle timeout: only a fixed deadline ends this
                if (slow.getInputStream().available() > 0 || System.nanoTime() - start > 3_000_000_000L) {
                    break;
                }
            }
            slow.setSoTimeout(10_000);
            assertThat(cut || closed(slow)).as("closed while still sending its head").isTrue();
        }
        assertThat(upstream.requests()).isEmpty();
    }

    @Test
    void aKeepAliveConnectionWaitsForItsNextRequestWithoutTheHeaderDeadline() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
            Thread.sleep(1500); // idle between requests: the keep-alive timeout (75 s) applies, not the header one
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
        }
    }

    /**
     * One timer per connection, re-armed when it fires before the running deadline: the timer
     * armed for the first head fires while a later head is still within its own deadline, which
     * must not close the connection; a later head sent a byte at a time is still cut.
     */
    @Test
    void eachHeadOfAKeepAliveConnectionHasItsOwnDeadline() throws Exception {
        GatewayServer own = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).clientHeaderTimeout(Duration.ofMillis(2000)).build();
        own.start();
        try (RawHttpClient c = RawHttpClient.connect(own.httpPort())) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
            Thread.sleep(1200);
            c.send("GET / HTTP/1.1\r\n"); // this head's deadline: 2 s from now
            Thread.sleep(1200); // the timer armed at connect has fired meanwhile
            assertThat(c.exchange("Host: " + HOST + "\r\n\r\n").status()).isEqualTo(200);

            byte[] slow = ("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n" + "X-Slow: ".repeat(200))
                    .getBytes(StandardCharsets.US_ASCII);
            long start = System.nanoTime();
            boolean cut = false;
            for (int i = 0; i < slow.length && !cut && System.nanoTime() - start < 6_000_000_000L; i++) {
                try {
                    c.send(new byte[] {slow[i]});
                } catch (RuntimeException e) {
                    cut = true; // written into a closed connection
                }
                Thread.sleep(50);
                if (c.socket().getInputStream().available() > 0) {
                    break;
                }
            }
            assertThat(cut || c.timeout(10_000).closedByServer()).as("third head cut at its deadline").isTrue();
        } finally {
            own.close();
        }
    }

    @Test
    void connectionsOverThePerAddressCapAreClosedOnAcceptWhileOtherAddressesAreServed() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                held.add(connect("127.0.0.5"));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.metrics().activeConnections() >= 3);
            try (Socket fourth = connect("127.0.0.5")) {
                assertThat(closed(fourth)).as("the fourth connection from one address").isTrue();
            }
            // another address is still served
            try (Socket other = connect("127.0.0.6")) {
                other.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                assertThat(statusLine(other.getInputStream())).startsWith("HTTP/1.1 200");
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.metrics().activeConnections() == 0);
        // the slots are free again
        try (Socket again = connect("127.0.0.5")) {
            again.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(statusLine(again.getInputStream())).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void connectionsOverTheGlobalCapAreClosedOnAccept() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                held.add(connect("127.0.0." + (10 + i / 3)));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.metrics().activeConnections() >= 6);
            try (Socket seventh = connect("127.0.0.20")) {
                assertThat(closed(seventh)).as("the seventh connection").isTrue();
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\r') {
            b.append((char) c);
        }
        return b.toString();
    }
}
