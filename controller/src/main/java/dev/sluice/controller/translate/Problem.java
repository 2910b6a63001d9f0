package dev.sluice.controller.translate;

import java.util.Objects;

/**
 * Something wrong with one Kubernetes object that the translator worked around (skipped a path,
 * ignored an annotation value, answered 503). Reported in logs, metrics and, in cluster mode, as a
 * Kubernetes Event on the object.
 *
 * @param kind      object kind, e.g. {@code Ingress}
 * @param namespace object namespace
 * @param name      object name
 * @param message   what is wrong and what Sluice does about it
 */
public record Problem(String kind, String namespace, String name, String message) {
    /**
     * The longest message kept: a problem quotes the value it is about, and an annotation value
     * may be 256 KiB; a log line or an Event needs the start of it only.
     */
    public static final int MAX_MESSAGE_LENGTH = 1024;

    /**
     * Control characters of every part are escaped ({@code \n}, {@code \u001b}) and the message
     * is cut to {@link #MAX_MESSAGE_LENGTH}: the values quoted come from the objects, and a log
     * line or an Event must not be split or forged by them.
     */
    public Problem {
        kind = printable(Objects.requireNonNull(kind, "kind"), Integer.MAX_VALUE);
        namespace = printable(Objects.requireNonNull(namespace, "namespace"), Integer.MAX_VALUE);
        name = printable(Objects.requireNonNull(name, "name"), Integer.MAX_VALUE);
        message = printable(Objects.requireNonNull(message, "message"), MAX_MESSAGE_LENGTH);
    }

    /** {@code s} with control characters escaped, cut to {@code max} characters with a note of how many more there were. */
    static String printable(String s, int max) {
        boolean clean = s.length() <= max;
        for (int i = 0; clean && i < s.length(); i++) {
            char c = s.charAt(i);
            clean = !(c < 0x20 || c == 0x7f);
        }
        if (clean) {
            return s; // the common case: no copy
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 16);
        int i = 0;
        int room = max == Integer.MAX_VALUE ? max : max - 40; // the note of what was cut fits in max
        for (; i < s.length() && b.length() < room; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        if (i < s.length()) {
            b.append("… (").append(s.length() - i).append(" more characters)");
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return kind + " " + namespace + "/" + name + ": " + message;
    }
}
