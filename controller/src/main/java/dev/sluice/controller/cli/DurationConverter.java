package dev.sluice.controller.cli;

import dev.sluice.controller.translate.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration flag the way ingress-nginx (Go) writes them, with the same rules as the
 * annotations ({@link Durations}): {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h30m},
 * {@code 1.5s}; a bare number means seconds ({@code 10} = 10 s). Negative values are refused.
 */
public final class DurationConverter implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
