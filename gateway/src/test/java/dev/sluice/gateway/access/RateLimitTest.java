package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RateLimitTest {

    @Test
    void perSecondIsNginxRateTimesThousandAndBurstIsRateTimesMultiplier() {
        assertThat(RateLimit.perSecond(10, 5)).isEqualTo(new RateLimit(10_000, 50));
    }

    @Test
    void perMinuteDividesBySixtyWithNginxIntegerTruncation() {
        assertThat(RateLimit.perMinute(60, 5)).isEqualTo(new RateLimit(1_000, 300));
        // 1000 / 60 = 16.66…: NGINX keeps 16 milli-requests per second.
        assertThat(RateLimit.perMinute(1, 5)).isEqualTo(new RateLimit(16, 5));
    }

    @Test
    void rpmSixtyHasTheRateOfRpsOneButItsOwnBurst() {
        assertThat(RateLimit.perMinute(60, 1).milliRequestsPerSecond())
                .isEqualTo(RateLimit.perSecond(1, 1).milliRequestsPerSecond());
        assertThat(RateLimit.perMinute(60, 1)).isEqualTo(RateLimit.perSecond(1, 60));
    }

    @Test
    void equalByContent() {
        assertThat(RateLimit.perSecond(3, 2)).isEqualTo(RateLimit.perSecond(3, 2)).hasSameHashCodeAs(RateLimit.perSecond(3, 2));
        assertThat(RateLimit.perSecond(3, 2)).isNotEqualTo(RateLimit.perSecond(3, 3));
    }

    @Test
    void largeValuesDoNotOverflow() {
        assertThat(RateLimit.perSecond(Integer.MAX_VALUE, Integer.MAX_VALUE).burst())
                .isEqualTo((long) Integer.MAX_VALUE * Integer.MAX_VALUE);
        assertThat(RateLimit.perSecond(Integer.MAX_VALUE, Integer.MAX_VALUE).burstMilli()).isPositive();
    }

    @Test
    void rejectsNonPositiveCountsAndMultipliers() {
        assertThatThrownBy(() -> RateLimit.perSecond(0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RateLimit.perMinute(-1, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RateLimit.perSecond(1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RateLimit.perMinute(1, -2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimit(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimit(1, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
