package dev.sluice.loadtest.controlplane;

import dev.sluice.controller.cli.Main;
import dev.sluice.controller.cli.SluiceApp;
import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Endpoint churn under load at control-plane scale: Sluice runs in this JVM in manifest mode on
 * {@link IngressFleet} (10,000 Ingresses by default) plus one Ingress {@code churn.example.com} →
 * Service {@code churn}, whose EndpointSlice (a file of its own) is rewritten every
 * {@code --interval-ms} (100): each change removes the slice's oldest endpoint and adds a new
 * Pod, {@code --ready} (3) endpoints at a time.
 *
 * <p>The Pods are real loopback HTTP servers, each on an address of its own (127.1.0.1, …, never
 * reused, so a stale table can never reach a new Pod early), that name themselves in an
 * {@code X-Pod} header. A removed Pod keeps serving for {@code --grace-ms} (1000), like a
 * terminating Pod's grace period, then stops listening and closes its connections (so a proxy
 * still sending to it fails). The first {@code --warmup-seconds} (30) of churn warm the JIT
 * and are not counted.
 *
 * <p>{@code --clients} (4) keep-alive clients send GETs to {@code churn.example.com} through
 * Sluice as fast as it answers for the whole run. Reported: failed requests (anything but a 200
 * or an I/O error — must be 0), and per change the time from the slice file's write to the first
 * response served by the added Pod (median, p99, worst), with the machine's load average.
 *
 * <pre>{@code
 * mvn -q -o -pl loadtest -am -DskipTests package
 * java -Xmx2g -cp controller/target/sluice.jar:loadtest/target/classes \
 *     dev.sluice.loadtest.controlplane.EndpointChurnRunner [--ingresses 10000] [--seconds 30] [--interval-ms 100]
 * }</pre>
 */
public final class EndpointChurnRunner {
    private static final String HOST = "churn.example.com";
    private static final String NS = "team-0";
    private static final int POD_PORT = 18090;
    private static final int SLUICE_PORT = 18014;

    private EndpointChurnRunner() {}

    public static void main(String[] args) throws Exception {
        int ingresses = 10_000;
        int seconds = 30;
        int warmupSeconds = 30;
        long intervalMs = 100;
        int ready = 3;
        long graceMs = 1000;
        int clients = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ingresses" -> ingresses = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--interval-ms" -> intervalMs = Long.parseLong(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(args[++i]);
                case "--ready" -> ready = Integer.parseInt(args[++i]);
                case "--grace-ms" -> graceMs = Long.parseLong(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("sluice-churn");
        writeFleet(dir, ingresses);
        Pods pods = new Pods();
        Deque<Integer> inSlice = new ArrayDeque<>();
        for (int p = 0; p < ready; p++) {
            pods.listen(p);
            inSlice.add(p);
        }
        writeSlice(dir, inSlice);
        SluiceApp app = new SluiceApp(Main.parse(new String[] {"--manifests", dir.toString(), "--access-log", "off",
                "--http-port", String.valueOf(SLUICE_PORT), "--https-port", "0", "--healthz-port", "0"}));
        long startNanos = System.nanoTime();
        app.start();
        waitUntilServed(pods.name(0));
        System.out.printf("Sluice serving %d Ingresses after %.1f s%n", ingresses + ingresses / 100 + 1,
                (System.nanoTime() - startNanos) / 1e9);

        Map<String, Long> awaiting = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> load(running, awaiting, latencies, ok, failed, failures,
                    () -> liveEndpoints(app.routes(), pods)), "churn-client-" + c);
            t.start();
            threads.add(t);
        }
        int warmupChanges = (int) (warmupSeconds * 1000 / intervalMs);
        int changes = (int) (seconds * 1000 / intervalMs);
        long okBefore = 0;
        long failedBefore = 0;
        double[] loadBefore = null;
        long t0 = System.nanoTime();
        long measuredFrom = t0;
        for (int k = 0; k < warmupChanges + changes; k++) {
            if (k == warmupChanges) {
                // the JIT has compiled the rebuild path; what came before is not counted
                Thread.sleep(3000);
                latencies.clear();
                awaiting.clear();
                failures.clear();
                failuresByLiveEndpoints.clear();
                okBefore = ok.get();
                failedBefore = failed.get();
                loadBefore = TableBuildBenchmark.loadAverage();
                t0 = System.nanoTime() - k * intervalMs * 1_000_000;
                measuredFrom = System.nanoTime();
            }
            long due = t0 + k * intervalMs * 1_000_000;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            int removed = inSlice.removeFirst();
            int added = ready + k; // a new Pod (and address) every time: a stale table cannot reach it
            pods.listen(added);
            inSlice.addLast(added);
            awaiting.put(pods.name(added), System.nanoTime());
            writeSlice(dir, inSlice);
            pods.stopAfter(removed, graceMs);
        }
        Thread.sleep(3000); // the last changes reach traffic
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - measuredFrom) / 1e9;
        double[] loadAfter = TableBuildBenchmark.loadAverage();
        app.close();
        pods.close();

        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf("load average %.2f %.2f %.2f (before) / %.2f %.2f %.2f (after), %d CPUs, %s%n",
                loadBefore[0], loadBefore[1], loadBefore[2], loadAfter[0], loadAfter[1], loadAfter[2],
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        long failedMeasured = failed.get() - failedBefore;
        System.out.printf("%d endpoint changes every %d ms (after %d warm-up changes), grace %d ms, %d clients: "
                        + "%d requests (%.0f req/s), %d failed%n",
                changes, intervalMs, warmupChanges, graceMs, clients, ok.get() - okBefore + failedMeasured,
                (ok.get() - okBefore) / elapsed, failedMeasured);
        failures.stream().limit(10).forEach(f -> System.out.println("  failure: " + f));
        System.out.println("failures by the live table's churn endpoints still listening when the failure was seen: "
                + new java.util.TreeMap<>(failuresByLiveEndpoints));
        System.out.printf("change -> first request served by the added Pod: %d of %d seen; median %.1f ms, p90 %.1f ms, "
                        + "p99 %.1f ms, worst %.1f ms%n",
                sorted.length, changes, quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99),
                quantile(sorted, 1.0));
        System.exit(failedMeasured == 0 ? 0 : 1);
    }

    private static double quantile(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, index)] / 1e6;
    }

    private static void writeFleet(Path dir, int ingresses) throws IOException {
        ClusterState fleet = IngressFleet.build(ingresses);
        KubernetesSerialization yaml = new KubernetesSerialization();
        StringBuilder out = new StringBuilder();
        for (HasMetadata o : IngressFleet.objects(fleet)) {
            out.append(yaml.asYaml(o)).append('\n');
        }
        // newest of all, so no fleet Ingress shadows it
        out.append(yaml.asYaml(IngressFleet.service(NS, "churn"))).append('\n');
        out.append(yaml.asYaml(new IngressBuilder()
                .withNewMetadata().withNamespace(NS).withName("churn")
                .withAnnotations(Map.of("kubernetes.io/ingress.class", "nginx"))
                .withCreationTimestamp("2027-01-01T00:00:00Z").endMetadata()
                .withNewSpec().addNewRule().withHost(HOST).withNewHttp()
                .addNewPath().withPath("/").withPathType("Prefix")
                .withNewBackend().withNewService().withName("churn").withNewPort().withNumber(80).endPort()
                .endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build()))
                .append('\n');
        Files.writeString(dir.resolve("fleet.yaml"), out);
    }

    /** Replaces the churn Service's EndpointSlice file in one rename, so the watcher never reads half a file. */
    private static void writeSlice(Path dir, Deque<Integer> pods) throws IOException {
        List<String> ips = pods.stream().map(Pods::address).toList();
        String text = new KubernetesSerialization().asYaml(IngressFleet.slice(NS, "churn-1", "churn", POD_PORT, ips));
        Path tmp = dir.resolve(".churn-slice.yaml.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, dir.resolve("churn-slice.yaml"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static void waitUntilServed(String pod) throws InterruptedException {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", SLUICE_PORT)) {
                Response r = exchange(s.getOutputStream(), new BufferedInputStream(s.getInputStream()));
                if (r.status() == 200 && pod.equals(r.pod())) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("Sluice never routed " + HOST + " to " + pod);
    }

    /** Failures counted by {@link #liveEndpoints} at the time each was seen. */
    private static final Map<String, AtomicLong> failuresByLiveEndpoints = new ConcurrentHashMap<>();

    /**
     * How many of the live table's endpoints for the churn host were still listening, as
     * "{@code n of m listening}": {@code 0 of 3} means every endpoint the table offered had stopped
     * (a table too old for the grace period; no proxy retry could help), more means a retry on
     * another endpoint could have served the request.
     */
    private static String liveEndpoints(dev.sluice.gateway.route.RouteTableHolder holder, Pods pods) {
        var host = holder.current().findHost(HOST);
        var split = host == null || host.routes().isEmpty() ? null : host.routes().get(0).split();
        if (split == null) {
            return "no route";
        }
        var endpoints = split.mainline().backend().endpoints();
        long live = endpoints.stream().filter(e -> pods.listening(e.address())).count();
        return live + " of " + endpoints.size() + " listening";
    }

    private static void load(AtomicBoolean running, Map<String, Long> awaiting, ConcurrentLinkedQueue<Long> latencies,
            AtomicLong ok, AtomicLong failed, ConcurrentLinkedQueue<String> failures,
            java.util.function.Supplier<String> liveEndpoints) {
        while (running.get()) {
            try (Socket s = new Socket("127.0.0.1", SLUICE_PORT)) {
                s.setTcpNoDelay(true);
                s.setSoTimeout(10_000); // a response that never comes is a failed request
                OutputStream out = s.getOutputStream();
                InputStream in = new BufferedInputStream(s.getInputStream());
                while (running.get()) {
                    Response r = exchange(out, in);
                    if (r.status() != 200) {
                        failed.incrementAndGet();
                        String live = liveEndpoints.get();
                        failuresByLiveEndpoints.computeIfAbsent(live, k -> new AtomicLong()).incrementAndGet();
                        failures.add("status " + r.status() + " (live table: " + live + ")");
                        continue;
                    }
                    ok.incrementAndGet();
                    Long since = awaiting.remove(r.pod());
                    if (since != null) {
                        latencies.add(System.nanoTime() - since);
                    }
                }
            } catch (IOException e) {
                failed.incrementAndGet();
                failures.add(e.toString());
            }
        }
    }

    private record Response(int status, String pod) {}

    private static final byte[] REQUEST =
            ("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    /** One keep-alive request; reads the Content-Length-framed response. */
    private static Response exchange(OutputStream out, InputStream in) throws IOException {
        out.write(REQUEST);
        out.flush();
        StringBuilder head = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            head.append((char) b);
            int n = head.length();
            if (n >= 4 && head.charAt(n - 1) == '\n' && head.charAt(n - 2) == '\r' && head.charAt(n - 3) == '\n') {
                break;
            }
        }
        if (b < 0) {
            throw new IOException("connection closed by Sluice before a response");
        }
        String[] lines = head.toString().split("\r\n");
        int status = Integer.parseInt(lines[0].substring(9, 12));
        int length = 0;
        String pod = null;
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            if (name.equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(line.substring(colon + 1).trim());
            } else if (name.equalsIgnoreCase("x-pod")) {
                pod = line.substring(colon + 1).trim();
            }
        }
        if (in.readNBytes(length).length != length) {
            throw new IOException("response body cut short");
        }
        return new Response(status, pod);
    }

    /** The Pods: one HTTP server per loopback address, started and stopped one by one. */
    private static final class Pods implements AutoCloseable {
        private final EventLoopGroup group = new NioEventLoopGroup(1);
        // Pods are started by the main thread and stopped on the event loop; no lock, the loop must not block
        private final Map<Integer, Channel> listeners = new ConcurrentHashMap<>();
        private final Map<Integer, ChannelGroup> connections = new ConcurrentHashMap<>();

        /** Pod {@code k}'s own loopback address, 127.1.0.1 onwards (the kernel answers on all of 127/8). */
        static String address(int pod) {
            return "127.1." + (pod / 250) + "." + (pod % 250 + 1);
        }

        String name(int pod) {
            return "pod-" + (pod + 1);
        }

        /** Whether the Pod at {@code address} ({@link #address}) still listens. */
        boolean listening(String address) {
            String[] octets = address.split("\\.");
            return listeners.containsKey(Integer.parseInt(octets[2]) * 250 + Integer.parseInt(octets[3]) - 1);
        }

        void listen(int pod) throws InterruptedException {
            String name = name(pod);
            ChannelGroup open = connections.computeIfAbsent(pod, p -> new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
            listeners.put(pod, new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            open.add(ch);
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                    HttpResponseStatus.OK, Unpooled.wrappedBuffer(
                                                            name.getBytes(StandardCharsets.US_ASCII)));
                                            res.headers().set("X-Pod", name)
                                                    .setInt(HttpHeaderNames.CONTENT_LENGTH, name.length());
                                            ctx.writeAndFlush(res);
                                        }
                                    });
                        }
                    })
                    .bind(new InetSocketAddress(address(pod), POD_PORT)).sync().channel());
        }

        /** Like a terminating Pod: serves on for {@code graceMs}, then stops listening and drops its connections. */
        void stopAfter(int pod, long graceMs) {
            group.schedule(() -> stop(pod), graceMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        private void stop(int pod) {
            Channel listener = listeners.remove(pod);
            if (listener != null) {
                listener.close(); // runs on the Pods' event loop: never wait here
                connections.remove(pod).close();
            }
        }

        @Override
        public void close() {
            for (Integer pod : List.copyOf(listeners.keySet())) {
                stop(pod);
            }
            // the listeners close on the event loop; shutting it down waits for that
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

}
