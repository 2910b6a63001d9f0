package dev.sluice.loadtest;

import dev.sluice.controller.cli.Main;
import dev.sluice.controller.cli.SluiceApp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes allocated by Sluice's event loop per proxied request: Sluice runs in this JVM on the
 * benchmark manifests (one event loop, access log off), {@link BenchBackend} answers, and plain
 * blocking keep-alive clients send small GETs. The figure is the event-loop threads' own
 * allocation ({@code ThreadMXBean.getThreadAllocatedBytes}) over the measured requests, so the
 * clients' and the backend's allocation do not count and the machine's load does not change it.
 *
 * <pre>{@code
 * mvn -q -DskipTests package
 * java -cp controller/target/sluice.jar:loadtest/target/classes dev.sluice.loadtest.AllocationProbe \
 *     [--requests N] [--connections C] [-- sluice flags...]
 * }</pre>
 */
public final class AllocationProbe {
    private static final String HOST = "bench.example.com";
    private static final int SLUICE_PORT = 18013;

    private AllocationProbe() {}

    public static void main(String[] args) throws Exception {
        long requests = 200_000;
        int connections = 16;
        List<String> sluiceFlags = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--requests" -> requests = Long.parseLong(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--" -> sluiceFlags.addAll(List.of(args).subList(i + 1, args.length));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            if (args[i].equals("--")) {
                break;
            }
        }
        List<String> flags = new ArrayList<>(List.of("--manifests", Path.of("loadtest/manifests").toString(),
                "--event-loops", "1", "--access-log", "off", "--http-port", String.valueOf(SLUICE_PORT),
                "--https-port", "0", "--healthz-port", "0"));
        flags.addAll(sluiceFlags);
        try (BenchBackend backend = BenchBackend.start(18080,
                List.of("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"))) {
            SluiceApp app = new SluiceApp(Main.parse(flags.toArray(String[]::new)));
            try {
                app.start();
                waitUntilRouted();
                run(connections, requests); // warm-up: JIT, pools, meters
                long before = eventLoopAllocatedBytes();
                long done = run(connections, requests);
                long after = eventLoopAllocatedBytes();
                System.out.printf("event loop allocation: %.0f bytes per request (%d requests, %d connections, %s)%n",
                        (after - before) / (double) done, done, connections, String.join(" ", sluiceFlags));
            } finally {
                app.close();
            }
        }
        System.exit(0);
    }

    private static long eventLoopAllocatedBytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("sluice-loop")) {
                sum += threads.getThreadAllocatedBytes(t.getId());
            }
        }
        if (sum == 0) {
            throw new IllegalStateException("no sluice-loop thread found");
        }
        return sum;
    }

    private static void waitUntilRouted() throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket("127.0.0.1", SLUICE_PORT)) {
                if (exchange(s.getOutputStream(), s.getInputStream()) == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("Sluice never answered 200 for " + HOST);
    }

    /** {@code total} requests spread over {@code connections} keep-alive connections; returns how many got 200. */
    private static long run(int connections, long total) throws InterruptedException {
        AtomicLong ok = new AtomicLong();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            long share = total / connections;
            Thread t = new Thread(() -> {
                try (Socket s = new Socket("127.0.0.1", SLUICE_PORT)) {
                    s.setTcpNoDelay(true);
                    OutputStream out = s.getOutputStream();
                    InputStream in = new java.io.BufferedInputStream(s.getInputStream());
                    for (long i = 0; i < share; i++) {
                        if (exchange(out, in) == 200) {
                            ok.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "probe-client-" + c);
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join();
        }
        return ok.get();
    }

    private static final byte[] REQUEST = ("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    /** One request; reads the response (Content-Length framed) and returns its status. */
    private static int exchange(OutputStream out, InputStream in) throws IOException {
        out.write(REQUEST);
        out.flush();
        StringBuilder head = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            head.append((char) b);
            if (head.length() >= 4 && head.charAt(head.length() - 1) == '\n' && head.charAt(head.length() - 3) == '\n') {
                break;
            }
        }
        if (b < 0) {
            throw new IOException("connection closed");
        }
        String text = head.toString();
        int status = Integer.parseInt(text.substring(9, 12));
        int length = 0;
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        in.readNBytes(length);
        return status;
    }
}
