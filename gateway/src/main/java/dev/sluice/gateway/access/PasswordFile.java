package dev.sluice.gateway.access;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The user → password-hash table of one basic-auth Secret, read the way ingress-nginx reads it
 * ({@code auth-secret-type: auth-file} or {@code auth-map}).
 *
 * <p>Every hash is parsed into a {@link PasswordHash} when the file is loaded, so a malformed entry
 * is a configuration error (the location then fails closed) and {@link #verify} only hashes.
 *
 * <p>Immutable and equal by content (users and hashes), so a rebuilt route table that reads the
 * same Secret compares equal to the published one. {@link #toString()} names the users' count,
 * never a hash.
 */
public final class PasswordFile {
    private final Map<String, PasswordHash> users;
    // hashed against for an unknown user, so that "no such user" is not answered measurably
    // faster than "wrong password" for the same file
    private final PasswordHash decoy;

    private PasswordFile(Map<String, PasswordHash> users) {
        this.users = Map.copyOf(users);
        this.decoy = users.isEmpty() ? null : users.values().iterator().next();
    }

    /**
     * Parses an htpasswd file ({@code auth-file}): lines {@code user:hash}, blank lines and lines
     * starting with {@code #} skipped, CRLF tolerated. As in nginx, the hash ends at the next
     * {@code :} (anything after it is a comment) and the first line of a user wins.
     *
     * @throws IllegalArgumentException naming the line number, never the hash, for a line without
     *         {@code :}, with an empty user, or with a hash in a format that cannot be verified
     */
    public static PasswordFile parseHtpasswd(String content) {
        Objects.requireNonNull(content, "content");
        Map<String, PasswordHash> users = new LinkedHashMap<>();
        String[] lines = content.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripCarriageReturn(lines[i]);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected user:hash");
            }
            if (colon == 0) {
                throw new IllegalArgumentException("line " + (i + 1) + ": empty user name");
            }
            String user = line.substring(0, colon);
            int end = line.indexOf(':', colon + 1);
            String hash = end < 0 ? line.substring(colon + 1) : line.substring(colon + 1, end);
            PasswordHash parsed;
            try {
                parsed = PasswordHash.parse(hash);
            } catch (IllegalArgumentException e) {
                // PasswordHash's messages never quote the hash, so they may be passed on
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage());
            }
            users.putIfAbsent(user, parsed);
        }
        return new PasswordFile(users);
    }

    /**
     * Reads an {@code auth-map} Secret: each key is a user, its value that user's hash.
     *
     * @throws IllegalArgumentException naming the user key, never the hash, for an empty user or a
     *         hash in a format that cannot be verified
     */
    public static PasswordFile fromMap(Map<String, String> userToHash) {
        Objects.requireNonNull(userToHash, "userToHash");
        Map<String, PasswordHash> users = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : userToHash.entrySet()) {
            String user = entry.getKey();
            if (user == null || user.isEmpty()) {
                throw new IllegalArgumentException("empty user name");
            }
            try {
                // tolerate the trailing newline that `kubectl create secret --from-file` keeps
                users.put(user, PasswordHash.parse(stripLineEnd(entry.getValue())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("user \"" + user + "\": " + e.getMessage());
            }
        }
        return new PasswordFile(users);
    }

    /** Whether {@code user} is in the file and {@code password} matches its hash. */
    public boolean verify(String user, String password) {
        if (user == null || password == null) {
            return false;
        }
        byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
        PasswordHash hash = users.get(user);
        if (hash == null) {
            if (decoy != null) {
                decoy.matches(bytes);
            }
            return false;
        }
        return hash.matches(bytes);
    }

    /** The number of users. */
    public int size() {
        return users.size();
    }

    /** The user names, unordered. */
    public Set<String> users() {
        return users.keySet();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PasswordFile other && users.equals(other.users);
    }

    @Override
    public int hashCode() {
        return users.hashCode();
    }

    @Override
    public String toString() {
        return "PasswordFile[" + users.size() + " users]";
    }

    private static String stripCarriageReturn(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }

    private static String stripLineEnd(String value) {
        if (value == null) {
            return null;
        }
        int end = value.length();
        while (end > 0 && (value.charAt(end - 1) == '\n' || value.charAt(end - 1) == '\r')) {
            end--;
        }
        return value.substring(0, end);
    }
}
