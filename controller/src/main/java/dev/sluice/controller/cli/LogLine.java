package dev.sluice.controller.cli;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Sluice's log line, {@value #PATTERN} as logback's {@code PatternLayout} writes it, without the
 * pattern machinery: {@code PatternLayout}'s table of converters is some seventy lambdas and as
 * many classes, which a JVM without a class-data archive spins and loads at every start.
 * {@code LogConfiguratorTest} holds it to the pattern's output.
 */
public final class LogLine extends LayoutBase<ILoggingEvent> {
    /** The format, as a logback pattern. */
    public static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n";

    private final DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
            .withZone(ZoneId.systemDefault());
    private final ThrowableProxyConverter throwable = new ThrowableProxyConverter();

    @Override
    public void start() {
        throwable.setContext(getContext());
        throwable.start();
        super.start();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        time.formatTo(Instant.ofEpochMilli(event.getTimeStamp()), line);
        line.append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        line.append(" [").append(event.getThreadName()).append("] ");
        String logger = event.getLoggerName();
        line.append(logger, logger.lastIndexOf('.') + 1, logger.length());
        line.append(" - ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        if (event.getThrowableProxy() != null) {
            line.append(throwable.convert(event));
        }
        return line.toString();
    }
}
