package dev.sluice.gateway.access;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The user and password of an {@code Authorization: Basic …} request header (RFC 7617).
 *
 * <p>{@link #toString()} leaves the password out.
 *
 * @param user     everything before the first {@code :} of the decoded value (may be empty)
 * @param password everything after it (may be empty or contain {@code :})
 */
public record BasicCredentials(String user, String password) {
    private static final String SCHEME = "basic";

    /**
     * Parses an {@code Authorization} header value.
     *
     * @return the credentials, or {@code null} when the value is absent, its scheme is not
     *         {@code Basic} (compared case-insensitively), its token is not base64 of UTF-8 text,
     *         or the decoded text has no {@code :}
     */
    public static BasicCredentials parse(String authorizationHeaderValue) {
        if (authorizationHeaderValue == null) {
            return null;
        }
        String value = authorizationHeaderValue.strip();
        if (value.length() <= SCHEME.length()
                || !value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || (value.charAt(SCHEME.length()) != ' ' && value.charAt(SCHEME.length()) != '\t')) {
            return null;
        }
        String token = value.substring(SCHEME.length() + 1).strip();
        String decoded;
        try {
            byte[] bytes = Base64.getDecoder().decode(token);
            // strict: a lenient decoder would map distinct invalid byte sequences onto the same
            // U+FFFD password
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        return new BasicCredentials(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    @Override
    public String toString() {
        return "BasicCredentials[user=" + user + "]";
    }
}
