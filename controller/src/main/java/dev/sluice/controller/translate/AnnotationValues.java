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

    /**
     * NGINX's size syntax: a number of bytes with an optional unit {@code k}, {@code m} or
     * {@code g} (either case, powers of 1024), or {@code null}.
     */
    static Long size(String v) {
        String t = v.trim();
        int shift = 0;
        if (!t.isEmpty()) {
            switch (Character.toLowerCase(t.charAt(t.length() - 1))) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                default -> shift = 0;
            }
        }
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        long n = Long.parseLong(digits);
        return n <= (Long.MAX_VALUE >> shift) ? n << shift : null;
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
