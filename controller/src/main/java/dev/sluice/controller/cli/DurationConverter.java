package dev.sluice.controller.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration flag the way ingress-nginx (Go) writes them: a sequence of decimal numbers
 * with units {@code ns}, {@code us} (or {@code µs}), {@code ms}, {@code s}, {@code m}, {@code h},
 * e.g. {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h30m}, {@code 1.5s}. A bare number means
 * seconds ({@code 10} = 10 s), as ingress-nginx's second-valued flags and annotations do.
 * Negative values are refused.
 */
public final class DurationConverter implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException with a message naming the text when it is not a duration
     */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 500ms, 30s, 5m, 10)");
        }
        if (isNumber(s)) {
            return nanos(new BigDecimal(s), 1_000_000_000L, text);
        }
        long total = 0;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            String number = s.substring(start, i);
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            String unit = s.substring(unitStart, i);
            if (!isNumber(number) || unit.isEmpty()) {
                throw new IllegalArgumentException(
                        "'" + text + "' is not a duration (examples: 500ms, 30s, 5m, 1h30m, 10 = seconds)");
            }
            long unitNanos = switch (unit) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> throw new IllegalArgumentException(
                        "'" + text + "': unknown unit '" + unit + "' (use ns, us, ms, s, m, h)");
            };
            total = Math.addExact(total, nanos(new BigDecimal(number), unitNanos, text).toNanos());
        }
        return Duration.ofNanos(total);
    }

    private static boolean isNumber(String s) {
        // digits with at most one dot and at least one digit; no sign, no exponent
        int dots = 0;
        int digits = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c >= '0' && c <= '9') {
                digits++;
            } else {
                return false;
            }
        }
        return digits > 0 && dots <= 1;
    }

    private static Duration nanos(BigDecimal amount, long unitNanos, String text) {
        try {
            // Go truncates below a nanosecond
            return Duration.ofNanos(amount.multiply(BigDecimal.valueOf(unitNanos))
                    .setScale(0, RoundingMode.DOWN).longValueExact());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
    }
}
