package dev.sluice.controller.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Sluice's logging set up in code: the settings of the {@code logback.xml} in the jar, without
 * reading it. Logback's XML configurator loads some 600 classes (an XML parser, Joran's model
 * and actions) and took about a quarter of a second of every start, most of it on the main
 * thread before anything else could run.
 *
 * <p>Found by logback through {@code META-INF/services} and asked first. It steps aside, and
 * logback configures itself as usual, when a configuration is named
 * ({@code -Dlogback.configurationFile=...}, e.g. {@code logback.xml} for the XML form of these
 * settings) or when a {@code logback-test.xml} is on the class path (the test suites), which
 * logback itself would also prefer to {@code logback.xml}.
 *
 * <p>The settings: one line per event on stderr ({@link LogLine}), the root level from
 * {@code SLUICE_LOG_LEVEL} (default INFO), fabric8's Reflector at ERROR (ClusterSource logs each
 * failed list/watch in one line; the Reflector would repeat it with a stack trace on every retry).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** The environment variable that sets the root level, as in {@code logback.xml}. */
    static final String LEVEL_VARIABLE = "SLUICE_LOG_LEVEL";
    static final String REFLECTOR = "io.fabric8.kubernetes.client.informers.impl.cache.Reflector";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        configureBuiltIn(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Applies the built-in settings to {@code context}. */
    static void configureBuiltIn(LoggerContext context) {
        LogLine line = new LogLine();
        line.setContext(context);
        line.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(line);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getenv(LEVEL_VARIABLE), Level.INFO));
        root.addAppender(stderr);
        context.getLogger(REFLECTOR).setLevel(Level.ERROR);
    }
}
