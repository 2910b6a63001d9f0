package dev.sluice.gateway.request;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a raw request path into the form NGINX matches locations against: percent-decoded,
 * repeated slashes merged, {@code .} and {@code ..} segments resolved. Examples:
 * {@code /a//b/./c/../d} → {@code /a/b/d}; {@code /a%2Fb} → {@code /a/b}; {@code /%7Euser} →
 * {@code /~user}. A path that climbs above the root, has a bad escape or a NUL byte is invalid
 * (NGINX answers 400).
 *
 * <p>Also escapes a decoded path back for forwarding after a rewrite, as NGINX does.
 */
public final class PathNormalizer {
    private PathNormalizer() {}

    /** The normalised path, or {@code null} when the request must be refused with 400. */
    public static String normalize(String rawPath) {
        if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
            return null;
        }
        String decoded = rawPath.indexOf('%') < 0 ? rawPath : decode(rawPath);
        if (decoded == null || decoded.indexOf('\0') >= 0) {
            return null;
        }
        if (decoded.indexOf("//") < 0 && decoded.indexOf("/.") < 0) {
            return decoded; // the common case: nothing to resolve
        }
        return resolve(decoded);
    }

    private static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == '%') {
                if (i + 2 >= in.length) {
                    return null;
                }
                int hi = Character.digit(in[i + 1], 16);
                int lo = Character.digit(in[i + 2], 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String resolve(String path) {
        String[] parts = path.split("/", -1);
        String[] stack = new String[parts.length];
        int depth = 0;
        boolean trailingSlash = false;
        for (int i = 1; i < parts.length; i++) {
            String seg = parts[i];
            boolean last = i == parts.length - 1;
            if (seg.isEmpty() || seg.equals(".")) {
                trailingSlash = last;
                continue;
            }
            if (seg.equals("..")) {
                if (depth == 0) {
                    return null;
                }
                depth--;
                trailingSlash = last;
                continue;
            }
            stack[depth++] = seg;
            trailingSlash = false;
        }
        StringBuilder sb = new StringBuilder(path.length());
        for (int i = 0; i < depth; i++) {
            sb.append('/').append(stack[i]);
        }
        if (depth == 0 || trailingSlash) {
            sb.append('/');
        }
        return sb.toString();
    }

    /**
     * Escapes a decoded path for the upstream request line: bytes below 0x21 or above 0x7e and
     * {@code "#%?} are percent-encoded (NGINX's {@code NGX_ESCAPE_URI}); {@code /} stays.
     */
    public static String escape(String decodedPath) {
        boolean plain = true;
        for (int i = 0; i < decodedPath.length() && plain; i++) {
            plain = !needsEscape(decodedPath.charAt(i));
        }
        if (plain) {
            return decodedPath;
        }
        StringBuilder sb = new StringBuilder(decodedPath.length() + 16);
        for (byte b : decodedPath.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (needsEscape((char) c)) {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    private static boolean needsEscape(char c) {
        return c <= 0x20 || c >= 0x7f || c == '"' || c == '#' || c == '%' || c == '?';
    }
}
