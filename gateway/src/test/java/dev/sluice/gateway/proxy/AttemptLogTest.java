package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The access log's {@code upstream_*} fields as {@link AttemptLog} builds them. */
class AttemptLogTest {
    @Test
    void oneAttempt() {
        AttemptLog log = new AttemptLog();
        log.add(Endpoint.of("10.0.0.1", 8080), 200, TimeUnit.MILLISECONDS.toNanos(12));
        assertThat(log.addresses()).isEqualTo("10.0.0.1:8080");
        assertThat(log.statuses()).isEqualTo("200");
        assertThat(log.responseTimes()).isEqualTo("0.012");
    }

    @Test
    void retriesAreJoinedInOrderAsNginxDoes() {
        AttemptLog log = new AttemptLog();
        log.add(Endpoint.of("10.0.0.1", 80), 502, TimeUnit.MILLISECONDS.toNanos(1));
        log.add(Endpoint.of("10.0.0.2", 80), 504, TimeUnit.SECONDS.toNanos(2));
        log.add(Endpoint.of("10.0.0.3", 80), 200, TimeUnit.MILLISECONDS.toNanos(4));
        assertThat(log.addresses()).isEqualTo("10.0.0.1:80, 10.0.0.2:80, 10.0.0.3:80");
        assertThat(log.statuses()).isEqualTo("502, 504, 200");
        assertThat(log.responseTimes()).isEqualTo("0.001, 2.000, 0.004");
    }
}
