package dev.sluice.gateway.access;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The users of one digest-auth location: its realm and, per user, the htdigest HA1
 * ({@code md5hex(user:realm:password)}), as nginx's {@code auth_digest} module reads them.
 *
 * <p>Immutable and equal by content. {@link #toString()} names the realm and the users' count but
 * no HA1: an HA1 is enough to answer any challenge of its realm, so it is as secret as the
 * password.
 *
 * @param realm the realm the location challenges with
 * @param users user → HA1 in lower-case hex
 */
public record DigestCredentials(String realm, Map<String, String> users) {

    /**
     * Validates and copies.
     *
     * @throws IllegalArgumentException for a realm with a control character, or (naming the user,
     *         never the HA1) an empty user or an HA1 that is not 32 hex digits
     */
    public DigestCredentials {
        Objects.requireNonNull(realm, "realm");
        if (realm.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            // it is sent back in WWW-Authenticate: a CR or LF there would split the header
            throw new IllegalArgumentException("realm contains a control character");
        }
        Map<String, String> normalized = new LinkedHashMap<>();
        users.forEach((user, ha1) -> {
            if (user == null || user.isEmpty()) {
                throw new IllegalArgumentException("empty user name");
            }
            if (ha1 == null || !isMd5Hex(ha1)) {
                throw new IllegalArgumentException("user \"" + user + "\": HA1 is not 32 hex digits");
            }
            // the response is compared as lower-case hex
            normalized.put(user, ha1.toLowerCase(Locale.ROOT));
        });
        users = Map.copyOf(normalized);
    }

    /**
     * Reads an htdigest file: lines {@code user:realm:ha1}, blank lines and lines starting with
     * {@code #} skipped, CRLF tolerated. Only the lines of {@code realm} are kept (the module
     * matches user and realm); for a user listed twice in that realm the first line wins.
     *
     * @throws IllegalArgumentException naming the line, never the HA1, for a line that does not
     *         have three fields, has an empty user, or whose HA1 is not 32 hex digits
     */
    public static DigestCredentials parseHtdigest(String content, String realm) {
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(realm, "realm");
        Map<String, String> users = new LinkedHashMap<>();
        String[] lines = content.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            // user up to the first ':', HA1 after the last: a realm may itself contain ':'
            int first = line.indexOf(':');
            int last = line.lastIndexOf(':');
            if (first < 0 || first == last) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected user:realm:ha1");
            }
            if (first == 0) {
                throw new IllegalArgumentException("line " + (i + 1) + ": empty user name");
            }
            String ha1 = line.substring(last + 1);
            if (!isMd5Hex(ha1)) {
                throw new IllegalArgumentException("line " + (i + 1) + ": HA1 is not 32 hex digits");
            }
            if (line.substring(first + 1, last).equals(realm)) {
                users.putIfAbsent(line.substring(0, first), ha1);
            }
        }
        return new DigestCredentials(realm, users);
    }

    /** The HA1 of {@code user}, or {@code null} when the user is unknown in this realm. */
    public String ha1(String user) {
        return users.get(user);
    }

    @Override
    public String toString() {
        return "DigestCredentials[realm=" + realm + ", " + users.size() + " users]";
    }

    private static boolean isMd5Hex(String s) {
        if (s.length() != 32) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            // ASCII only: Character.digit would also accept, e.g., full-width digits
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }
}
