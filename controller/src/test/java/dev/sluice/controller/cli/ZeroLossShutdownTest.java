package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling update as Kubernetes runs it, against a real {@code sluice} process: steady
 * keep-alive and new-connection load, SIGTERM, and not one request lost, five times over.
 *
 * <p>The load follows the replica's readiness the way a load balancer or kube-proxy does: a
 * prober reads {@code /readyz} every 200 ms; after two failures in a row (the Deployment's
 * readinessProbe, scaled down) no new connection is opened to the replica. Keep-alive clients go on with their connections until a response says
 * {@code Connection: close} (or the connection closes between requests), as HTTP clients do. A
 * request sent on a reused connection that closes before any byte of the response came back is
 * retried once, on the next replica (RFC 9112 §9.3.1: clients retry idempotent requests then;
 * browsers, Go's and Java's clients do) — that race of an idle-connection close exists with every
 * HTTP/1.1 server. Everything else is a failure: a refused connection, a reset mid-response, a
 * status other than 200, a truncated body.
 */
class ZeroLossShutdownTest {
    private static final Pattern STARTED = Pattern.compile("HTTP port (\\d+), HTTPS port (\\d+), admin port (\\d+)");
    private static final int KEEP_ALIVE_CLIENTS = 4;
    private static final int NEW_CONNECTION_CLIENTS = 2;

    @TempDir
    Path dir;

    private HttpServer backend;
    private final HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private Process sluice;

    @BeforeEach
    void backendAndManifests() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        backend.setExecutor(Executors.newFixedThreadPool(16));
        backend.createContext("/", ex -> {
            String q = ex.getRequestURI().getQuery();
            if (q != null && q.startsWith("delay=")) {
                try {
                    Thread.sleep(Long.parseLong(q.substring(6)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = "served\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        Files.writeString(dir.resolve("app.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: app, namespace: web}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: app, namespace: web}
                subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: %d}]}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: app, namespace: web}
                spec:
                  ingressClassName: nginx
                  rules:
                    - host: app.test
                      http:
                        paths:
                          - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
                """.formatted(backend.getAddress().getPort()));
    }

    @AfterEach
    void stop() {
        if (sluice != null && sluice.isAlive()) {
            sluice.destroyForcibly();
        }
        backend.stop(0);
        ((java.util.concurrent.ExecutorService) backend.getExecutor()).shutdownNow();
    }

    @Test
    void sigtermUnderSteadyLoadLosesNoRequestFiveTimesOver() throws Exception {
        for (int round = 1; round <= 5; round++) {
            Outcome o = rollOnce();
            assertThat(o.failures).as("round %d: failed requests", round).isEmpty();
            assertThat(o.exitCode).as("round %d: exit code", round).isZero();
            assertThat(o.slowRequest).as("round %d: the request in flight when the listeners closed", round)
                    .isEqualTo("200 served");
            assertThat(o.servedAfterSigterm).as("round %d: requests served after SIGTERM", round).isPositive();
            assertThat(o.newConnectionsAfterSigterm)
                    .as("round %d: new connections accepted during the grace period", round).isPositive();
            assertThat(o.toldToClose).as("round %d: keep-alive connections ended by Connection: close", round)
                    .isPositive();
        }
    }

    private Outcome rollOnce() throws Exception {
        Path log = Files.createTempFile(dir, "sluice", ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--manifests", dir.resolve("app.yaml").toString(), "--bind-address=127.0.0.1",
                "--http-port=0", "--https-port=0", "--healthz-port=0", "--event-loops=2", "--access-log=off",
                "--shutdown-grace-period=1s", "--shutdown-timeout=20s")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SLUICE_LOG_LEVEL", "INFO");
        long launched = System.nanoTime();
        sluice = pb.start();
        int[] ports = new int[3];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
            Matcher m = STARTED.matcher(Files.readString(log));
            if (!m.find()) {
                assertThat(sluice.isAlive()).as("sluice exited: %s", Files.readString(log)).isTrue();
                return false;
            }
            for (int i = 0; i < 3; i++) {
                ports[i] = Integer.parseInt(m.group(i + 1));
            }
            return true;
        });
        int http = ports[0];
        int adminPort = ports[2];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> readyz(adminPort) == 200);

        long ready = System.nanoTime();
        Load load = new Load(http, backend.getAddress().getPort());
        AtomicBoolean proberOn = new AtomicBoolean(true);
        Thread prober = new Thread(() -> {
            int failed = 0;
            while (proberOn.get()) {
                failed = readyz(adminPort) == 200 ? 0 : failed + 1;
                if (failed == 2) {
                    load.inRotation.set(false);
                    return;
                }
                sleep(200);
            }
        }, "readyz-prober");
        prober.start();
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < KEEP_ALIVE_CLIENTS; i++) {
            clients.add(new Thread(load::keepAliveClient, "keep-alive-" + i));
        }
        for (int i = 0; i < NEW_CONNECTION_CLIENTS; i++) {
            clients.add(new Thread(load::newConnectionClient, "new-connection-" + i));
        }
        clients.forEach(Thread::start);
        await().atMost(Duration.ofSeconds(10)).until(() -> load.served.get() >= 50);

        long sigterm = System.nanoTime();
        load.sigtermAt = sigterm;
        sluice.destroy(); // SIGTERM
        // a request that is still running when the grace period ends and the listeners close
        Thread slow = new Thread(() -> load.slowRequest(1500), "slow");
        slow.start();

        for (Thread t : clients) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(t.isAlive()).as("%s still running", t.getName()).isFalse();
        }
        slow.join(TimeUnit.SECONDS.toMillis(30));
        proberOn.set(false);
        prober.join();
        assertThat(sluice.waitFor(30, TimeUnit.SECONDS)).as("sluice exits").isTrue();
        long exited = System.nanoTime();
        Outcome o = new Outcome(List.copyOf(load.failures), sluice.exitValue(), load.slowResult,
                load.servedAfterSigterm.get(), load.newConnectionsAfterSigterm.get(), load.toldToClose.get());
        System.out.printf(Locale.ROOT, "drain round: %d served (%d after SIGTERM, %d on new connections), %d retried"
                        + " on the next replica, %d keep-alive connections told to close, %d failed, exit %d;"
                        + " ready after %d ms, exit %d ms after SIGTERM%n",
                load.served.get(), o.servedAfterSigterm, o.newConnectionsAfterSigterm, load.retried.get(),
                o.toldToClose, o.failures.size(), o.exitCode, (ready - launched) / 1_000_000,
                (exited - sigterm) / 1_000_000);
        return o;
    }

    private int readyz(int adminPort) {
        try {
            return admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Outcome(List<String> failures, int exitCode, String slowRequest, int servedAfterSigterm,
                           int newConnectionsAfterSigterm, int toldToClose) {}

    /** The clients and what happened to their requests. */
    private static final class Load {
        final int sluicePort;
        final int nextReplicaPort;
        final AtomicBoolean inRotation = new AtomicBoolean(true);
        final AtomicInteger served = new AtomicInteger();
        final AtomicInteger servedAfterSigterm = new AtomicInteger();
        final AtomicInteger newConnectionsAfterSigterm = new AtomicInteger();
        final AtomicInteger retried = new AtomicInteger();
        final AtomicInteger toldToClose = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        volatile long sigtermAt = Long.MAX_VALUE;
        volatile String slowResult = "not sent";

        Load(int sluicePort, int nextReplicaPort) {
            this.sluicePort = sluicePort;
            this.nextReplicaPort = nextReplicaPort;
        }

        private boolean afterSigterm() {
            return System.nanoTime() > sigtermAt;
        }

        void keepAliveClient() {
            Socket conn = null;
            int sent = 0;
            try {
                while (true) {
                    if (conn == null) {
                        if (!inRotation.get()) {
                            return; // the load balancer sends this client elsewhere now
                        }
                        conn = connect(sluicePort);
                        sent = 0;
                    }
                    String request = "GET /ka?delay=" + (sent % 5 == 0 ? 20 : 0) + " HTTP/1.1\r\nHost: app.test\r\n\r\n";
                    Response r;
                    try {
                        r = exchange(conn, request);
                    } catch (IOException e) {
                        failures.add("keep-alive request " + (sent + 1) + " of its connection: " + e);
                        close(conn);
                        conn = null;
                        continue;
                    }
                    if (r == null) {
                        // closed before any byte of the response: retryable
                        close(conn);
                        conn = null;
                        if (sent == 0) {
                            failures.add("a fresh connection closed without an answer");
                            continue;
                        }
                        retried.incrementAndGet();
                        retryOnNextReplica(request);
                        continue;
                    }
                    sent++;
                    count(r, "keep-alive");
                    if (r.close) {
                        if (afterSigterm()) {
                            toldToClose.incrementAndGet();
                        }
                        close(conn);
                        conn = null;
                    }
                }
            } catch (IOException e) {
                failures.add("keep-alive connect: " + e);
            } finally {
                if (conn != null) {
                    close(conn);
                }
            }
        }

        void newConnectionClient() {
            while (inRotation.get()) {
                boolean late = afterSigterm();
                try (Socket s = connect(sluicePort)) {
                    Response r = exchange(s, "GET /new HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
                    if (r == null) {
                        failures.add("new connection closed without an answer");
                    } else {
                        count(r, "new connection");
                        if (late && r.status == 200) {
                            newConnectionsAfterSigterm.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    failures.add("new connection: " + e);
                }
            }
        }

        void slowRequest(long delayMillis) {
            try (Socket s = connect(sluicePort)) {
                Response r = exchange(s, "GET /slow?delay=" + delayMillis + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
                slowResult = r == null ? "no answer" : r.status + " " + r.body.trim();
            } catch (IOException e) {
                slowResult = e.toString();
            }
        }

        private void retryOnNextReplica(String request) {
            try (Socket s = connect(nextReplicaPort)) {
                Response r = exchange(s, request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
                if (r == null || r.status != 200) {
                    failures.add("retry on the next replica: " + (r == null ? "no answer" : r.status));
                }
            } catch (IOException e) {
                failures.add("retry on the next replica: " + e);
            }
        }

        private void count(Response r, String what) {
            if (r.status != 200 || !r.body.equals("served\n")) {
                failures.add(what + ": " + r.status + " " + r.body.trim());
                return;
            }
            served.incrementAndGet();
            if (afterSigterm()) {
                servedAfterSigterm.incrementAndGet();
            }
        }

        private static Socket connect(int port) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(10_000);
            s.setTcpNoDelay(true);
            return s;
        }

        private static void close(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing after a failure
            }
        }

        /**
         * Sends one request and reads its response (Content-Length body); {@code null} when the
         * connection closed or was reset before the first byte of the response.
         */
        private static Response exchange(Socket s, String request) throws IOException {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            try {
                out.write(request.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                return null; // the peer had closed the connection: nothing of the request was taken
            }
            int first;
            try {
                first = in.read();
            } catch (java.net.SocketException e) {
                return null; // reset before any response byte
            }
            if (first < 0) {
                return null;
            }
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            head.write(first);
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("connection closed in the response head");
                }
                head.write(c);
            }
            String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            int length = 0;
            boolean close = false;
            for (String line : lines) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    close = true;
                }
            }
            byte[] body = in.readNBytes(length);
            if (body.length < length) {
                throw new IOException("body truncated: " + body.length + " of " + length + " bytes");
            }
            return new Response(status, new String(body, StandardCharsets.UTF_8), close);
        }
    }

    private record Response(int status, String body, boolean close) {}
}
