package dev.sluice.gateway.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.request.Endpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamServer}'s reconciliation on loopback: round robin per connection, the next endpoint
 * after a refused connect, endpoints swapped in place for new connections only, and a port that
 * cannot be bound reported and tried again with the next table.
 */
class StreamServerTest {
    private final NioEventLoopGroup group = new NioEventLoopGroup(1);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final StreamServer server = new StreamServer(group, new StreamChannels(NioServerSocketChannel.class,
            NioSocketChannel.class, NioDatagramChannel.class), "127.0.0.1", registry, Duration.ofSeconds(5));
    private final List<java.io.Closeable> backends = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        server.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        for (java.io.Closeable s : backends) {
            s.close();
        }
    }

    /** A backend on {@code ip} that greets every connection with {@code name} and closes it. */
    private Endpoint greeter(String ip, String name) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getByName(ip), 0));
        backends.add(s);
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try (Socket c = s.accept()) {
                    c.getOutputStream().write(name.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return Endpoint.of(ip, s.getLocalPort());
    }

    /**
     * A port on 127.0.0.1 for a stream listener, held until the test ends by a socket that is bound
     * with {@code SO_REUSEADDR} but never listens: the kernel gives it to no one else (a port freed
     * and bound again later could be taken meanwhile), while Linux lets a listener that sets
     * {@code SO_REUSEADDR} too, as {@link StreamServer}'s do, bind and listen on it. Connections are
     * refused while nothing listens.
     */
    private int heldPort() throws IOException {
        Socket s = new Socket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        backends.add(s);
        return s.getLocalPort();
    }

    private static StreamTable tcp(int port, Endpoint... endpoints) {
        return new StreamTable(List.of(new StreamService(StreamProtocol.TCP, port, "default-svc-80", List.of(endpoints),
                false, false, "test")));
    }

    private static String greeting(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void roundRobinPerConnectionSkippingARefusedEndpointAndSwappingEndpointsInPlace() throws Exception {
        Endpoint a = greeter("127.0.0.2", "a");
        Endpoint b = greeter("127.0.0.3", "b");
        Endpoint dead = dev.sluice.gateway.proxy.TestBackend.deadEndpoint("127.0.0.4"); // connect refused
        int port = heldPort();
        server.apply(tcp(port, a, b, dead));
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            seen.add(greeting(port));
        }
        // strict rotation from the first endpoint; the dead one's turn goes on to the next one
        assertThat(seen).containsExactly("a", "b", "a", "b", "a", "b");

        Endpoint c = greeter("127.0.0.5", "c");
        server.apply(tcp(port, c));
        assertThat(server.listening()).containsOnlyKeys(new StreamService.Key(StreamProtocol.TCP, port));
        assertThat(greeting(port)).isEqualTo("c");
        assertThat(greeting(port)).isEqualTo("c");

        server.apply(StreamTable.EMPTY);
        assertThat(server.listening()).isEmpty();
    }

    @Test
    void aPortInUseIsReportedAndTriedAgainWithTheNextTable() throws Exception {
        Endpoint a = greeter("127.0.0.2", "a");
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = squatter.getLocalPort();
            int other = heldPort();
            StreamTable table = new StreamTable(List.of(
                    new StreamService(StreamProtocol.TCP, port, "svc", List.of(a), false, false, "test"),
                    new StreamService(StreamProtocol.TCP, other, "svc", List.of(a), false, false, "test")));
            server.apply(table);
            // the other port works although one could not be bound
            assertThat(server.listening()).containsOnlyKeys(new StreamService.Key(StreamProtocol.TCP, other));
            assertThat(greeting(other)).isEqualTo("a");
            assertThat(registry.get("sluice_stream_listen_failures").tag("port", Integer.toString(port)).counter()
                    .count()).isEqualTo(1.0);

            squatter.close();
            server.apply(table);
            assertThat(server.listening()).hasSize(2);
            await().atMost(Duration.ofSeconds(2)).until(() -> greeting(port).equals("a"));
        }
    }

    @Test
    void anOpenConnectionKeepsItsEndpointWhenTheEndpointsChange() throws Exception {
        // an echo backend that keeps the connection open
        ServerSocket echo = new ServerSocket();
        echo.bind(new InetSocketAddress("127.0.0.2", 0));
        backends.add(echo);
        Thread t = new Thread(() -> {
            try (Socket c = echo.accept()) {
                c.getInputStream().transferTo(c.getOutputStream());
            } catch (IOException e) {
                // closed
            }
        });
        t.setDaemon(true);
        t.start();
        int port = heldPort();
        server.apply(tcp(port, Endpoint.of("127.0.0.2", echo.getLocalPort())));
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write('x');
            assertThat(s.getInputStream().read()).isEqualTo('x');

            server.apply(tcp(port, greeter("127.0.0.3", "new")));
            assertThat(greeting(port)).isEqualTo("new");
            s.getOutputStream().write('y');
            assertThat(s.getInputStream().read()).isEqualTo('y'); // still relayed to the old endpoint
        }
    }
}
