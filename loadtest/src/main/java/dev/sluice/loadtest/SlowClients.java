package dev.sluice.loadtest;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Slow and many clients against one Sluice process on loopback, bounded in time (about 2
 * minutes): a normal client's latency alone, then beside 5,000 slowloris connections (a request
 * head trickled a header line every 10 s), how many of those the header deadline has closed after
 * 65 s, and the gateway's RSS and live heap idle, with 5,000 slowloris and with 10,000 idle
 * connections. Prints a Markdown table for {@code docs/benchmarks.md}.
 *
 * <pre>{@code
 * mvn -q -o -pl loadtest -am -DskipTests package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp loadtest/target/classes:$(cat /tmp/cp.txt) dev.sluice.loadtest.SlowClients
 * }</pre>
 *
 * The gateway runs in a child JVM ({@code SlowClients target}, {@code -Xmx512m}, 2 event loops,
 * default limits: {@code client_header_timeout} 60 s) so that its memory is its own; it answers
 * {@code stats} on stdin with its RSS and its heap after a full GC.
 */
public final class SlowClients {
    static final String HOST = "bench.example";
    static final int SLOWLORIS = 5_000;
    static final int IDLE = 10_000;

    private SlowClients() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("target")) {
            target();
            return;
        }
        Process target = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), SlowClients.class.getName(), "target")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader fromTarget = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.US_ASCII));
        PrintWriter toTarget = new PrintWriter(target.getOutputStream(), true);
        int port = Integer.parseInt(fromTarget.readLine().split(" ")[1]);
        List<String> rows = new ArrayList<>();
        try {
            rows.add(row("idle, no extra connections", latency(port), stats(toTarget, fromTarget), "-"));
            List<SocketChannel> slow = new ArrayList<>(SLOWLORIS);
            for (int i = 0; i < SLOWLORIS; i++) {
                SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                ch.write(ByteBuffer.wrap(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n").getBytes(StandardCharsets.US_ASCII)));
                slow.add(ch);
            }
            long opened = System.nanoTime();
            trickle(slow);
            rows.add(row(SLOWLORIS + " slowloris connections open", latency(port), stats(toTarget, fromTarget),
                    open(slow) + " open"));
            while (System.nanoTime() - opened < 65_000_000_000L) {
                Thread.sleep(10_000);
                trickle(slow);
            }
            rows.add(row("65 s after they opened", latency(port), stats(toTarget, fromTarget), open(slow) + " open"));
            for (SocketChannel ch : slow) {
                ch.close();
            }
            List<SocketChannel> idle = new ArrayList<>(IDLE);
            for (int i = 0; i < IDLE; i++) {
                idle.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", port)));
            }
            Thread.sleep(2000);
            rows.add(row(IDLE + " idle connections (no byte sent)", latency(port), stats(toTarget, fromTarget),
                    open(idle) + " open"));
            for (SocketChannel ch : idle) {
                ch.close();
            }
        } finally {
            toTarget.println("quit");
            target.destroy();
        }
        System.out.println("| situation | normal client p50 ms | p99 ms | max ms | errors | gateway RSS MiB | live heap MiB | extra connections |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private static String row(String what, Latency l, String[] stats, String extra) {
        return String.format("| %s | %.2f | %.2f | %.2f | %d | %s | %s | %s |", what, l.histogram.getValueAtPercentile(50) / 1000.0,
                l.histogram.getValueAtPercentile(99) / 1000.0, l.histogram.getMaxValue() / 1000.0, l.errors, stats[0],
                stats[1], extra);
    }

    /** Sends one more header line on each slow connection (never the end of the head). */
    private static void trickle(List<SocketChannel> slow) {
        for (SocketChannel ch : slow) {
            try {
                if (ch.isOpen()) {
                    ch.write(ByteBuffer.wrap("X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII)));
                }
            } catch (IOException e) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closed anyway
                }
            }
        }
    }

    /** How many of {@code channels} the gateway has not closed: a non-blocking read sees EOF on the closed ones. */
    private static int open(List<SocketChannel> channels) throws IOException {
        int open = 0;
        ByteBuffer b = ByteBuffer.allocate(64);
        for (SocketChannel ch : channels) {
            if (!ch.isOpen()) {
                continue;
            }
            ch.configureBlocking(false);
            try {
                b.clear();
                if (ch.read(b) >= 0) {
                    open++;
                }
            } catch (IOException e) {
                // reset: closed
            }
            ch.configureBlocking(true);
        }
        return open;
    }

    record Latency(Histogram histogram, int errors) {}

    /** 2,000 sequential GETs of one keep-alive client, in microseconds. */
    private static Latency latency(int port) throws IOException {
        Histogram h = new Histogram(60_000_000L, 3);
        int errors = 0;
        byte[] request = ("GET /x HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 2_000; i++) {
                long start = System.nanoTime();
                out.write(request);
                out.flush();
                if (!readResponse(in)) {
                    errors++;
                }
                h.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
            }
        }
        return new Latency(h, errors);
    }

    /** Reads one response with a Content-Length body; {@code true} for a 200. */
    private static boolean readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
                break;
            }
        }
        String text = head.toString();
        int at = text.toLowerCase().indexOf("content-length:");
        int length = at < 0 ? 0 : Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).trim());
        in.readNBytes(length);
        return text.startsWith("HTTP/1.1 200");
    }

    private static String[] stats(PrintWriter to, BufferedReader from) throws IOException {
        to.println("stats");
        String[] parts = from.readLine().split(" ");
        return new String[] {parts[1], parts[2]};
    }

    /** The child: a backend and a gateway on loopback, answering {@code stats} and {@code quit} on stdin. */
    private static void target() throws Exception {
        BenchBackend backend = BenchBackend.start(0, List.of("127.0.0.2"));
        InetSocketAddress b = backend.addresses().get(0);
        Route route = new Route(new PathMatcher.Prefix("/"), "default/bench",
                Backend.of("default-bench-80", List.of(new Endpoint(b.getHostString(), b.getPort()))), RouteOptions.DEFAULTS);
        RouteTableHolder routes = new RouteTableHolder();
        routes.publish(new RouteTable(Map.of(HOST, HostRoutes.of(HOST, List.of(route), false, Route.notFound(), null)),
                Map.of(), HostRoutes.of("", List.of(), false, Route.notFound(), null)));
        GatewayServer server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(2).build();
        server.start();
        System.out.println("PORT " + server.httpPort());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String line;
        while ((line = in.readLine()) != null && !line.equals("quit")) {
            if (line.equals("stats")) {
                System.gc();
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                long rssKb = 0;
                for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (l.startsWith("VmRSS:")) {
                        rssKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    }
                }
                System.out.printf("STATS %d %d%n", rssKb / 1024, heap / (1024 * 1024));
                System.out.flush();
            }
        }
        server.close();
        backend.close();
        System.exit(0);
    }
}
