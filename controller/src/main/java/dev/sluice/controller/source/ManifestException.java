package dev.sluice.controller.source;

/**
 * A manifest file that cannot be used: YAML/JSON syntax error, or a kept kind with the wrong
 * structure. {@link #getMessage()} reads {@code file:line: message}.
 */
public final class ManifestException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final int line;
    private final String reason;

    public ManifestException(String fileName, int line, String reason, Throwable cause) {
        super(fileName + ":" + line + ": " + reason, cause);
        this.fileName = fileName;
        this.line = line;
        this.reason = reason;
    }

    /** The file as named to the parser. */
    public String fileName() {
        return fileName;
    }

    /** 1-based line of the problem (the start of the document when nothing closer is known). */
    public int line() {
        return line;
    }

    /** The message without file and line. */
    public String reason() {
        return reason;
    }
}
