package dev.sluice.controller.translate;

/** Parsing of annotation values as ingress-nginx's parsers read them. */
final class AnnotationValues {
    private AnnotationValues() {}

    /** Go's {@code strconv.ParseBool}, as ingress-nginx uses: {@code null} for anything else. */
    static Boolean bool(String v) {
        return switch (v.trim()) {
            case "1", "t", "T", "TRUE", "true", "True" -> Boolean.TRUE;
            case "0", "f", "F", "FALSE", "false", "False" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** A decimal integer of at least {@code min}, or {@code null}. */
    static Integer integer(String v, int min) {
        try {
            int n = Integer.parseInt(v.trim());
            return n >= min ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * An annotation value as a message quotes it: control characters escaped, at most 200
     * characters. Messages become log lines, Events and deny reasons; a value must not split them.
     */
    static String quoted(String v) {
        return v == null ? "" : Problem.printable(v, 240);
    }
}
