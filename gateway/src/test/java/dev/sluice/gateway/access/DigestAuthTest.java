package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.access.DigestNonces.Result;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Digest authentication (RFC 2617, qop=auth, MD5) as nginx's auth_digest module does it. */
class DigestAuthTest {
    private static final String REALM = "Sluice staging";
    private static final long T0 = 1_750_000_000_000L;
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final DigestNonces nonces = new DigestNonces(KEY);
    private final DigestCredentials creds = DigestCredentials.parseHtdigest(
            "alice:" + REALM + ":" + md5("alice:" + REALM + ":wonderland") + "\n", REALM);

    // ---- a client as curl --digest is: MD5, qop=auth, computed here independently of the code under test

    private static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String nonceOf(String challenge) {
        Matcher m = Pattern.compile("nonce=\"([^\"]*)\"").matcher(challenge);
        assertThat(m.find()).as(challenge).isTrue();
        return m.group(1);
    }

    private static String answer(String user, String realm, String password, String nonce, String nc,
            String method, String uri) {
        String cnonce = "MTc1MDAwMDAwMA";
        String ha1 = md5(user + ":" + realm + ":" + password);
        String ha2 = md5(method + ":" + uri);
        String response = md5(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", cnonce=\"" + cnonce + "\", nc=" + nc + ", qop=auth, response=\"" + response
                + "\", opaque=\"ignored\", algorithm=MD5";
    }

    private String freshNonce() {
        return nonceOf(nonces.challenge(REALM, false, T0));
    }

    // ---- verify

    @Test
    void correctAnswerIsOk() {
        String nonce = freshNonce();

        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", nonce, "00000001", "GET", "/a?b=c"),
                "GET", "/a?b=c", T0 + 1_000)).isEqualTo(Result.OK);
    }

    @Test
    void rfc2617ExampleResponse() {
        // RFC 2617 §3.5: Mufasa / "Circle Of Life" in testrealm@host.com
        String ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life");

        assertThat(DigestNonces.response(ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
                "GET", "/dir/index.html")).isEqualTo("6629fae49393a05397450978507c4ef1");
    }

    @Test
    void wrongPasswordIsInvalid() {
        assertThat(nonces.verify(creds, answer("alice", REALM, "Wonderland", freshNonce(), "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void unknownUserIsInvalid() {
        assertThat(nonces.verify(creds, answer("bob", REALM, "wonderland", freshNonce(), "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void wrongRealmIsInvalidEvenWhenTheAnswerMatchesIt() {
        // alice has the same password in another realm; the location's realm is what counts
        DigestCredentials other = DigestCredentials.parseHtdigest(
                "alice:other:" + md5("alice:other:wonderland") + "\n"
                        + "alice:" + REALM + ":" + md5("alice:" + REALM + ":wonderland") + "\n", REALM);
        String nonce = freshNonce();

        assertThat(nonces.verify(other, answer("alice", "other", "wonderland", nonce, "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void nonceIssuedForAnotherRealmIsInvalid() {
        String nonceOfOtherRealm = nonceOf(nonces.challenge("other", false, T0));

        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", nonceOfOtherRealm, "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void tamperedNonceIsInvalid() {
        String nonce = freshNonce();
        // move the issue time forward by changing the first character: the HMAC no longer matches
        String tampered = (nonce.charAt(0) == 'A' ? "B" : "A") + nonce.substring(1);

        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", tampered, "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", "made-up", "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void nonceOfAnotherKeyIsInvalid() {
        String foreign = nonceOf(new DigestNonces().challenge(REALM, false, T0));

        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", foreign, "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
    }

    @Test
    void nonceOlderThanSixtySecondsIsStale() {
        String nonce = freshNonce();
        String header = answer("alice", REALM, "wonderland", nonce, "00000001", "GET", "/");

        assertThat(nonces.verify(creds, header, "GET", "/", T0 + 60_001)).isEqualTo(Result.STALE);
        assertThat(nonces.verify(creds, header, "GET", "/", T0 + 3_600_000)).isEqualTo(Result.STALE);
        // a wrong answer with an old nonce is not worth a silent retry
        assertThat(nonces.verify(creds, answer("alice", REALM, "nope", nonce, "00000001", "GET", "/"),
                "GET", "/", T0 + 60_001)).isEqualTo(Result.MISSING_OR_INVALID);
        // still within the lifetime: accepted (the stale attempts above did not consume nc 1)
        assertThat(nonces.verify(creds, header, "GET", "/", T0 + 60_000)).isEqualTo(Result.OK);
    }

    @Test
    void replayedOrLowerNonceCountIsInvalid() {
        String nonce = freshNonce();
        String first = answer("alice", REALM, "wonderland", nonce, "00000001", "GET", "/");
        String second = answer("alice", REALM, "wonderland", nonce, "00000002", "GET", "/");
        String tenth = answer("alice", REALM, "wonderland", nonce, "0000000a", "GET", "/");

        assertThat(nonces.verify(creds, first, "GET", "/", T0)).isEqualTo(Result.OK);
        assertThat(nonces.verify(creds, first, "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, tenth, "GET", "/", T0)).isEqualTo(Result.OK);
        assertThat(nonces.verify(creds, second, "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        // a new nonce starts over
        assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", freshNonce(), "00000001", "GET", "/"),
                "GET", "/", T0)).isEqualTo(Result.OK);
    }

    @Test
    void nonceCountZeroOrNotEightHexDigitsIsInvalid() {
        for (String nc : List.of("00000000", "1", "0000000g", "000000001")) {
            assertThat(nonces.verify(creds, answer("alice", REALM, "wonderland", freshNonce(), nc, "GET", "/"),
                    "GET", "/", T0)).as(nc).isEqualTo(Result.MISSING_OR_INVALID);
        }
    }

    @Test
    void concurrentReplaysOfOneAnswerSucceedOnce() throws Exception {
        String header = answer("alice", REALM, "wonderland", freshNonce(), "00000001", "GET", "/");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Result>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return nonces.verify(creds, header, "GET", "/", T0);
                }));
            }
            start.countDown();
            long ok = 0;
            for (Future<Result> result : results) {
                ok += result.get() == Result.OK ? 1 : 0;
            }
            assertThat(ok).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void uriOrMethodMismatchIsInvalid() {
        String header = answer("alice", REALM, "wonderland", freshNonce(), "00000001", "GET", "/public");

        assertThat(nonces.verify(creds, header, "GET", "/private", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, header, "GET", "/public?x=1", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, header, "POST", "/public", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, header, "GET", "/public", T0)).isEqualTo(Result.OK);
    }

    @Test
    void missingOrUnsupportedParametersAreInvalid() {
        String good = answer("alice", REALM, "wonderland", freshNonce(), "00000001", "GET", "/");

        assertThat(nonces.verify(creds, null, "GET", "/", T0)).isEqualTo(Result.MISSING_OR_INVALID);
        assertThat(nonces.verify(creds, "Basic YWxpY2U6d29uZGVybGFuZA==", "GET", "/", T0))
                .isEqualTo(Result.MISSING_OR_INVALID);
        for (String broken : List.of(
                good.replace(", qop=auth", ""),
                good.replace("qop=auth", "qop=auth-int"),
                good.replace("algorithm=MD5", "algorithm=MD5-sess"),
                good.replace("cnonce=\"MTc1MDAwMDAwMA\", ", ""),
                good.replace("username=\"alice\", ", ""),
                good.replace("uri=\"/\", ", ""),
                good + ", nc=00000002",          // a parameter twice
                good.replace("\"ignored\"", "\"unterminated"))) {
            assertThat(nonces.verify(creds, broken, "GET", "/", T0)).as(broken).isEqualTo(Result.MISSING_OR_INVALID);
        }
        // the original still works: none of the above consumed its nonce count
        assertThat(nonces.verify(creds, good, "GET", "/", T0)).isEqualTo(Result.OK);
    }

    @Test
    void responseHexIsCaseInsensitiveAndParameterNamesToo() {
        String nonce = freshNonce();
        String header = answer("alice", REALM, "wonderland", nonce, "00000001", "GET", "/");
        Matcher m = Pattern.compile("response=\"([0-9a-f]{32})\"").matcher(header);
        assertThat(m.find()).isTrue();
        String upper = header.replace(m.group(1), m.group(1).toUpperCase()).replace("username=", "UserName=")
                .replaceFirst("^Digest", "digest");

        assertThat(nonces.verify(creds, upper, "GET", "/", T0)).isEqualTo(Result.OK);
    }

    // ---- challenge and header syntax

    @Test
    void challengeHasTheModulesShape() {
        String challenge = nonces.challenge(REALM, false, T0);

        assertThat(challenge).matches(
                "Digest realm=\"Sluice staging\", qop=\"auth\", algorithm=MD5, nonce=\"[A-Za-z0-9_-]+\", opaque=\"[0-9a-f]+\"");
        assertThat(nonces.challenge(REALM, true, T0)).endsWith(", stale=true");
        assertThat(nonceOf(nonces.challenge(REALM, false, T0))).isNotEqualTo(nonceOf(challenge));
    }

    @Test
    void challengeQuotesTheRealmAndRefusesControlCharacters() {
        assertThat(nonces.challenge("a \"quoted\" \\ realm", false, T0))
                .startsWith("Digest realm=\"a \\\"quoted\\\" \\\\ realm\", ");
        assertThatThrownBy(() -> nonces.challenge("evil\r\nSet-Cookie: x=y", false, T0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void realmWithQuotesRoundTrips() {
        String realm = "say \"hi\", then \\ leave";
        DigestCredentials quoted = new DigestCredentials(realm, Map.of("alice", md5("alice:" + realm + ":pw")));
        String nonce = nonceOf(nonces.challenge(realm, false, T0));
        String header = answer("alice", "REALM", "pw", nonce, "00000001", "GET", "/")
                .replace("realm=\"REALM\"", "realm=\"say \\\"hi\\\", then \\\\ leave\"");
        // the client hashes the unescaped realm
        String response = md5(md5("alice:" + realm + ":pw") + ":" + nonce + ":00000001:MTc1MDAwMDAwMA:auth:"
                + md5("GET:/"));
        header = header.replaceFirst("response=\"[0-9a-f]{32}\"", "response=\"" + response + "\"");

        assertThat(nonces.verify(quoted, header, "GET", "/", T0)).isEqualTo(Result.OK);
    }

    @Test
    void headerParametersQuotedUnquotedAndCommasInsideQuotes() {
        Map<String, String> params = DigestNonces.parseHeader(
                "Digest  username=\"a,b\" ,realm=\"x \\\"y\\\"\",nc=00000001,  qop=auth ,uri=\"/p?q=1,2\"");

        assertThat(params).containsOnly(
                Map.entry("username", "a,b"),
                Map.entry("realm", "x \"y\""),
                Map.entry("nc", "00000001"),
                Map.entry("qop", "auth"),
                Map.entry("uri", "/p?q=1,2"));
        assertThat(DigestNonces.parseHeader("Digest")).isNull();
        assertThat(DigestNonces.parseHeader("Digestive username=\"a\"")).isNull();
        assertThat(DigestNonces.parseHeader("Digest username")).isNull();
        assertThat(DigestNonces.parseHeader("Digest username=\"a\" realm=\"b\"")).isNull();
        assertThat(DigestNonces.parseHeader("Digest =x")).isNull();
        assertThat(DigestNonces.parseHeader("Digest a=1, A=2")).isNull();
    }

    // ---- htdigest

    @Test
    void htdigestKeepsOnlyTheLocationsRealmAndTheFirstLineOfAUser() {
        String ha1 = md5("alice:" + REALM + ":wonderland");
        DigestCredentials parsed = DigestCredentials.parseHtdigest(
                "# htdigest -c auth 'Sluice staging' alice\r\n"
                        + "\r\n"
                        + "alice:" + REALM + ":" + ha1.toUpperCase() + "\r\n"
                        + "alice:" + REALM + ":" + md5("alice:" + REALM + ":second") + "\r\n"
                        + "bob:other:" + md5("bob:other:pw") + "\r\n"
                        + "carol:realm:with:colons:" + md5("carol:realm:with:colons:pw") + "\r\n",
                REALM);

        assertThat(parsed.realm()).isEqualTo(REALM);
        assertThat(parsed.users()).containsOnly(Map.entry("alice", ha1));
        assertThat(DigestCredentials.parseHtdigest("carol:realm:with:colons:" + md5("x") + "\n", "realm:with:colons")
                .users()).containsOnlyKeys("carol");
    }

    @Test
    void htdigestErrorsNameTheLineButNotTheHa1() {
        String ha1 = md5("alice:" + REALM + ":wonderland");
        for (String badLine : List.of(
                "alice:" + ha1,                                  // two fields
                ":" + REALM + ":" + ha1,                         // empty user
                "alice:" + REALM + ":" + ha1.substring(1),       // 31 digits
                "alice:" + REALM + ":" + ha1.substring(1) + "g", // not hex
                "alice:" + REALM + ":" + ha1.substring(1) + "\uff11", // full-width digit one
                "no colon at all")) {
            assertThatThrownBy(() -> DigestCredentials.parseHtdigest("# c\nbob:x:" + md5("y") + "\n" + badLine + "\n", REALM))
                    .as(badLine)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("line 3: ")
                    .hasMessageNotContaining(ha1.substring(1, 31));
        }
    }

    @Test
    void credentialsAreEqualByContentAndPrintNoHa1() {
        String content = "alice:" + REALM + ":" + md5("alice:" + REALM + ":wonderland") + "\n";
        DigestCredentials a = DigestCredentials.parseHtdigest(content, REALM);

        assertThat(a).isEqualTo(DigestCredentials.parseHtdigest(content.toUpperCase().replace("ALICE:SLUICE STAGING", "alice:" + REALM), REALM))
                .hasSameHashCodeAs(DigestCredentials.parseHtdigest(content, REALM))
                .isNotEqualTo(DigestCredentials.parseHtdigest(content, "other"));
        assertThat(a.toString()).contains(REALM).doesNotContain(md5("alice:" + REALM + ":wonderland"));
        assertThat(a.ha1("alice")).isEqualTo(md5("alice:" + REALM + ":wonderland"));
        assertThat(a.ha1("bob")).isNull();
        assertThatThrownBy(() -> new DigestCredentials("a\nb", Map.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
