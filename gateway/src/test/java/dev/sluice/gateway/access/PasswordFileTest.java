package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.apache.commons.codec.digest.UnixCrypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** htpasswd / auth-map Secrets: every hash format nginx accepts, and how the file is read. */
class PasswordFileTest {

    /**
     * Fixed vectors made by other implementations than the ones under test ({@code openssl
     * passwd}, glibc/libxcrypt crypt(3) through perl, {@code openssl dgst}), so a library that
     * hashes differently from htpasswd would fail here. The password is always {@code pass}.
     */
    static Stream<Arguments> fixedVectors() {
        return Stream.of(
                // openssl passwd -apr1 -salt xxxxxxxx pass
                Arguments.of("apr1", "$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U1"),
                // openssl passwd -1 -salt saltsalt pass
                Arguments.of("md5-crypt", "$1$saltsalt$hZR.9zfJXcVTsa9iTxnQR1"),
                // openssl passwd -5 -salt saltsaltsalt pass
                Arguments.of("sha256-crypt", "$5$saltsaltsalt$hTWxq5A4dpHat0TEElh85m0M8RljTVlxYStVLYuZDCA"),
                // perl crypt("pass", '$5$rounds=5000$saltsalt')
                Arguments.of("sha256-crypt", "$5$rounds=5000$saltsalt$9k0iflfLhuazVMAUTm0egnVlpP5ays5xBLqSJuoPfB9"),
                // openssl passwd -6 -salt saltsaltsalt pass
                Arguments.of("sha512-crypt", "$6$saltsaltsalt$3A/kHIFNTJtaIxbK2yRJbU/3OWpBd9A6XVuQo5j7fJRWxQmF6NajlhxLvMpB7QClA0PcokWPcP12uq7rEJtyn/"),
                // perl crypt("pass", '$6$rounds=1000$saltsalt')
                Arguments.of("sha512-crypt", "$6$rounds=1000$saltsalt$FiBN5PCSQz7PpTOT7vwGSzY2QH528hJHj.FtyQdehiyRbdxPIZydG7z9a4mOh.ZWHCU17ZsaRhe.JmCaRFZjY."),
                // perl crypt("pass", '$2y$05$abcdefghijklmnopqrstuu') and the same for 2a / 2b
                Arguments.of("bcrypt", "$2y$05$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3K"),
                Arguments.of("bcrypt", "$2a$05$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3K"),
                Arguments.of("bcrypt", "$2b$05$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3K"),
                // printf pass | openssl dgst -sha1 -binary | base64   (htpasswd -s)
                Arguments.of("SHA", "{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ="),
                // (sha1("pass" + "salt") + "salt") | base64
                Arguments.of("SSHA", "{SSHA}EfVjnyJSUVXLC0NXPuQhKDjHjYdzYWx0"),
                Arguments.of("PLAIN", "{PLAIN}pass"),
                // perl crypt("pass", "ab")
                Arguments.of("des-crypt", "abccBcrPOxnLU"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixedVectors")
    void fixedVectorVerifiesOnlyTheRightPasswordOfAKnownUser(String scheme, String hash) {
        PasswordFile file = PasswordFile.parseHtpasswd("alice:" + hash + "\n");

        assertThat(PasswordHash.parse(hash).scheme()).isEqualTo(scheme);
        assertThat(file.verify("alice", "pass")).isTrue();
        assertThat(file.verify("alice", "pass2")).isFalse();
        assertThat(file.verify("alice", "Pass")).isFalse();
        assertThat(file.verify("alice", "")).isFalse();
        assertThat(file.verify("bob", "pass")).isFalse();
        assertThat(file.verify("Alice", "pass")).isFalse();
        assertThat(file.verify(null, "pass")).isFalse();
        assertThat(file.verify("alice", null)).isFalse();
    }

    @Test
    void bcryptVectorFromThePhpManual() {
        // password_verify() example of the PHP manual, a $2y$ hash with cost 07
        PasswordFile file = PasswordFile.parseHtpasswd(
                "rasmus:$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq");

        assertThat(file.verify("rasmus", "rasmuslerdorf")).isTrue();
        assertThat(file.verify("rasmus", "rasmuslerdorF")).isFalse();
    }

    @Test
    void passwordsAreHashedAsUtf8() {
        // openssl passwd -apr1 -salt saltsalt "$(printf 'p\xc3\xa4ss')"
        PasswordFile file = PasswordFile.parseHtpasswd("alice:$apr1$saltsalt$f74.33Z0f34Aak2NYQJTa0");

        assertThat(file.verify("alice", "päss")).isTrue();
        // the ISO-8859-1 bytes of the same text must not match
        assertThat(file.verify("alice", new String("päss".getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8)))
                .isFalse();
    }

    @Test
    void hashesGeneratedWithRandomSaltsVerify() {
        // a fresh array for each call: commons-codec zeroes the key it is given
        Map<String, String> hashes = new LinkedHashMap<>();
        hashes.put("apr1", Md5Crypt.apr1Crypt(pw()));
        hashes.put("md5", Md5Crypt.md5Crypt(pw()));
        hashes.put("sha256", Sha2Crypt.sha256Crypt(pw()));
        hashes.put("sha512", Sha2Crypt.sha512Crypt(pw()));
        hashes.put("bcrypt", OpenBSDBCrypt.generate("2y", pw(), "0123456789abcdef".getBytes(StandardCharsets.US_ASCII), 4));
        hashes.put("des", UnixCrypt.crypt(pw()));
        PasswordFile file = PasswordFile.fromMap(hashes);

        assertThat(file.size()).isEqualTo(6);
        for (String user : hashes.keySet()) {
            assertThat(file.verify(user, "s3cret:with colon")).as(user).isTrue();
            // differs in the first character: DES crypt only reads the first eight
            assertThat(file.verify(user, "S3cret:with colon")).as(user).isFalse();
        }
    }

    private static byte[] pw() {
        return "s3cret:with colon".getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixedVectors")
    void matchingLeavesThePasswordArrayIntact(String scheme, String hash) {
        PasswordHash parsed = PasswordHash.parse(hash);
        byte[] password = "pass".getBytes(StandardCharsets.UTF_8);

        assertThat(parsed.matches(password)).isTrue();
        assertThat(password).isEqualTo("pass".getBytes(StandardCharsets.UTF_8));
        assertThat(parsed.matches(password)).isTrue();
    }

    @Test
    void saltedShaBuiltInTheTest() throws Exception {
        byte[] salt = {(byte) 0x9f, 0x00, 0x41, (byte) 0xfe, 0x12, 0x34, 0x56, 0x78};
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        sha1.update("open sesame".getBytes(StandardCharsets.UTF_8));
        sha1.update(salt);
        byte[] digest = sha1.digest();
        byte[] both = new byte[digest.length + salt.length];
        System.arraycopy(digest, 0, both, 0, digest.length);
        System.arraycopy(salt, 0, both, digest.length, salt.length);
        String hash = "{SSHA}" + Base64.getEncoder().encodeToString(both);

        PasswordFile file = PasswordFile.parseHtpasswd("ali:" + hash);

        assertThat(file.verify("ali", "open sesame")).isTrue();
        assertThat(file.verify("ali", "open sesamE")).isFalse();
        // a verifier that ignored the salt would accept SHA-1(password) followed by any bytes
        byte[] unsalted = MessageDigest.getInstance("SHA-1").digest("open sesame".getBytes(StandardCharsets.UTF_8));
        byte[] unsaltedWithSalt = new byte[unsalted.length + salt.length];
        System.arraycopy(unsalted, 0, unsaltedWithSalt, 0, unsalted.length);
        System.arraycopy(salt, 0, unsaltedWithSalt, unsalted.length, salt.length);
        assertThat(PasswordFile.parseHtpasswd("ali:{SSHA}" + Base64.getEncoder().encodeToString(unsaltedWithSalt))
                .verify("ali", "open sesame")).isFalse();
    }

    @Test
    void commentsBlankLinesAndCrlfAreSkipped() {
        PasswordFile file = PasswordFile.parseHtpasswd(
                "# users of the staging site\r\n"
                        + "\r\n"
                        + "alice:{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=\r\n"
                        + "   \r\n"
                        + "#bob:{PLAIN}pass\r\n"
                        + "carol:$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U1\r\n");

        assertThat(file.size()).isEqualTo(2);
        assertThat(file.users()).containsExactlyInAnyOrder("alice", "carol");
        assertThat(file.verify("alice", "pass")).isTrue();
        assertThat(file.verify("carol", "pass")).isTrue();
        assertThat(file.verify("bob", "pass")).isFalse();
        assertThat(file.verify("#bob", "pass")).isFalse();
    }

    @Test
    void firstLineOfADuplicateUserWins() {
        PasswordFile file = PasswordFile.parseHtpasswd("alice:{PLAIN}first\nalice:{PLAIN}second\n");

        assertThat(file.size()).isEqualTo(1);
        assertThat(file.verify("alice", "first")).isTrue();
        assertThat(file.verify("alice", "second")).isFalse();
    }

    @Test
    void aThirdFieldIsACommentAsInNginx() {
        PasswordFile file = PasswordFile.parseHtpasswd("alice:{PLAIN}pass:Alice Liddell\n");

        assertThat(file.verify("alice", "pass")).isTrue();
        assertThat(file.verify("alice", "pass:Alice Liddell")).isFalse();
    }

    @Test
    void lineWithoutColonNamesItsLineNumberButNotItsContent() {
        assertThatThrownBy(() -> PasswordFile.parseHtpasswd("# header\n\nalice:{PLAIN}pass\nhunter2\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("line 4: ")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void emptyUserNamesItsLineNumber() {
        assertThatThrownBy(() -> PasswordFile.parseHtpasswd("alice:{PLAIN}pass\n:{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("line 2: ")
                .hasMessageNotContaining("nU4eI71bcnBGqeO0t9tXvY1u5oQ");
    }

    @ParameterizedTest
    @MethodSource("unverifiableHashes")
    void unverifiableHashNamesItsLineButNeverTheHash(String hash) {
        assertThatThrownBy(() -> PasswordFile.parseHtpasswd("#\nalice:{PLAIN}pass\nbob:" + hash + "\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("line 3: ")
                .satisfies(e -> {
                    // neither the hash nor any long enough piece of it
                    for (int i = 0; i + 6 <= hash.length(); i++) {
                        String piece = hash.substring(i, i + 6);
                        if (piece.chars().filter(Character::isLetterOrDigit).count() >= 5) {
                            assertThat(e.getMessage()).doesNotContain(piece);
                        }
                    }
                });
    }

    static Stream<String> unverifiableHashes() {
        return Stream.of(
                "",
                "hunter2hunter2",
                // yescrypt: glibc knows it, commons-codec does not
                "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
                "$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U",     // one character short
                "$2y$05$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3",
                "$2y$99$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3K", // cost out of range
                "$2x$05$abcdefghijklmnopqrstuuZFBUbfXoM8LFiPx8LYlO/sXZB/Cwk3K",
                "{SHA}nU4eI71bcnBGqeO0t9tXvY1u",             // 18 bytes
                "{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=AAAA",
                "{SSHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=",        // no salt
                "{SHA}!!hunter2hunter2!!",
                "{MD5}nU4eI71bcnBGqeO0t9tXvY1u5oQ=",
                "abccBcrPOxnLU ",                            // trailing space: not a DES hash
                "abccBcrPOxnL");
    }

    @Test
    void authMapVerifiesAndNamesTheUserKeyOnError() {
        PasswordFile file = PasswordFile.fromMap(Map.of(
                "alice", "$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U1\n", // kubectl --from-file keeps the newline
                "bob", "{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ="));

        assertThat(file.verify("alice", "pass")).isTrue();
        assertThat(file.verify("bob", "pass")).isTrue();
        assertThat(file.verify("bob", "nope")).isFalse();
        assertThat(file.verify("carol", "pass")).isFalse();

        assertThatThrownBy(() -> PasswordFile.fromMap(Map.of("mallory", "hunter2hunter2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mallory")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> PasswordFile.fromMap(Map.of("", "{PLAIN}x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void equalByContentAndToStringShowsNoHash() {
        String content = "alice:{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=\n"
                + "bob:{SSHA}EfVjnyJSUVXLC0NXPuQhKDjHjYdzYWx0\n"
                + "carol:$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U1\n"
                + "dave:{PLAIN}pass\n";
        PasswordFile a = PasswordFile.parseHtpasswd(content);
        PasswordFile b = PasswordFile.parseHtpasswd(content);
        PasswordFile fromMap = PasswordFile.fromMap(Map.of(
                "alice", "{SHA}nU4eI71bcnBGqeO0t9tXvY1u5oQ=",
                "bob", "{SSHA}EfVjnyJSUVXLC0NXPuQhKDjHjYdzYWx0",
                "carol", "$apr1$xxxxxxxx$ckCtyLj3v7WoKYQQ7.R6U1",
                "dave", "{PLAIN}pass"));

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isEqualTo(fromMap);
        assertThat(a).isNotEqualTo(PasswordFile.parseHtpasswd(content.replace("{PLAIN}pass", "{PLAIN}pasS")));
        assertThat(a).isNotEqualTo(PasswordFile.parseHtpasswd(content.replace("{SSHA}Ef", "{SSHA}Eg")));
        assertThat(a.toString())
                .contains("4")
                .doesNotContain("nU4eI71", "EfVjny", "ckCtyL", "pass", "$apr1$", "{SHA}");
        for (String user : a.users()) {
            assertThat(PasswordHash.parse(content.lines()
                            .filter(l -> l.startsWith(user + ":")).findFirst().orElseThrow()
                            .substring(user.length() + 1)).toString())
                    .doesNotContain("nU4eI71", "EfVjny", "ckCtyL", "pass");
        }
    }
}
