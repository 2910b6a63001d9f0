package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.stream.StreamProtocol;
import dev.sluice.gateway.stream.StreamServer;
import dev.sluice.gateway.stream.StreamService;
import dev.sluice.gateway.stream.StreamTable;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TCP stream ports' half-close on every transport the proxy can run, with the stream
 * transport it picks ({@link Transport#forStreams}): a client that has sent its request and its
 * FIN still gets the whole answer, however long it takes to read it.
 */
class StreamHalfCloseTest {
    static Stream<Transport> transports() {
        return Transport.available().stream();
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aClientThatHasFinishedSendingGetsTheWholeAnswer(Transport transport) throws Exception {
        Transport streams = transport.forStreams();
        EventLoopGroup group = streams.newGroup(1);
        StreamServer server = new StreamServer(group, streams.streamChannels(), "127.0.0.1",
                new SimpleMeterRegistry(), Duration.ofSeconds(5));
        byte[] answer = new byte[8 * 1024 * 1024];
        new Random(11).nextBytes(answer);
        Socket hold = new Socket(); // the stream port, held for the listener (see StreamServerTest.heldPort)
        try (ServerSocket backend = new ServerSocket()) {
            backend.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            // answers once the request has ended (the relayed FIN): by then the client's side of the
            // relay has long been half-closed and idle
            Thread pod = new Thread(() -> {
                try (Socket s = backend.accept()) {
                    s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    s.getOutputStream().write(answer);
                    s.shutdownOutput();
                } catch (IOException e) {
                    // the test failed or ended
                }
            }, "answer-after-fin");
            pod.setDaemon(true);
            pod.start();
            hold.setReuseAddress(true);
            hold.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int port = hold.getLocalPort();
            server.apply(new StreamTable(List.of(new StreamService(StreamProtocol.TCP, port, "default-pod-7000",
                    List.of(Endpoint.of("127.0.0.2", backend.getLocalPort())), false, false, "test"))));

            try (Socket client = new Socket()) {
                // a small window: the relay's writes to the client must wait for it to read, often
                client.setReceiveBufferSize(8192);
                client.connect(new InetSocketAddress("127.0.0.1", port));
                client.setSoTimeout(20_000);
                client.getOutputStream().write("request".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                client.shutdownOutput();
                byte[] back = client.getInputStream().readAllBytes();
                assertThat(back.length).isEqualTo(answer.length);
                assertThat(back).isEqualTo(answer);
            }
        } finally {
            server.close();
            hold.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
