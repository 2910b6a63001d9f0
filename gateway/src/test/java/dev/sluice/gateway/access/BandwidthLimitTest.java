package dev.sluice.gateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BandwidthLimitTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    @Test
    void annotationValuesAreKilobytes() {
        // limit-rate: 100, limit-rate-after: 1024 → limit_rate 100k; limit_rate_after 1024k;
        assertThat(BandwidthLimit.ofKilobytes(100, 1024)).isEqualTo(new BandwidthLimit(102_400, 1_048_576));
        assertThat(BandwidthLimit.ofKilobytes(0, 0)).isEqualTo(BandwidthLimit.UNLIMITED);
    }

    @Test
    void bytesBeyondAfterFlowAtTheRate() {
        BandwidthLimit limit = new BandwidthLimit(1000, 500);
        // 2000 bytes beyond the free 500 are due after 2 s.
        assertThat(limit.delayNanos(2500, 1 * SECOND)).isEqualTo(1 * SECOND);
        assertThat(limit.delayNanos(2500, 1500 * MS)).isEqualTo(500 * MS);
        assertThat(limit.delayNanos(2500, 2 * SECOND)).isZero();
        assertThat(limit.delayNanos(2500, 5 * SECOND)).isZero();
        assertThat(limit.delayNanos(1500, 0)).isEqualTo(1 * SECOND);
    }

    @Test
    void theFirstBytesAfterGoOutAtFullSpeed() {
        BandwidthLimit limit = BandwidthLimit.ofKilobytes(1, 10); // 1024 B/s after 10240 B
        assertThat(limit.delayNanos(0, 0)).isZero();
        assertThat(limit.delayNanos(10_240, 0)).isZero();
        // One KiB beyond the free 10 KiB at 1 KiB/s: one second.
        assertThat(limit.delayNanos(11_264, 0)).isEqualTo(1 * SECOND);
        assertThat(limit.delayNanos(10_752, 250 * MS)).isEqualTo(250 * MS);
    }

    @Test
    void withoutLimitRateAfterTheRateAppliesFromTheFirstByte() {
        BandwidthLimit limit = BandwidthLimit.ofKilobytes(100, 0); // 102_400 B/s
        assertThat(limit.delayNanos(51_200, 0)).isEqualTo(500 * MS);
        assertThat(limit.delayNanos(1_024_000, 9 * SECOND)).isEqualTo(1 * SECOND);
    }

    @Test
    void rateZeroIsUnlimited() {
        BandwidthLimit limit = BandwidthLimit.ofKilobytes(0, 10);
        assertThat(limit.isUnlimited()).isTrue();
        assertThat(limit.delayNanos(Long.MAX_VALUE, 0)).isZero();
        assertThat(BandwidthLimit.ofKilobytes(1, 0).isUnlimited()).isFalse();
    }

    @Test
    void hugeCountsSaturateInsteadOfOverflowing() {
        BandwidthLimit limit = new BandwidthLimit(1, 0);
        assertThat(limit.delayNanos(Long.MAX_VALUE, 0)).isEqualTo(Long.MAX_VALUE);
        // 20 GB at 10 GB/s = 2 s; 20e9 * 1e9 overflows a long on the way.
        assertThat(new BandwidthLimit(10_000_000_000L, 0).delayNanos(20_000_000_000L, 0)).isEqualTo(2 * SECOND);
        assertThat(limit.delayNanos(10, -5)).isEqualTo(10 * SECOND);
    }

    @Test
    void rejectsNegativeOrOverflowingValues() {
        assertThatThrownBy(() -> new BandwidthLimit(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BandwidthLimit(0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BandwidthLimit.ofKilobytes(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BandwidthLimit.ofKilobytes(Long.MAX_VALUE, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
