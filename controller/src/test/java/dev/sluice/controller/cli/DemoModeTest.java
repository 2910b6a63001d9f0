package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code --demo} as a user meets it: no cluster, no files of their own, curl commands printed. */
class DemoModeTest {
    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void theSeedTutorialAnswersFromTheDemoPods() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (SluiceApp app = new SluiceApp(Main.parse("--demo", "--http-port=0", "--https-port=0", "--healthz-port=0",
                "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off"),
                new PrintStream(console, true, StandardCharsets.UTF_8))) {
            app.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());

            Set<String> userPods = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                String body = get(app.httpPort(), "/user");
                assertThat(body).startsWith("user-v1 pod user-v1-");
                userPods.add(body.substring(0, body.indexOf(' ', "user-v1 pod ".length())));
            }
            assertThat(userPods).containsExactlyInAnyOrder(
                    "user-v1 pod user-v1-1", "user-v1 pod user-v1-2", "user-v1 pod user-v1-3");
            assertThat(get(app.httpPort(), "/pay")).startsWith("pay-v1 pod pay-v1-1 ");
            assertThat(get(app.httpPort(), "/anything-else")).startsWith("user-v1 pod ").contains("path=/anything-else");

            String printed = console.toString(StandardCharsets.UTF_8);
            assertThat(printed)
                    .contains("curl http://localhost:" + app.httpPort() + "/user")
                    .contains("curl http://localhost:" + app.httpPort() + "/pay")
                    .contains("curl http://localhost:" + app.httpPort() + "/anything-else")
                    .contains("http://localhost:" + app.adminPort() + "/routes");
        }
    }

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", path).isEqualTo(200);
        return r.body();
    }
}
