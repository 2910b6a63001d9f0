package dev.sluice.controller.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * fabric8's mock API server in CRUD mode (real HTTP, real watches) that a test can stop and start
 * again on the same port — the store survives, as etcd does when an API server restarts — and that
 * can refuse some API paths with 403 the way RBAC does.
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
    private KubernetesMockServer server;
    private KubernetesMockServer admin;
    private int port;

    /** Starts on a free loopback port. */
    public MockApiServer() {
        start(0);
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

    private void start(int requestedPort) {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init(InetAddress.getLoopbackAddress(), requestedPort);
        port = server.getPort();
    }

    /** Stops serving: open watches break and new connections are refused. */
    public void stop() {
        server.destroy();
    }

    /** Serves again on the same port with the same stored objects. */
    public void restart() {
        start(port);
    }

    /** A new client on fabric8's JDK HTTP client, as production uses. */
    public KubernetesClient newClient() {
        return server.createClient(new JdkHttpClientFactory());
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

    public int port() {
        return port;
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
                """.formatted(port));
    }

    @Override
    public synchronized void close() {
        server.destroy();
        if (admin != null) {
            admin.destroy();
        }
    }
}
