package dev.sluice.controller.cli;

import dev.sluice.gateway.admin.AdminServer;
import dev.sluice.gateway.route.RouteTableHolder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running process, wired from {@link SluiceOptions}: a source of Kubernetes objects (files
 * or the API), the sync loop that turns them into a route table, the gateway that serves it and
 * the admin server. {@link Main} runs one; tests run it in the JVM with ports 0.
 */
public final class SluiceApp implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SluiceApp.class);

    /** The process cannot start (the message says why, for the user). */
    public static final class StartupException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }

        public StartupException(String message) {
            super(message);
        }
    }

    private final SluiceOptions options;
    private final PrintStream out;
    private final RouteTableHolder holder = new RouteTableHolder();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private AdminServer admin;

    /** @param out where {@code --demo} prints its instructions (the console) */
    public SluiceApp(SluiceOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public SluiceApp(SluiceOptions options) {
        this(options, System.out);
    }

    /** Starts everything; on failure throws {@link StartupException} (call {@link #close()}). */
    public void start() {
        throw new StartupException(options.mode() + " mode is not wired yet (gateway and translator are pending)");
    }

    public RouteTableHolder routes() {
        return holder;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Drains: {@code /readyz} answers 503, in-flight requests get up to {@code grace}, then closes. */
    public void shutdown(Duration grace) {
        if (admin != null) {
            admin.setDraining(true);
        }
        close();
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close();
        }
        log.debug("closed");
    }
}
