package dev.sluice.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;

/**
 * The global ConfigMap's key groups ({@link ConfigMapKeyGroups}) in manifest mode: the
 * ConfigMaps are files of the manifest directory, changed and deleted while Sluice runs.
 */
class SluiceAppConfigMapTest extends ConfigMapKeyGroups {
    @TempDir
    Path dir;

    private SluiceApp app;

    @Override
    void startSluice(Map<String, Map<String, String>> configMaps, List<IngressFixture> ingresses) throws Exception {
        int port = web.endpoint().port();
        Files.writeString(dir.resolve("00-base.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  ports: [{name: http, port: 80, targetPort: %d}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: web-1
                  namespace: default
                  labels: {kubernetes.io/service-name: web}
                addressType: IPv4
                ports: [{name: http, port: %d, protocol: TCP}]
                endpoints:
                - addresses: ["127.0.0.1"]
                  conditions: {ready: true}
                """.formatted(port, port));
        Files.writeString(dir.resolve("10-ingresses.yaml"),
                ingresses.stream().map(SluiceAppConfigMapTest::yaml).collect(Collectors.joining("---\n")));
        for (Map.Entry<String, Map<String, String>> c : configMaps.entrySet()) {
            putConfigMap(c.getKey(), c.getValue());
        }
        app = new SluiceApp(Main.parse(new String[] {"--http-port=0", "--https-port=0", "--healthz-port=0",
            "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off",
            "--configmap=ingress-nginx/" + GLOBAL, "--manifests", dir.toString()}));
        app.start();
    }

    @Override
    void putConfigMap(String name, Map<String, String> data) throws IOException {
        String entries = data.entrySet().stream()
                .map(e -> "  " + quoted(e.getKey()) + ": " + quoted(e.getValue()))
                .collect(Collectors.joining("\n"));
        Path tmp = dir.resolve(name + ".tmp");
        Files.writeString(tmp, """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: %s, namespace: ingress-nginx}
                """.formatted(name) + (data.isEmpty() ? "data: {}\n" : "data:\n" + entries + "\n"));
        // one atomic replace: the watcher never reads a half-written file
        Files.move(tmp, file(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    void deleteConfigMap(String name) throws IOException {
        Files.delete(file(name));
    }

    @Override
    SluiceApp app() {
        return app;
    }

    @Override
    void stopSluice() {
        if (app != null) {
            app.close();
        }
    }

    private Path file(String configMap) {
        return dir.resolve("20-" + configMap + ".yaml");
    }

    private static String quoted(String value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String yaml(IngressFixture i) {
        String annotations = i.annotations().isEmpty() ? "  annotations: {}\n" : "  annotations:\n"
                + i.annotations().entrySet().stream()
                        .map(e -> "    nginx.ingress.kubernetes.io/" + e.getKey() + ": " + quoted(e.getValue()) + "\n")
                        .collect(Collectors.joining());
        return """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: %s
                  namespace: default
                """.formatted(i.name()) + annotations + """
                spec:
                  ingressClassName: nginx
                  rules:
                  - host: %s
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                """.formatted(i.host());
    }
}
