package dev.sluice.controller.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image of {@code mvn -Pimage package} runs as a container runtime would run it: its layers
 * unpacked in order into a directory, which becomes the root of the entrypoint — read-only, with
 * a tmpfs on {@code /tmp} (the deploy/base emptyDir), the image's user and environment, in a
 * network namespace of its own — started with {@code --demo}. {@code /readyz} on the admin port
 * 10254 turns 200 and a request to the HTTP port 31234 is routed to a demo Pod; SIGTERM stops it
 * with exit code 0.
 *
 * <p>Needs root (chroot, mount and network namespaces via util-linux {@code unshare}), curl and
 * iproute2; run by the {@code image} profile (see the comment there for the command).
 */
class ImageIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void theEntrypointServesTheDemoFromAReadOnlyRootAsANonRootUser() throws Exception {
        Path tarball = Path.of(System.getProperty("sluice.imageTar", "target/sluice-image.tar"));
        assertThat(tarball).as("build it with mvn -Pimage package").isRegularFile();
        Assumptions.assumeTrue(run("id", "-u").trim().equals("0"), "needs root for chroot and namespaces");

        Path image = Files.createDirectories(work.resolve("image"));
        run("tar", "-xf", tarball.toString(), "-C", image.toString());
        JsonNode manifest = JSON.readTree(image.resolve("manifest.json").toFile()).get(0);
        assertThat(manifest.get("RepoTags").get(0).asText()).isEqualTo("localhost/sluice:" + System.getProperty("sluice.version"));
        JsonNode config = JSON.readTree(image.resolve(manifest.get("Config").asText()).toFile()).get("config");

        Path root = Files.createDirectories(work.resolve("rootfs"));
        for (JsonNode layer : manifest.get("Layers")) {
            run("tar", "-xf", image.resolve(layer.asText()).toString(), "-C", root.toString());
        }

        String user = config.get("User").asText();
        assertThat(user).isEqualTo("10001:10001");
        List<String> entrypoint = new ArrayList<>();
        config.get("Entrypoint").forEach(e -> entrypoint.add(e.asText()));
        assertThat(String.join(" ", entrypoint)).contains("-XX:MaxRAMPercentage=", "-XX:+ExitOnOutOfMemoryError",
                "dev.sluice.controller.cli.Main");
        List<String> env = new ArrayList<>();
        config.get("Env").forEach(e -> env.add(e.asText()));

        // as a container runtime: own network, pid and mount namespaces; the root read-only, a tmpfs
        // on /tmp; then the image's user, environment and entrypoint
        String r = root.toString();
        String setup = "ip link set lo up && mount --bind " + r + " " + r + " && mount -o remount,bind,ro " + r + " " + r
                + " && mount -t tmpfs -o mode=1777 tmpfs " + r + "/tmp && mount -t proc proc " + r + "/proc"
                + " && mount --rbind /dev " + r + "/dev"
                + " && exec env -i \"$@\"";
        List<String> command = new ArrayList<>(List.of("unshare", "--net", "--mount", "--pid", "--fork", "--",
                "sh", "-c", setup, "sh"));
        command.addAll(env);
        // env -i searches the image's PATH, so the host's chroot goes by its full path
        command.addAll(List.of(run("sh", "-c", "command -v chroot").trim(), "--userspec=" + user, r));
        command.addAll(entrypoint);
        command.add("--demo");
        Path log = work.resolve("sluice.log");
        Process sluice = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .failFast("the container exited:\n" + read(log), () -> !sluice.isAlive())
                    .until(() -> inside(sluice, "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.1:10254/readyz").equals("200"));
            assertThat(inside(sluice, "http://127.0.0.1:31234/user")).contains("user-v1-");
            assertThat(inside(sluice, "http://127.0.0.1:31234/pay")).contains("pay-v1-1");
            assertThat(inside(sluice, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: nothing.example",
                    "http://127.0.0.1:31234/user")).isEqualTo("200"); // host-less rule

            // the process runs as the image's user, and could not write outside /tmp
            String pid = run("pgrep", "-P", String.valueOf(sluice.pid())).trim();
            String status = Files.readString(Path.of("/proc", pid, "status"));
            assertThat(status).containsPattern("(?m)^Uid:\\s+10001\\s");
            assertThat(read(log)).doesNotContain("Read-only file system");

            run("kill", "-TERM", pid);
            assertThat(sluice.waitFor(1, TimeUnit.MINUTES)).isTrue();
            assertThat(sluice.exitValue()).as(read(log)).isZero();
            assertThat(read(log)).contains("stopped");
        } finally {
            sluice.destroyForcibly();
        }
    }

    /** curl in the container's network namespace. */
    private static String inside(Process container, String... curlArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of("nsenter", "-t", String.valueOf(container.pid()), "-n",
                "curl", "-s", "--max-time", "10"));
        command.addAll(List.of(curlArgs));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), out).isZero();
        return out;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
