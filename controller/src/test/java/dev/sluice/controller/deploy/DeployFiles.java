package dev.sluice.controller.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The manifests under {@code deploy/} as fabric8 objects: the base's files read directly, and an
 * overlay (plus optional components) rendered by {@code kubectl kustomize}, as a user applies it.
 */
final class DeployFiles {
    static final Path DEPLOY = Path.of(System.getProperty("basedir", ".")).resolve("../deploy").toAbsolutePath()
            .normalize();
    static final List<String> OVERLAYS = List.of("baremetal-nodeport", "cloud-loadbalancer", "daemonset-hostnetwork",
            "side-by-side");
    static final List<String> OPTIONAL_COMPONENTS = List.of("metrics", "validating-webhook");

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private DeployFiles() {
    }

    /** Every object of {@code deploy/base}, from its files (no kustomize needed). */
    static List<HasMetadata> base() throws IOException {
        List<HasMetadata> objects = new ArrayList<>();
        try (Stream<Path> files = Files.list(DEPLOY.resolve("base"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.getFileName().toString().equals("kustomization.yaml")).sorted().toList()) {
                objects.addAll(parse(Files.readString(f)));
            }
        }
        return objects;
    }

    /** Whether {@code kubectl} (with its built-in kustomize) is on the PATH. */
    static boolean kubectlAvailable() {
        try {
            Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * {@code kubectl kustomize} of {@code deploy/overlays/<overlay>} with the given components of
     * {@code deploy/components} added, the way a user adds them to the overlay's
     * {@code components:} list (a kustomization in {@code work} that names the overlay).
     */
    static List<HasMetadata> render(Path work, String overlay, List<String> components) throws Exception {
        Path dir = DEPLOY.resolve("overlays").resolve(overlay);
        if (!components.isEmpty()) {
            dir = Files.createTempDirectory(work, overlay);
            // kustomize takes only relative paths to other kustomization roots
            StringBuilder k = new StringBuilder("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
                    .append("resources:\n  - ").append(dir.relativize(DEPLOY.resolve("overlays").resolve(overlay)))
                    .append("\ncomponents:\n");
            for (String c : components) {
                k.append("  - ").append(dir.relativize(DEPLOY.resolve("components").resolve(c))).append('\n');
            }
            Files.writeString(dir.resolve("kustomization.yaml"), k);
        }
        return parse(kustomize(dir));
    }

    /** The YAML {@code kubectl kustomize DIR} prints; fails with kubectl's message. */
    static String kustomize(Path dir) throws Exception {
        Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false).start();
        byte[] err;
        String out;
        try (var stdout = p.getInputStream(); var stderr = p.getErrorStream()) {
            var errRead = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return stderr.readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
            err = errRead.get(2, TimeUnit.MINUTES);
        }
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("kubectl kustomize " + dir + " failed: " + new String(err, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Multi-document YAML as typed fabric8 objects (unknown kinds as GenericKubernetesResource). */
    static List<HasMetadata> parse(String yaml) {
        Object o = SERIALIZATION.unmarshal(yaml);
        List<HasMetadata> out = new ArrayList<>();
        if (o instanceof List<?> list) {
            for (Object item : list) {
                out.add((HasMetadata) item);
            }
        } else if (o instanceof KubernetesResourceList<?> list) {
            out.addAll(list.getItems());
        } else if (o instanceof HasMetadata m) {
            out.add(m);
        }
        return out;
    }
}
