package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code Authorization: Basic …} header parsing (RFC 7617). */
class BasicCredentialsTest {

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void rfcExample() {
        // RFC 7617 §2: Aladdin / open sesame
        assertThat(BasicCredentials.parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="))
                .isEqualTo(new BasicCredentials("Aladdin", "open sesame"));
    }

    @Test
    void schemeIsCaseInsensitive() {
        assertThat(BasicCredentials.parse("basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")).isNotNull();
        assertThat(BasicCredentials.parse("BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==")).isNotNull();
        assertThat(BasicCredentials.parse("bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ== ")).isNotNull();
    }

    @Test
    void passwordKeepsEverythingAfterTheFirstColon() {
        assertThat(BasicCredentials.parse(basic("alice:pa:ss:")))
                .isEqualTo(new BasicCredentials("alice", "pa:ss:"));
        assertThat(BasicCredentials.parse(basic(":")))
                .isEqualTo(new BasicCredentials("", ""));
        assertThat(BasicCredentials.parse(basic("alice:")))
                .isEqualTo(new BasicCredentials("alice", ""));
    }

    @Test
    void utf8IsDecoded() {
        assertThat(BasicCredentials.parse(basic("jürgen:päss€")))
                .isEqualTo(new BasicCredentials("jürgen", "päss€"));
    }

    @Test
    void invalidUtf8IsRejectedRatherThanReplaced() {
        // 0xFF is never valid UTF-8; a lenient decoder would turn it into U+FFFD
        String header = "Basic " + Base64.getEncoder().encodeToString(new byte[] {'a', ':', (byte) 0xff});

        assertThat(BasicCredentials.parse(header)).isNull();
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {
        "",
        "Basic",
        "Basic ",
        "Basic    ",
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basics QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Digest username=\"Aladdin\"",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==!",      // not base64
        "Basic QWxh ZGRpbjpvcGVuIHNlc2FtZQ==",      // not base64 (inner space)
        "Basic QWxhZGRpbg==",                       // "Aladdin": no colon
    })
    void absentOrMalformedIsNull(String header) {
        assertThat(BasicCredentials.parse(header)).isNull();
    }

    @Test
    void toStringLeavesThePasswordOut() {
        assertThat(new BasicCredentials("alice", "hunter2").toString())
                .contains("alice")
                .doesNotContain("hunter2");
    }
}
