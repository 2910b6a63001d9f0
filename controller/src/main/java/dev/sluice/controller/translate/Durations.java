package dev.sluice.controller.translate;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses durations as ingress-nginx annotations and Go flags write them.
 *
 * <p>A bare number means seconds, as in ingress-nginx's integer annotations ({@code "30"} → 30 s).
 * Otherwise a Go-style sequence of a number and a unit, one or more times: {@code ms}, {@code s},
 * {@code m}, {@code h} (also {@code us}/{@code µs} and {@code ns}); fractions are allowed
 * ({@code "1.5s"}, {@code "1m30s"}, {@code "500ms"}). Negative values, an empty string and
 * unknown units are invalid.
 */
public final class Durations {
    private static final Pattern BARE = Pattern.compile("[0-9]+");
    private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h)");

    private Durations() {}

    /**
     * The duration written in {@code text}.
     *
     * @throws IllegalArgumentException if {@code text} is not a valid duration
     */
    public static Duration parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("no duration given");
        }
        String s = text.trim();
        if (BARE.matcher(s).matches()) {
            try {
                return Duration.ofSeconds(Long.parseLong(s));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("duration too large: " + text);
            }
        }
        Matcher m = PART.matcher(s);
        int pos = 0;
        double nanos = 0;
        while (pos < s.length()) {
            if (!m.find(pos) || m.start() != pos) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\" (examples: 30, 30s, 500ms, 5m)");
            }
            double value = Double.parseDouble(m.group(1));
            nanos += value * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9; // h
            };
            pos = m.end();
        }
        if (pos == 0) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\" (examples: 30, 30s, 500ms, 5m)");
        }
        if (nanos > Long.MAX_VALUE) {
            throw new IllegalArgumentException("duration too large: " + text);
        }
        return Duration.ofNanos(Math.round(nanos));
    }
}
