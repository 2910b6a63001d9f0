package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.controller.testing.EchoServers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP and UDP services in manifest mode: {@code --tcp-services-configmap} /
 * {@code --udp-services-configmap} name ConfigMaps in the files; Sluice relays their ports to plain
 * socket echo backends on 127.0.0.2 and follows edits of the files live.
 */
class SluiceAppStreamsTest {
    @TempDir
    Path dir;

    private final EchoServers echo = new EchoServers();
    private SluiceApp app;

    @AfterEach
    void stop() throws Exception {
        if (app != null) {
            app.close();
        }
        echo.close();
    }

    private void start(String... extra) {
        String[] base = {"--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
            "--event-loops=2", "--access-log=off", "--manifests", dir.toString(),
            "--tcp-services-configmap=ingress-nginx/tcp-services", "--udp-services-configmap=ingress-nginx/udp-services"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        app = new SluiceApp(Main.parse(args));
        app.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
    }

    /** Service {@code echo}: port 7000/TCP → {@code tcpPort}, 7001/UDP → {@code udpPort}, 7002/TCP → {@code linePort} on 127.0.0.2. */
    private void writeService(int tcpPort, int udpPort, int linePort, String ip) throws IOException {
        Files.writeString(dir.resolve("10-echo.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: default}
                spec:
                  ports:
                  - {name: tcp, port: 7000, targetPort: %1$d, protocol: TCP}
                  - {name: udp, port: 7001, targetPort: %2$d, protocol: UDP}
                  - {name: line, port: 7002, targetPort: %3$d, protocol: TCP}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: echo, namespace: default}
                subsets:
                - addresses: [%4$s]
                  ports:
                  - {name: tcp, port: %1$d, protocol: TCP}
                  - {name: udp, port: %2$d, protocol: UDP}
                  - {name: line, port: %3$d, protocol: TCP}
                """.formatted(tcpPort, udpPort, linePort, ip == null ? "" : "{ip: " + ip + "}"));
    }

    private void writeConfigMaps(String tcpData, String udpData) throws IOException {
        Files.writeString(dir.resolve("20-streams.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: tcp-services, namespace: ingress-nginx}
                data: {%s}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: udp-services, namespace: ingress-nginx}
                data: {%s}
                """.formatted(tcpData, udpData));
    }

    private void backends() throws IOException {
        writeService(echo.tcpEcho("127.0.0.2"), echo.udpEcho("127.0.0.2"), echo.firstLine("127.0.0.2"), "127.0.0.2");
    }

    @Test
    void aTcpPortRelaysMegabytesBothWaysWithBackPressureAndHalfClose() throws Exception {
        backends();
        int port = echo.heldTcpPort();
        writeConfigMaps("'" + port + "': default/echo:7000", "");
        start();
        awaitOpen(port);

        byte[] payload = new byte[8 * 1024 * 1024];
        new Random(7).nextBytes(payload);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            // the echo returns bytes while we still send: both directions stream at once, and
            // nothing is lost while one side waits for the other
            CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
                try {
                    for (int off = 0; off < payload.length; off += 64 * 1024) {
                        s.getOutputStream().write(payload, off, Math.min(64 * 1024, payload.length - off));
                    }
                    s.shutdownOutput(); // half-close: the reply must still arrive in full
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = s.getInputStream().readAllBytes(); // ends when the echo closes after our FIN
            send.get(20, TimeUnit.SECONDS);
            assertThat(back.length).isEqualTo(payload.length);
            assertThat(back).isEqualTo(payload);
        }
        JsonNode streams = new ObjectMapper().readTree(get(app.adminPort(), "/routes")).get("streams");
        assertThat(streams).singleElement().satisfies(n -> {
            assertThat(n.get("protocol").asText()).isEqualTo("TCP");
            assertThat(n.get("port").asInt()).isEqualTo(port);
            assertThat(n.get("backend").asText()).isEqualTo("default-echo-7000");
            assertThat(n.get("source").asText()).isEqualTo("ingress-nginx/tcp-services " + port);
        });
    }

    @Test
    void editingTheConfigMapOpensTheNewPortAndClosesTheOldOneWithItsConnections() throws Exception {
        backends();
        int first = echo.heldTcpPort();
        writeConfigMaps("'" + first + "': default/echo:7000", "");
        start();
        awaitOpen(first);
        try (Socket old = new Socket("127.0.0.1", first)) {
            old.setSoTimeout(5000);
            assertThat(roundTrip(old, "before")).isEqualTo("before");

            int second = echo.heldTcpPort();
            writeConfigMaps("'" + second + "': default/echo:7000", "");
            awaitOpen(second);
            try (Socket s = new Socket("127.0.0.1", second)) {
                s.setSoTimeout(5000);
                assertThat(roundTrip(s, "after")).isEqualTo("after");
            }
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThatThrownBy(() -> new Socket("127.0.0.1", first).close()).isInstanceOf(ConnectException.class));
            // the removed entry's open connection is closed too
            assertThat(old.getInputStream().read()).isEqualTo(-1);
            assertThat(app.streamPorts()).hasSize(1);
        }
    }

    @Test
    void aUdpPortRelaysDatagramsAndTheRepliesComeBack() throws Exception {
        backends();
        int port = EchoServers.freeUdpPort();
        writeConfigMaps("", "'" + port + "': default/echo:7001");
        start();
        await().atMost(Duration.ofSeconds(3)).until(() -> !app.streamPorts().isEmpty());

        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            client.setSoTimeout(500);
            for (int i = 0; i < 5; i++) {
                String text = "ping " + i;
                byte[] reply = udpRoundTrip(client, port, text);
                assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo(text);
            }
        }
    }

    @Test
    void theSecondProxyFlagSendsAV1HeaderWithTheClientAddressAndTheFirstDecodesOne() throws Exception {
        backends();
        int out = echo.heldTcpPort();
        int inOut = echo.heldTcpPort();
        writeConfigMaps("'" + out + "': default/echo:7002::PROXY, '" + inOut + "': default/echo:line:PROXY:PROXY", "");
        start();
        awaitOpen(out);
        awaitOpen(inOut);

        try (Socket s = new Socket("127.0.0.1", out)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            String line = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(line).isEqualTo("PROXY TCP4 127.0.0.1 127.0.0.1 " + s.getLocalPort() + " " + out + "\r\n");
        }
        try (Socket s = new Socket("127.0.0.1", inOut)) {
            s.setSoTimeout(5000);
            // as a load balancer in front of Sluice would send it
            s.getOutputStream().write("PROXY TCP4 192.0.2.7 198.51.100.1 40000 9000\r\nhello\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String line = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(line).isEqualTo("PROXY TCP4 192.0.2.7 198.51.100.1 40000 9000\r\n");
        }
        // a client without the header it must send is cut off
        try (Socket s = new Socket("127.0.0.1", inOut)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("hello there, no header here\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(s.getInputStream().readAllBytes()).isEmpty();
        }
    }

    @Test
    void withoutReadyEndpointsThePortStaysOpenAndClosesConnectionsUntilEndpointsAppear() throws Exception {
        int tcp = echo.tcpEcho("127.0.0.2");
        int udp = echo.udpEcho("127.0.0.2");
        int line = echo.firstLine("127.0.0.2");
        writeService(tcp, udp, line, null);
        int port = echo.heldTcpPort();
        writeConfigMaps("'" + port + "': default/echo:7000", "");
        start();
        awaitOpen(port);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            assertThat(s.getInputStream().read()).isEqualTo(-1); // accepted, then closed at once
        }

        writeService(tcp, udp, line, "127.0.0.2"); // the endpoint becomes ready: same port, now relayed
        // until the new table is live a connection is still closed at once (a reset, as we wrote)
        await().atMost(Duration.ofSeconds(3)).ignoreExceptions().untilAsserted(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(2000);
                assertThat(roundTrip(s, "up")).isEqualTo("up");
            }
        });
    }

    private static void awaitOpen(int port) {
        await().atMost(Duration.ofSeconds(3)).ignoreExceptions().until(() -> {
            new Socket("127.0.0.1", port).close();
            return true;
        });
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        byte[] buf = new byte[text.length()];
        InputStream in = s.getInputStream();
        int n = 0;
        while (n < buf.length) {
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /** Sends until a reply arrives (the port may still be opening; UDP has no connect to wait for). */
    private static byte[] udpRoundTrip(DatagramSocket client, int port, String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; attempt < 10; attempt++) {
            client.send(new DatagramPacket(data, data.length, new InetSocketAddress("127.0.0.1", port)));
            try {
                while (true) {
                    DatagramPacket reply = new DatagramPacket(new byte[1500], 1500);
                    client.receive(reply);
                    assertThat(reply.getPort()).isEqualTo(port); // from the service port, not the backend's
                    byte[] got = java.util.Arrays.copyOf(reply.getData(), reply.getLength());
                    if (java.util.Arrays.equals(got, data)) {
                        return got;
                    }
                    // a late reply to an earlier resend of an earlier datagram: skip it
                }
            } catch (SocketTimeoutException e) {
                // lost (UDP): send again
            }
        }
        throw new AssertionError("no reply to " + text);
    }

    private static String get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @SuppressWarnings("unused")
    private static byte[] drain(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
