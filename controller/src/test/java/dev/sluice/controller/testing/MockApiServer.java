package dev.sluice.controller.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * fabric8's mock API server in CRUD mode (real HTTP, real watches) that a test can stop and start
 * again at the same address — the store survives, as etcd does when an API server restarts — and
 * that can refuse some API paths with 403 the way RBAC does.
 *
 * <p>Clients reach it through a TCP relay that holds its loopback port for the whole life of this
 * object: a restarted mock server listens on a new ephemeral port behind the relay, so no port is
 * ever closed and bound again (another process could take it in between). While stopped, the
 * relay resets every connection at once and counts them ({@link #refusedConnections()}).
 *
 * <p>{@link #adminClient()} talks to a second API server on the same store that never stops (a
 * highly available control plane as seen by {@code kubectl}), so a test can change objects while
 * the controller's API server is away.
 */
public final class MockApiServer implements AutoCloseable {
    private final KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher(List.of());
    private final Set<String> forbiddenPrefixes = new CopyOnWriteArraySet<>();
    private final Set<String> watchesToExpire = new CopyOnWriteArraySet<>();
    private volatile boolean expireWatches;
    private final java.util.Queue<String> requests = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Dispatcher dispatcher = new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            requests.add(request.getMethod() + " " + path);
            for (String prefix : forbiddenPrefixes) {
                if (path.startsWith(prefix)) {
                    return new MockResponse().setResponseCode(403).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                            + "\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                            + "\"message\":\"forbidden by the test\"}");
                }
            }
            if (expireWatches && path.contains("watch=true")) {
                String resource = path.substring(0, path.indexOf('?'));
                if (watchesToExpire.add(resource)) {
                    // what a real API server sends when the watch's resourceVersion was compacted
                    // away: the watch opens, then an ERROR event carrying a 410 Status
                    return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                        @Override
                        public void onOpen(WebSocket ws, Response response) {
                            ws.send("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                                    + "\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410,"
                                    + "\"message\":\"too old resource version\"}}");
                        }
                    });
                }
            }
            return crud.dispatch(request);
        }
    };
    private volatile KubernetesMockServer server;
    private KubernetesMockServer admin;
    private final ServerSocket relay;
    private final Set<Socket> relayed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger refused = new AtomicInteger();
    private volatile boolean stopped;

    /** Starts on a free loopback port. */
    public MockApiServer() {
        start();
        try {
            relay = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            server.destroy();
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::relayConnections, "mock-api-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void relayConnections() {
        while (!relay.isClosed()) {
            Socket client;
            try {
                client = relay.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (stopped) {
                refused.incrementAndGet();
                reset(client);
                continue;
            }
            try {
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), server.getPort());
                relayed.add(client);
                relayed.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                refused.incrementAndGet();
                reset(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) != -1) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side went away: both are closed
            } finally {
                relayed.remove(from);
                relayed.remove(to);
            }
        }, "mock-api-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Closes with a TCP reset, as a connection to a port nobody listens on is refused. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
            s.close();
        } catch (IOException e) {
            // gone already
        }
    }

    /** Connections the relay reset because the API server was stopped. */
    public int refusedConnections() {
        return refused.get();
    }

    /** Answers 403 Forbidden for every request whose path starts with {@code prefix}. */
    public void forbid(String prefix) {
        forbiddenPrefixes.add(prefix);
    }

    /**
     * From now on the first watch of each resource path fails with {@code 410 Gone}, as a watch
     * does when the client's resource version has been compacted away.
     */
    public void expireWatches() {
        expireWatches = true;
    }

    /** Whether some watch request has been answered 410 since {@link #expireWatches()}. */
    public boolean expiredSomeWatch() {
        return !watchesToExpire.isEmpty();
    }

    private void start() {
        KubernetesMockServer s = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        s.init(InetAddress.getLoopbackAddress(), 0);
        server = s;
    }

    /** Stops serving: open watches break and new connections are refused. */
    public void stop() {
        stopped = true;
        server.destroy();
        for (Socket s : relayed) {
            reset(s);
        }
    }

    /** Serves again at the same address with the same stored objects. */
    public void restart() {
        start();
        stopped = false;
    }

    /** A new client on fabric8's JDK HTTP client, as production uses. */
    public KubernetesClient newClient() {
        Config config;
        try (KubernetesClient direct = server.createClient(new JdkHttpClientFactory())) {
            config = new ConfigBuilder(direct.getConfiguration()).withMasterUrl("http://127.0.0.1:" + port() + "/").build();
        }
        return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(new JdkHttpClientFactory()).build();
    }

    /**
     * Every request the controller's API server received ({@code "GET /api/v1/..."}), not those of
     * {@link #adminClient()}.
     */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    /** A client of the never-stopping second API server on the same store. */
    public synchronized KubernetesClient adminClient() {
        if (admin == null) {
            admin = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), crud, false);
            admin.init(InetAddress.getLoopbackAddress(), 0);
        }
        return admin.createClient(new JdkHttpClientFactory());
    }

    /** The port clients connect to (the relay's: the same for the whole life of this server). */
    public int port() {
        return relay.getLocalPort();
    }

    /**
     * Writes a kubeconfig file for this server (current context {@code mock}, namespace
     * {@code default}, a token nobody checks) into {@code dir}, for {@code --kubeconfig}.
     */
    public java.nio.file.Path writeKubeconfig(java.nio.file.Path dir) throws java.io.IOException {
        return java.nio.file.Files.writeString(dir.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster:
                    server: http://127.0.0.1:%d
                users:
                - name: sluice
                  user:
                    token: not-checked
                contexts:
                - name: mock
                  context: {cluster: mock, user: sluice, namespace: default}
                current-context: mock
                """.formatted(port()));
    }

    @Override
    public synchronized void close() {
        try {
            relay.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : relayed) {
            reset(s);
        }
        server.destroy();
        if (admin != null) {
            admin.destroy();
        }
    }
}
