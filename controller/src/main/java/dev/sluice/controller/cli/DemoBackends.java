package dev.sluice.controller.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Pods of the seed tutorial, played by small in-process HTTP servers on loopback addresses:
 * {@code user-v1} × 3 on 127.0.0.11–13 and {@code pay-v1} × 1 on 127.0.0.21, each on a free
 * port. Every answer names the Pod and echoes the request line and headers it received, so a
 * {@code curl} through Sluice shows where the request went and what the proxy sent.
 *
 * <p>Linux routes all of 127.0.0.0/8 to the loopback interface; where binding such an address
 * fails (macOS has only 127.0.0.1 by default), the Pod falls back to 127.0.0.1.
 */
final class DemoBackends implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DemoBackends.class);

    /**
     * One demo Pod.
     *
     * @param app     the Deployment ({@code user-v1})
     * @param name    the Pod name ({@code user-v1-1})
     * @param service the Service that selects it ({@code user-service-v1})
     * @param address where it listens
     */
    record Pod(String app, String name, String service, InetSocketAddress address) {
        String ip() {
            return address.getAddress().getHostAddress();
        }

        int port() {
            return address.getPort();
        }
    }

    private final List<HttpServer> servers;
    private final List<Pod> pods;

    private DemoBackends(List<HttpServer> servers, List<Pod> pods) {
        this.servers = servers;
        this.pods = List.copyOf(pods);
    }

    /** Starts the four Pods; on failure nothing is left running. */
    static DemoBackends start() throws IOException {
        List<HttpServer> servers = new ArrayList<>();
        List<Pod> pods = new ArrayList<>();
        try {
            String[][] plan = {
                {"user-v1", "user-v1-1", "user-service-v1", "127.0.0.11"},
                {"user-v1", "user-v1-2", "user-service-v1", "127.0.0.12"},
                {"user-v1", "user-v1-3", "user-service-v1", "127.0.0.13"},
                {"pay-v1", "pay-v1-1", "pay-service-v1", "127.0.0.21"},
            };
            for (String[] p : plan) {
                HttpServer server = bind(p[3]);
                Pod pod = new Pod(p[0], p[1], p[2], server.getAddress());
                server.createContext("/", exchange -> answer(pod, exchange));
                server.start();
                servers.add(server);
                pods.add(pod);
            }
        } catch (IOException | RuntimeException e) {
            servers.forEach(s -> s.stop(0));
            throw e;
        }
        return new DemoBackends(servers, pods);
    }

    private static HttpServer bind(String ip) throws IOException {
        try {
            return HttpServer.create(new InetSocketAddress(InetAddress.getByName(ip), 0), 50);
        } catch (IOException e) {
            log.warn("demo backend cannot listen on {} ({}); using 127.0.0.1 instead", ip, e.getMessage());
            return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        }
    }

    private static void answer(Pod pod, HttpExchange exchange) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            StringBuilder body = new StringBuilder()
                    .append(pod.app()).append(" pod ").append(pod.name())
                    .append(" (").append(pod.ip()).append(':').append(pod.port()).append(")")
                    .append(" path=").append(exchange.getRequestURI().getRawPath()).append('\n')
                    .append(exchange.getRequestMethod()).append(' ').append(exchange.getRequestURI().toString())
                    .append(' ').append(exchange.getProtocol()).append('\n');
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.putAll(exchange.getRequestHeaders());
            headers.forEach((name, values) -> values.forEach(
                    v -> body.append(name.toLowerCase(java.util.Locale.ROOT)).append(": ").append(v).append('\n')));
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    List<Pod> pods() {
        return pods;
    }

    /**
     * The Endpoints objects of the tutorial's Services, pointing at these Pods (one subset per Pod
     * because each listens on its own port), as a YAML manifest.
     */
    String endpointsYaml() {
        StringBuilder y = new StringBuilder()
                .append("# Written by `sluice --demo`: the Pods of the seed tutorial are in-process demo backends\n")
                .append("# on loopback addresses; these Endpoints tell Sluice where they listen.\n");
        Map<String, List<Pod>> byService = new TreeMap<>();
        for (Pod p : pods) {
            byService.computeIfAbsent(p.service(), s -> new ArrayList<>()).add(p);
        }
        byService.forEach((service, servicePods) -> {
            y.append("---\napiVersion: v1\nkind: Endpoints\nmetadata:\n  name: ").append(service)
                    .append("\n  namespace: default\nsubsets:\n");
            for (Pod p : servicePods) {
                y.append("  - addresses:\n")
                        .append("      - ip: ").append(p.ip()).append('\n')
                        .append("        targetRef: {kind: Pod, namespace: default, name: ").append(p.name()).append("}\n")
                        .append("    ports:\n")
                        .append("      - port: ").append(p.port()).append("\n        protocol: TCP\n");
            }
        });
        return y.toString();
    }

    @Override
    public void close() {
        servers.forEach(s -> s.stop(0));
    }
}
