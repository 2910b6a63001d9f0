package dev.sluice.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Functional checks of the benchmark backend (no timing: benchmarks run only from bench.sh). */
class BenchBackendTest {
    private BenchBackend backend;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws Exception {
        backend = BenchBackend.start(0, List.of("127.0.0.1"));
        address = backend.addresses().get(0);
    }

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void answersKeepAliveRequestsWith128ByteBodies() throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write("GET /x HTTP/1.1\r\nHost: bench.example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 128\r\n")
                        .doesNotContainIgnoringCase("connection: close");
                assertThat(in.readNBytes(128)).isEqualTo(BenchBackend.BODY);
            }
        }
    }

    @Test
    void largePathsGetAOneMebibyteBodyAndUploadsAreReadFirst() throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("GET /large HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readHead(in)).containsIgnoringCase("content-length: 1048576\r\n");
            byte[] body = in.readNBytes(BenchBackend.LARGE_BODY_SIZE);
            assertThat(body).hasSize(1 << 20);
            assertThat(body[0]).isEqualTo((byte) 'a');
            assertThat(body[(1 << 20) - 1]).isEqualTo((byte) ('a' + ((1 << 20) - 1) % 26));
            byte[] upload = new byte[65536];
            out.write(("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(upload);
            assertThat(readHead(in)).containsIgnoringCase("content-length: 128\r\n");
            assertThat(in.readNBytes(128)).isEqualTo(BenchBackend.BODY);
        }
    }

    @Test
    void answersPipelinedRequestsInOneGo() throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5000);
            String req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
            s.getOutputStream().write((req + req).getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            for (int i = 0; i < 2; i++) {
                assertThat(readHead(in)).startsWith("HTTP/1.1 200 OK");
                assertThat(in.readNBytes(128)).isEqualTo(BenchBackend.BODY);
            }
        }
    }

    @Test
    void closesAfterConnectionClose() throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertThat(readHead(in)).containsIgnoringCase("connection: close\r\n");
            assertThat(in.readNBytes(128)).isEqualTo(BenchBackend.BODY);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        return head.toString(StandardCharsets.US_ASCII);
    }
}
