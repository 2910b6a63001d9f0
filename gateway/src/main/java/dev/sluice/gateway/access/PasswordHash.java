package dev.sluice.gateway.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.function.BiFunction;
import java.util.regex.Pattern;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.apache.commons.codec.digest.UnixCrypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * One stored password hash of an htpasswd file, parsed once when the file is loaded so that
 * {@link #matches} does no format sniffing per request.
 *
 * <p>The formats are the ones {@code htpasswd} writes and nginx's {@code auth_basic} accepts:
 * {@code $apr1$}, {@code $1$} (md5crypt), {@code $5$} / {@code $6$} (SHA-crypt, optionally with
 * {@code rounds=N$}), bcrypt {@code $2a$} / {@code $2b$} / {@code $2y$}, {@code {SHA}},
 * {@code {SSHA}}, {@code {PLAIN}} and traditional DES crypt (13 characters). Anything else is
 * rejected by {@link #parse} rather than stored as a hash that can never match, so that a typo in
 * a Secret shows up as a configuration problem instead of as a locked-out user.
 *
 * <p>Every implementation's {@code toString()} names the scheme only: a hash is as good as a
 * password for an offline attack, so it must not end up in logs or in {@code /routes}.
 */
public sealed interface PasswordHash
        permits PasswordHash.Crypt, PasswordHash.Bcrypt, PasswordHash.Sha1, PasswordHash.SaltedSha1,
                PasswordHash.Plain {

    /**
     * Whether {@code password} (the UTF-8 bytes the client sent) matches this hash; the array is
     * left unchanged.
     */
    boolean matches(byte[] password);

    /** The scheme's conventional name ({@code apr1}, {@code bcrypt}, {@code SSHA}, …), safe to log. */
    String scheme();

    /**
     * Parses one stored hash.
     *
     * @throws IllegalArgumentException if the format is not one this class can verify; the message
     *         never contains the hash itself
     */
    static PasswordHash parse(String encoded) {
        if (encoded == null || encoded.isEmpty()) {
            throw new IllegalArgumentException("empty password hash");
        }
        if (encoded.startsWith("{PLAIN}")) {
            return new Plain(encoded.substring("{PLAIN}".length()));
        }
        if (encoded.startsWith("{SHA}")) {
            byte[] digest = base64(encoded.substring("{SHA}".length()), "{SHA}");
            if (digest.length != Sha1.LENGTH) {
                throw new IllegalArgumentException("{SHA} hash does not decode to a 20-byte SHA-1 digest");
            }
            return new Sha1(digest);
        }
        if (encoded.startsWith("{SSHA}")) {
            byte[] both = base64(encoded.substring("{SSHA}".length()), "{SSHA}");
            if (both.length <= Sha1.LENGTH) {
                throw new IllegalArgumentException("{SSHA} hash does not decode to a SHA-1 digest followed by a salt");
            }
            return new SaltedSha1(Arrays.copyOf(both, Sha1.LENGTH), Arrays.copyOfRange(both, Sha1.LENGTH, both.length));
        }
        if (Bcrypt.FORMAT.matcher(encoded).matches()) {
            return new Bcrypt(encoded);
        }
        for (Crypt.Algorithm algorithm : Crypt.Algorithm.values()) {
            if (algorithm.format.matcher(encoded).matches()) {
                // the salt is everything before the last '$' (for DES: the first two characters);
                // commons-codec takes it with the prefix and reproduces the whole string
                String salt = algorithm == Crypt.Algorithm.DES
                        ? encoded.substring(0, 2)
                        : encoded.substring(0, encoded.lastIndexOf('$'));
                return new Crypt(algorithm, salt, encoded);
            }
        }
        throw new IllegalArgumentException("unsupported password hash format (expected $apr1$, $1$, $5$, $6$, "
                + "$2a$/$2b$/$2y$, {SHA}, {SSHA}, {PLAIN} or 13-character DES crypt)");
    }

    private static byte[] base64(String text, String scheme) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            // not e.getMessage(): it quotes the offending character of the hash
            throw new IllegalArgumentException(scheme + " hash is not valid base64");
        }
    }

    /**
     * A crypt(3)-style hash that the library recomputes from the password and the stored salt;
     * the whole recomputed string is compared with the stored one.
     *
     * @param algorithm which algorithm
     * @param salt    the stored hash up to (not including) the last {@code $}, or its first two
     *                characters for DES
     * @param encoded the stored hash
     */
    record Crypt(Algorithm algorithm, String salt, String encoded) implements PasswordHash {
        /** The crypt(3) algorithms commons-codec implements, with the stored format each accepts. */
        public enum Algorithm {
            APR1("apr1", "\\$apr1\\$[./0-9A-Za-z]{1,8}\\$[./0-9A-Za-z]{22}", Md5Crypt::apr1Crypt),
            MD5("md5-crypt", "\\$1\\$[./0-9A-Za-z]{1,8}\\$[./0-9A-Za-z]{22}", Md5Crypt::md5Crypt),
            SHA256("sha256-crypt", "\\$5\\$(rounds=[0-9]{1,9}\\$)?[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{43}",
                    Sha2Crypt::sha256Crypt),
            SHA512("sha512-crypt", "\\$6\\$(rounds=[0-9]{1,9}\\$)?[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{86}",
                    Sha2Crypt::sha512Crypt),
            DES("des-crypt", "[./0-9A-Za-z]{13}", UnixCrypt::crypt);

            private final String label;
            private final Pattern format;
            private final BiFunction<byte[], String, String> crypt;

            Algorithm(String label, String format, BiFunction<byte[], String, String> crypt) {
                this.label = label;
                this.format = Pattern.compile(format);
                this.crypt = crypt;
            }
        }

        @Override
        public boolean matches(byte[] password) {
            // a copy: commons-codec's Md5Crypt and Sha2Crypt zero the key array they are given
            String computed = algorithm.crypt.apply(password.clone(), salt);
            return MessageDigest.isEqual(
                    computed.getBytes(StandardCharsets.US_ASCII), encoded.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String scheme() {
            return algorithm.label;
        }

        @Override
        public String toString() {
            return "PasswordHash[" + algorithm.label + "]";
        }
    }

    /**
     * A bcrypt hash ({@code $2a$}, {@code $2b$}, {@code $2y$}); BouncyCastle compares in constant
     * time.
     *
     * @param encoded the stored hash
     */
    record Bcrypt(String encoded) implements PasswordHash {
        // cost 04..31 as BouncyCastle accepts it; 22 characters of salt and 31 of hash
        static final Pattern FORMAT = Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./0-9A-Za-z]{53}");

        @Override
        public boolean matches(byte[] password) {
            return OpenBSDBCrypt.checkPassword(encoded, password);
        }

        @Override
        public String scheme() {
            return "bcrypt";
        }

        @Override
        public String toString() {
            return "PasswordHash[bcrypt]";
        }
    }

    /**
     * {@code {SHA}base64(SHA-1(password))}, as {@code htpasswd -s} writes it.
     *
     * @param digest the 20-byte SHA-1 digest
     */
    record Sha1(byte[] digest) implements PasswordHash {
        static final int LENGTH = 20;

        public Sha1 {
            digest = digest.clone();
        }

        @Override
        public boolean matches(byte[] password) {
            return MessageDigest.isEqual(sha1(password, new byte[0]), digest);
        }

        @Override
        public String scheme() {
            return "SHA";
        }

        @Override
        public byte[] digest() {
            return digest.clone();
        }

        // records compare arrays by identity; the route table is compared by content
        @Override
        public boolean equals(Object o) {
            return o instanceof Sha1 other && Arrays.equals(digest, other.digest);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(digest);
        }

        @Override
        public String toString() {
            return "PasswordHash[SHA]";
        }
    }

    /**
     * {@code {SSHA}base64(SHA-1(password + salt) + salt)}, the LDAP salted SHA-1 that nginx accepts.
     *
     * @param digest the 20-byte SHA-1 digest
     * @param salt   the salt bytes that follow the digest
     */
    record SaltedSha1(byte[] digest, byte[] salt) implements PasswordHash {
        public SaltedSha1 {
            digest = digest.clone();
            salt = salt.clone();
        }

        @Override
        public boolean matches(byte[] password) {
            return MessageDigest.isEqual(sha1(password, salt), digest);
        }

        @Override
        public String scheme() {
            return "SSHA";
        }

        @Override
        public byte[] digest() {
            return digest.clone();
        }

        @Override
        public byte[] salt() {
            return salt.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SaltedSha1 other && Arrays.equals(digest, other.digest) && Arrays.equals(salt, other.salt);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(digest) + Arrays.hashCode(salt);
        }

        @Override
        public String toString() {
            return "PasswordHash[SSHA]";
        }
    }

    /**
     * {@code {PLAIN}password}: the password itself, compared in constant time.
     *
     * @param password the stored password
     */
    record Plain(String password) implements PasswordHash {
        @Override
        public boolean matches(byte[] candidate) {
            return MessageDigest.isEqual(candidate, password.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String scheme() {
            return "PLAIN";
        }

        @Override
        public String toString() {
            return "PasswordHash[PLAIN]";
        }
    }

    private static byte[] sha1(byte[] password, byte[] salt) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(password);
            sha1.update(salt);
            return sha1.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-1", e);
        }
    }
}
