package dev.sluice.controller.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --demo}: the seed tutorial without a cluster. Starts {@link DemoBackends} (the Pods),
 * takes the tutorial's manifests — from {@code deploy/examples/} under the working directory
 * when it is there (so edits take effect live), else from the copy inside the jar — and adds a
 * generated Endpoints manifest that points the tutorial's Services at the demo Pods.
 *
 * <p>The Ingress served is the tutorial's own, {@code legacy/ingress-legacy.yaml}
 * ({@code extensions/v1beta1}). Its {@code networking.k8s.io/v1} twin {@code ingress.yaml} is not
 * loaded: it is the same object ({@code default/nginx-ingress}) and would route identically.
 */
final class DemoMode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DemoMode.class);

    /** The tutorial's files, relative to {@code deploy/examples/}. */
    static final List<String> SEED_FILES = List.of(
            "deployment-user-v1.yaml",
            "deployment-pay-v1.yaml",
            "user-service-v1.yaml",
            "pay-service-v1.yaml",
            "legacy/ingress-legacy.yaml");

    static final Path EXAMPLES_DIR = Path.of("deploy", "examples");

    private final DemoBackends backends;
    private final Path workDir;
    private final List<Path> manifests;
    private final String examplesOrigin;

    private DemoMode(DemoBackends backends, Path workDir, List<Path> manifests, String examplesOrigin) {
        this.backends = backends;
        this.workDir = workDir;
        this.manifests = List.copyOf(manifests);
        this.examplesOrigin = examplesOrigin;
    }

    /** Starts the demo Pods and writes the generated manifests; nothing is left behind on failure. */
    static DemoMode start() throws IOException {
        DemoBackends backends = DemoBackends.start();
        Path workDir = null;
        try {
            workDir = Files.createTempDirectory("sluice-demo-");
            List<Path> manifests = new ArrayList<>();
            String origin;
            Path examples = EXAMPLES_DIR.toAbsolutePath();
            if (SEED_FILES.stream().allMatch(f -> Files.isRegularFile(examples.resolve(f)))) {
                origin = EXAMPLES_DIR + "/ (live: edits take effect)";
                SEED_FILES.forEach(f -> manifests.add(examples.resolve(f)));
            } else {
                origin = "the copy of deploy/examples/ inside the jar";
                Path copy = workDir.resolve("examples");
                for (String f : SEED_FILES) {
                    Path target = copy.resolve(f);
                    Files.createDirectories(target.getParent());
                    try (InputStream in = DemoMode.class.getClassLoader().getResourceAsStream("demo/" + f)) {
                        if (in == null) {
                            throw new IOException("demo/" + f + " is missing from the class path (build with mvn package)");
                        }
                        Files.copy(in, target);
                    }
                    manifests.add(target);
                }
            }
            Path endpoints = workDir.resolve("demo-endpoints.yaml");
            Files.writeString(endpoints, backends.endpointsYaml());
            manifests.add(endpoints);
            for (DemoBackends.Pod p : backends.pods()) {
                log.info("demo pod {} of {} listening on {}:{}", p.name(), p.service(), p.ip(), p.port());
            }
            return new DemoMode(backends, workDir, manifests, origin);
        } catch (IOException | RuntimeException e) {
            backends.close();
            deleteQuietly(workDir);
            throw e;
        }
    }

    /** The manifests to serve: the tutorial's files and the generated Endpoints. */
    List<Path> manifests() {
        return manifests;
    }

    DemoBackends backends() {
        return backends;
    }

    /** Tells the user what is served and which commands to try. */
    void printInstructions(PrintStream out, int httpPort, int adminPort) {
        String base = "http://localhost:" + httpPort;
        out.println();
        out.println("Sluice demo: the seed tutorial's Ingress (extensions/v1beta1, rewrite-target: /) from " + examplesOrigin);
        out.println("  /user...       -> Service user-service-v1 -> 3 user-v1 pods (round robin)");
        out.println("  /pay...        -> Service pay-service-v1  -> 1 pay-v1 pod");
        out.println("  anything else  -> the Ingress's default backend user-service-v1");
        out.println("  (generated Endpoints for the demo pods: " + manifests.get(manifests.size() - 1) + ")");
        out.println("Try:");
        out.println("  curl " + base + "/user        # again and again: user-v1-1, user-v1-2, user-v1-3");
        out.println("  curl " + base + "/pay");
        out.println("  curl " + base + "/anything-else");
        out.println("  curl -H 'Host: any.example.com' " + base + "/user    # host-less rules serve every host");
        out.println("  curl http://localhost:" + adminPort + "/routes   # the live route table; also /healthz /readyz /metrics");
        out.println("Stop with Ctrl-C.");
        out.println();
        out.flush();
    }

    @Override
    public void close() {
        backends.close();
        deleteQuietly(workDir);
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            log.debug("cannot delete {}", dir, e);
        }
    }
}
