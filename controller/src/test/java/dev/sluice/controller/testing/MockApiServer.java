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
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * fabric8's mock API server in CRUD mode (real HTTP, real watches) that a test can stop and start
 * again on the same port — the store survives, as etcd does when an API server restarts — and that
 * can refuse some API paths with 403 the way RBAC does.
 */
public final class MockApiServer implements AutoCloseable {
    private final KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher(List.of());
    private final Set<String> forbiddenPrefixes = new CopyOnWriteArraySet<>();
    private final Dispatcher dispatcher = new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            for (String prefix : forbiddenPrefixes) {
                if (path.startsWith(prefix)) {
                    return new MockResponse().setResponseCode(403).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                            + "\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                            + "\"message\":\"forbidden by the test\"}");
                }
            }
            return crud.dispatch(request);
        }
    };
    private KubernetesMockServer server;
    private int port;

    /** Starts on a free loopback port. */
    public MockApiServer() {
        start(0);
    }

    /** Answers 403 Forbidden for every request whose path starts with {@code prefix}. */
    public void forbid(String prefix) {
        forbiddenPrefixes.add(prefix);
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

    public int port() {
        return port;
    }

    @Override
    public void close() {
        server.destroy();
    }
}
