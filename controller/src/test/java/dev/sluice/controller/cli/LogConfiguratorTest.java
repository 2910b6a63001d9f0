package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The logging set up in code is the jar's {@code logback.xml}, line for line, its lines are those
 * of the pattern they replace, and logback finds it (the process reads no XML to log).
 */
class LogConfiguratorTest {

    @Test
    void theBuiltInSettingsAreThoseOfLogbackXml() throws Exception {
        LoggerContext builtIn = new LoggerContext();
        LogConfigurator.configureBuiltIn(builtIn);
        LoggerContext xml = new LoggerContext();
        JoranConfigurator joran = new JoranConfigurator();
        joran.setContext(xml);
        joran.doConfigure(LogConfigurator.class.getClassLoader().getResource("logback.xml"));

        for (String name : List.of(Logger.ROOT_LOGGER_NAME, LogConfigurator.REFLECTOR, "dev.sluice.controller.cli.Main")) {
            assertThat(builtIn.getLogger(name).getEffectiveLevel()).as(name)
                    .isEqualTo(xml.getLogger(name).getEffectiveLevel());
        }
        assertThat(builtIn.getLogger(LogConfigurator.REFLECTOR).getEffectiveLevel()).isEqualTo(Level.ERROR);

        ConsoleAppender<ILoggingEvent> a = onlyConsoleAppender(builtIn);
        ConsoleAppender<ILoggingEvent> b = onlyConsoleAppender(xml);
        assertThat(a.getName()).isEqualTo(b.getName());
        assertThat(a.getTarget()).isEqualTo(b.getTarget()).isEqualTo("System.err");
        for (LoggingEvent event : events(builtIn)) {
            assertThat(text(a.getEncoder().encode(event))).isEqualTo(text(b.getEncoder().encode(event)));
        }
    }

    @Test
    void aLogLineIsWhatItsPatternWrites() {
        LoggerContext context = new LoggerContext();
        PatternLayout pattern = new PatternLayout();
        pattern.setContext(context);
        pattern.setPattern(LogLine.PATTERN);
        pattern.start();
        LogLine line = new LogLine();
        line.setContext(context);
        line.start();

        for (LoggingEvent event : events(context)) {
            assertThat(line.doLayout(event)).isEqualTo(pattern.doLayout(event));
        }
        assertThat(line.doLayout(events(context).get(0)))
                .matches("2030-03-17T\\d\\d:\\d6:40\\.123\\S* WARN  \\[main\\] Main - port 31234 taken\\R"
                        + "java.lang.IllegalStateException: in use\\R\\tat (?s).*Caused by: java.net.BindException: taken\\R.*");
    }

    /** Events with and without a throwable (with a cause), for each level's padding, loggers with and without a package. */
    private static List<LoggingEvent> events(LoggerContext context) {
        List<LoggingEvent> events = new ArrayList<>();
        IllegalStateException failure = new IllegalStateException("in use", new java.net.BindException("taken"));
        events.add(event(context, Main.class.getName(), Level.WARN, "port {} taken", failure, 31234));
        for (Level level : List.of(Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR)) {
            events.add(event(context, "dev.sluice.controller.sync.SyncLoop", level, "table {} of {}", null, 3, "x"));
        }
        events.add(event(context, "plain", Level.INFO, "no package, {} and {}", null, "ünïcode", null));
        return events;
    }

    private static LoggingEvent event(LoggerContext context, String logger, Level level, String message,
            Throwable thrown, Object... args) {
        LoggingEvent event = new LoggingEvent(logger, context.getLogger(logger), level, message, thrown, args);
        event.setThreadName("main");
        event.setTimeStamp(1_900_000_000_123L);
        return event;
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void logbackFindsItAndLeavesANamedOrTestConfigurationAlone() {
        List<Configurator> found = new ArrayList<>();
        ServiceLoader.load(Configurator.class).forEach(found::add);
        assertThat(found).hasAtLeastOneElementOfType(LogConfigurator.class);

        // this suite has a logback-test.xml on the class path, which wins as it would over logback.xml
        LoggerContext context = new LoggerContext();
        LogConfigurator configurator = new LogConfigurator();
        configurator.setContext(context);
        assertThat(configurator.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
    }

    private static ConsoleAppender<ILoggingEvent> onlyConsoleAppender(LoggerContext context) {
        List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
        Iterator<Appender<ILoggingEvent>> it = context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
        it.forEachRemaining(appenders::add);
        assertThat(appenders).hasSize(1).first().isInstanceOf(ConsoleAppender.class);
        return (ConsoleAppender<ILoggingEvent>) appenders.get(0);
    }
}
