package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.gateway.route.RouteTableHolder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --enable-h2c}: HTTP/2 with prior knowledge on the plain listener next to HTTP/1.1, and
 * none without the flag (ingress-nginx's behaviour).
 */
class H2cProxyTest {
    static TestBackend pod;
    static GatewayServer withH2c;
    static GatewayServer without;

    @BeforeAll
    static void start() throws InterruptedException {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(host("h2c.test", prefix("/", "default/h2c", backend("h2c", pod)))));
        withH2c = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).h2c(true).build();
        withH2c.start();
        without = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        without.start();
    }

    @AfterAll
    static void stop() {
        withH2c.close();
        without.close();
        pod.close();
    }

    private static String curl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "curl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void priorKnowledgeHttp2AndHttp11ShareThePlainPort() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        int port = withH2c.httpPort();
        String url = "http://h2c.test:" + port + "/x";
        String resolve = "h2c.test:" + port + ":127.0.0.1";
        assertThat(curl("-s", "--http2-prior-knowledge", "--max-time", "10", "--resolve", resolve, "-o", "/dev/null",
                "-w", "%{http_version} %{http_code}", url)).isEqualTo("2 200");
        assertThat(curl("-s", "--http1.1", "--max-time", "10", "--resolve", resolve, "-o", "/dev/null",
                "-w", "%{http_version} %{http_code}", url)).isEqualTo("1.1 200");
        // the upstream saw an ordinary request, routed by :authority
        String echo = curl("-s", "--http2-prior-knowledge", "--max-time", "10", "--resolve", resolve, url);
        assertThat(echo).contains("\"pod\":\"pod-1\"").contains("h2c.test:" + port);
    }

    @Test
    void withoutTheFlagThePrefaceIsNotHttp2() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        int port = without.httpPort();
        String out = curl("-s", "--http2-prior-knowledge", "--max-time", "5", "--resolve", "h2c.test:" + port
                + ":127.0.0.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "http://h2c.test:" + port + "/");
        assertThat(out).doesNotStartWith("2 200");
    }
}
