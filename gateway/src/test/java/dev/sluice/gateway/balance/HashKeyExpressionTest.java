package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HashKeyExpressionTest {
    static final RequestView REQ = SimpleRequestView.builder()
            .header("Host", "Shop.Example.com:8443")
            .header("X-Tenant-Id", "acme")
            .cookie("session", "s-42")
            .remoteAddress("10.1.2.3")
            .requestUri("/a/./b%41//c?Page=2&q=x&page=3")
            .https(true)
            .build();

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "$request_uri                | /a/./b%41//c?Page=2&q=x&page=3",
            "${request_uri}-text         | /a/./b%41//c?Page=2&q=x&page=3-text",
            "$REQUEST_URI                | /a/./b%41//c?Page=2&q=x&page=3",
            "$uri                        | /a/bA/c",
            "$args                       | Page=2&q=x&page=3",
            "$query_string               | Page=2&q=x&page=3",
            "x$is_args                   | x?",
            "$remote_addr                | 10.1.2.3",
            "$host                       | shop.example.com",
            "$scheme://$host             | https://shop.example.com",
            "$https                      | on",
            "$http_x_tenant_id           | acme",
            "$http_x_missing             | ''",
            "$cookie_session             | s-42",
            "$cookie_Session             | ''",
            "$arg_page                   | 2",
            "$arg_q                      | x",
            "$arg_missing                | ''",
            "$http_x_tenant_id$cookie_session | acmes-42",
            "tenant:${http_x_tenant_id}:$arg_q | tenant:acme:x",
            "plain text                  | plain text",
    })
    void evaluates(String expression, String expected) {
        assertThat(HashKeyExpression.compile(expression).evaluate(REQ)).isEqualTo(expected);
    }

    @Test
    void binaryRemoteAddrIsTheAddressBytes() {
        String v4 = HashKeyExpression.compile("$binary_remote_addr").evaluate(REQ);
        assertThat(v4.getBytes(StandardCharsets.ISO_8859_1)).containsExactly(10, 1, 2, 3);
        RequestView v6 = SimpleRequestView.builder().remoteAddress("::1").build();
        assertThat(HashKeyExpression.compile("$binary_remote_addr").evaluate(v6)).hasSize(16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "$", "$-x", "${request_uri", "${}", "${a-b}", "$request_method", "$http_", "text$"})
    void rejects(String expression) {
        assertThatThrownBy(() -> HashKeyExpression.compile(expression)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void equalityIsTheSourceText() {
        assertThat(HashKeyExpression.compile("$host")).isEqualTo(HashKeyExpression.compile("$host"));
        assertThat(HashKeyExpression.compile("$host")).isNotEqualTo(HashKeyExpression.compile("${host}"));
        assertThat(HashKeyExpression.compile("${host}").source()).isEqualTo("${host}");
    }
}
