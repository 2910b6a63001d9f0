package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.RetryPolicy.Decision.GIVE_UP_BAD_GATEWAY;
import static dev.sluice.gateway.proxy.RetryPolicy.Decision.GIVE_UP_GATEWAY_TIMEOUT;
import static dev.sluice.gateway.proxy.RetryPolicy.Decision.RETRY_NEW_ENDPOINT;
import static dev.sluice.gateway.proxy.RetryPolicy.Decision.RETRY_SAME_ENDPOINT_FRESH;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** NGINX's {@code proxy_next_upstream error timeout} as {@link RetryPolicy} decides it. */
class RetryPolicyTest {
    private static RetryPolicy.Decision decide(UpstreamFailure f, HttpMethod m, int attempts, int max) {
        return RetryPolicy.decide(f, m, true, false, false, attempts, max);
    }

    @Test
    void aFailedConnectMovesOnForAnyMethodWhileAttemptsAreLeft() {
        assertThat(decide(UpstreamFailure.CONNECT, HttpMethod.POST, 1, 3)).isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(decide(UpstreamFailure.CONNECT, HttpMethod.GET, 2, 3)).isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(decide(UpstreamFailure.CONNECT, HttpMethod.GET, 3, 3)).isEqualTo(GIVE_UP_BAD_GATEWAY);
    }

    @ParameterizedTest
    @EnumSource(value = UpstreamFailure.class, names = {"WRITE", "CLOSED"})
    void afterTheRequestWentOutOnlyIdempotentMethodsMoveOn(UpstreamFailure f) {
        assertThat(decide(f, HttpMethod.GET, 1, 3)).isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(decide(f, HttpMethod.PUT, 1, 3)).isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(decide(f, HttpMethod.POST, 1, 3)).isEqualTo(GIVE_UP_BAD_GATEWAY);
        assertThat(decide(f, HttpMethod.PATCH, 1, 3)).isEqualTo(GIVE_UP_BAD_GATEWAY);
    }

    @Test
    void timeoutsAnswer504AndAMalformedResponse502WithoutRetry() {
        assertThat(decide(UpstreamFailure.READ_TIMEOUT, HttpMethod.GET, 1, 3)).isEqualTo(GIVE_UP_GATEWAY_TIMEOUT);
        assertThat(decide(UpstreamFailure.SEND_TIMEOUT, HttpMethod.GET, 1, 3)).isEqualTo(GIVE_UP_GATEWAY_TIMEOUT);
        // a gRPC call past its grpc-timeout, even while still connecting: nobody waits for a retry
        assertThat(decide(UpstreamFailure.CALL_DEADLINE, HttpMethod.POST, 1, 3)).isEqualTo(GIVE_UP_GATEWAY_TIMEOUT);
        assertThat(decide(UpstreamFailure.BAD_RESPONSE, HttpMethod.GET, 1, 3)).isEqualTo(GIVE_UP_BAD_GATEWAY);
        assertThat(GIVE_UP_GATEWAY_TIMEOUT.status()).isEqualTo(504);
        assertThat(GIVE_UP_BAD_GATEWAY.status()).isEqualTo(502);
        assertThat(RETRY_NEW_ENDPOINT.retry()).isTrue();
        assertThat(GIVE_UP_BAD_GATEWAY.retry()).isFalse();
    }

    @Test
    void aBodyThatCannotBeResentIsNotRetried() {
        assertThat(RetryPolicy.decide(UpstreamFailure.CLOSED, HttpMethod.PUT, false, false, false, 1, 3))
                .isEqualTo(GIVE_UP_BAD_GATEWAY);
        assertThat(RetryPolicy.decide(UpstreamFailure.CONNECT, HttpMethod.PUT, false, false, false, 1, 3))
                .isEqualTo(GIVE_UP_BAD_GATEWAY);
        assertThat(RetryPolicy.decide(UpstreamFailure.CLOSED, HttpMethod.PUT, false, true, false, 1, 3))
                .as("not even on a fresh connection").isEqualTo(GIVE_UP_BAD_GATEWAY);
    }

    @Test
    void aStalePooledConnectionGetsOneFreshTryForAnyMethodEvenWithNoAttemptsLeft() {
        assertThat(RetryPolicy.decide(UpstreamFailure.CLOSED, HttpMethod.POST, true, true, false, 1, 1))
                .isEqualTo(RETRY_SAME_ENDPOINT_FRESH);
        assertThat(RetryPolicy.decide(UpstreamFailure.WRITE, HttpMethod.GET, true, true, false, 3, 3))
                .isEqualTo(RETRY_SAME_ENDPOINT_FRESH);
        assertThat(RetryPolicy.decide(UpstreamFailure.CLOSED, HttpMethod.POST, true, true, true, 1, 3))
                .as("only once").isEqualTo(GIVE_UP_BAD_GATEWAY);
        assertThat(RetryPolicy.decide(UpstreamFailure.CLOSED, HttpMethod.GET, true, true, true, 1, 3))
                .as("then the ordinary rule").isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(RetryPolicy.decide(UpstreamFailure.CONNECT, HttpMethod.GET, true, true, false, 1, 3))
                .as("a connect failure is never on a pooled connection's account").isEqualTo(RETRY_NEW_ENDPOINT);
        assertThat(RetryPolicy.decide(UpstreamFailure.READ_TIMEOUT, HttpMethod.GET, true, true, false, 1, 3))
                .isEqualTo(GIVE_UP_GATEWAY_TIMEOUT);
    }

    @ParameterizedTest
    @CsvSource({"3, 5, 3", "1, 5, 1", "2147483647, 5, 5", "2147483647, 1, 1"})
    void triesLimitAttemptsAndUnlimitedMeansEachEndpointOnce(int tries, int endpoints, int expected) {
        assertThat(RetryPolicy.maxAttempts(tries, endpoints)).isEqualTo(expected);
    }

    @Test
    void idempotentMethodsAreThoseOfRfc9110() {
        for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.DELETE,
                HttpMethod.OPTIONS, HttpMethod.TRACE}) {
            assertThat(RetryPolicy.idempotent(m)).as(m.name()).isTrue();
        }
        for (HttpMethod m : new HttpMethod[] {HttpMethod.POST, HttpMethod.PATCH, HttpMethod.CONNECT,
                HttpMethod.valueOf("PROPFIND")}) {
            assertThat(RetryPolicy.idempotent(m)).as(m.name()).isFalse();
        }
    }
}
