package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code auth-cache-duration} parsing and the cache of auth answers. */
class ExternalAuthCacheTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Ticker ticker = nanos::get;
    private final ExternalAuthCache cache = new ExternalAuthCache(100, ticker);

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private static ExternalAuthResult answer(int status, String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return new ExternalAuthResult(status, h);
    }

    @Test
    void parsesTheDefault() {
        Map<Integer, Duration> d = ExternalAuthCache.parseCacheDuration("200 202 401 5m");
        assertThat(d).containsExactly(Map.entry(200, Duration.ofMinutes(5)), Map.entry(202, Duration.ofMinutes(5)),
                Map.entry(401, Duration.ofMinutes(5)));
        assertThat(ExternalAuthCache.parseCacheDuration(null)).isEqualTo(d);
        assertThat(ExternalAuthCache.parseCacheDuration("  ")).isEqualTo(d);
        assertThat(ExternalAuthCache.parseCacheDuration(" , ")).isEqualTo(d);
    }

    @Test
    void parsesSeveralEntriesAndUnits() {
        assertThat(ExternalAuthCache.parseCacheDuration("200 202 10m, 401 5m")).containsExactly(
                Map.entry(200, Duration.ofMinutes(10)), Map.entry(202, Duration.ofMinutes(10)),
                Map.entry(401, Duration.ofMinutes(5)));
        assertThat(ExternalAuthCache.parseCacheDuration("200 10m")).containsExactly(Map.entry(200, Duration.ofMinutes(10)));
        assertThat(ExternalAuthCache.parseCacheDuration("200 500ms,201 30s,202 2h,203 1d,204 1w,205 1M,206 1y"))
                .containsExactly(Map.entry(200, Duration.ofMillis(500)), Map.entry(201, Duration.ofSeconds(30)),
                        Map.entry(202, Duration.ofHours(2)), Map.entry(203, Duration.ofDays(1)),
                        Map.entry(204, Duration.ofDays(7)), Map.entry(205, Duration.ofDays(30)),
                        Map.entry(206, Duration.ofDays(365)));
    }

    @Test
    void aTimeAloneMeans200And301And302() {
        assertThat(ExternalAuthCache.parseCacheDuration("5m")).containsExactly(Map.entry(200, Duration.ofMinutes(5)),
                Map.entry(301, Duration.ofMinutes(5)), Map.entry(302, Duration.ofMinutes(5)));
    }

    @Test
    void theFirstDurationForAStatusWinsAndAnyShadowsLaterCodes() {
        assertThat(ExternalAuthCache.parseCacheDuration("200 1m, 200 401 5m")).containsExactly(
                Map.entry(200, Duration.ofMinutes(1)), Map.entry(401, Duration.ofMinutes(5)));
        assertThat(ExternalAuthCache.parseCacheDuration("401 1m, any 5m, 200 1h")).containsExactly(
                Map.entry(401, Duration.ofMinutes(1)), Map.entry(ExternalAuthCache.ANY_STATUS, Duration.ofMinutes(5)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "200", "200 5", "5m 200", "200 1h 30m", "200 1h30m", "99 5m", "600 5m",
        "2000 5m", "200 5x", "200 -5m", "ok 5m", "200 5m,, foo"})
    void rejectsGarbage(String value) {
        assertThatThrownBy(() -> ExternalAuthCache.parseCacheDuration(value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("auth-cache-duration");
    }

    @Test
    void cachesListedStatusesForTheirDuration() {
        Map<Integer, Duration> validity = ExternalAuthCache.parseCacheDuration("200 202 10m, 401 5m");
        cache.put("ok", answer(200, "X-Auth-User", "alice"), validity);
        cache.put("denied", answer(401), validity);
        cache.put("forbidden", answer(403), validity);
        cache.put("broken", ExternalAuthResult.FAILED, validity);

        assertThat(cache.get("ok").headers().get("X-Auth-User")).isEqualTo("alice");
        assertThat(cache.get("denied").status()).isEqualTo(401);
        assertThat(cache.get("forbidden")).isNull();
        assertThat(cache.get("broken")).isNull();
        assertThat(cache.get("unknown")).isNull();

        advance(Duration.ofMinutes(5).minusMillis(1));
        assertThat(cache.get("denied")).isNotNull();
        advance(Duration.ofMillis(1));
        assertThat(cache.get("denied")).isNull();
        assertThat(cache.get("ok")).isNotNull();
        advance(Duration.ofMinutes(5));
        assertThat(cache.get("ok")).isNull();
    }

    @Test
    void anyCoversUnlistedStatuses() {
        cache.put("k", answer(418), ExternalAuthCache.parseCacheDuration("200 1h, any 1m"));
        assertThat(cache.get("k").status()).isEqualTo(418);
        advance(Duration.ofMinutes(1));
        assertThat(cache.get("k")).isNull();
    }

    @Test
    void aNewAnswerReplacesTheOldOneAndItsLifetime() {
        Map<Integer, Duration> validity = ExternalAuthCache.parseCacheDuration("200 10m, 401 1m");
        cache.put("k", answer(200), validity);
        advance(Duration.ofMinutes(5));
        cache.put("k", answer(401), validity);
        assertThat(cache.get("k").status()).isEqualTo(401);
        advance(Duration.ofMinutes(1));
        assertThat(cache.get("k")).isNull();
    }

    @Test
    void entriesNotReadFor30MinutesAreDropped() {
        Map<Integer, Duration> validity = ExternalAuthCache.parseCacheDuration("200 2h");
        cache.put("read", answer(200), validity);
        cache.put("unread", answer(200), validity);
        for (int i = 0; i < 3; i++) {
            advance(Duration.ofMinutes(20));
            assertThat(cache.get("read")).isNotNull();
        }
        assertThat(cache.get("unread")).isNull();
        advance(Duration.ofMinutes(60)); // 2 h since the put: validity ends even for a read entry
        assertThat(cache.get("read")).isNull();
    }

    @Test
    void isBounded() {
        Map<Integer, Duration> validity = ExternalAuthCache.parseCacheDuration("200 1h");
        for (int i = 0; i < 1000; i++) {
            cache.put("k" + i, answer(200), validity);
        }
        cache.get("k0"); // runs pending maintenance
        assertThat(cache.size()).isLessThanOrEqualTo(100);
    }

    @Test
    void responseHeadersCanForbidOrSetTheLifetime() {
        Map<Integer, Duration> validity = ExternalAuthCache.parseCacheDuration("200 5m");
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        assertThat(ExternalAuthCache.lifetime(answer(200), validity, now)).isEqualTo(Duration.ofMinutes(5));
        assertThat(ExternalAuthCache.lifetime(answer(200, "Set-Cookie", "s=1"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "Vary", "*"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "Cache-Control", "no-store"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "Cache-Control", "private, max-age=60"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "Cache-Control", "max-age=0"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "Cache-Control", "public, max-age=60"), validity, now))
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(ExternalAuthCache.lifetime(answer(200, "Cache-Control", "max-age=60, s-maxage=90"), validity, now))
                .isEqualTo(Duration.ofSeconds(90));
        // X-Accel-Expires comes first, and also makes an unlisted status cacheable
        assertThat(ExternalAuthCache.lifetime(answer(403, "X-Accel-Expires", "30", "Cache-Control", "max-age=60"),
                validity, now)).isEqualTo(Duration.ofSeconds(30));
        assertThat(ExternalAuthCache.lifetime(answer(200, "X-Accel-Expires", "0"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(answer(200, "X-Accel-Expires", "@" + (now.getEpochSecond() + 20)),
                validity, now)).isEqualTo(Duration.ofSeconds(20));
        String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(10).atOffset(ZoneOffset.UTC));
        assertThat(ExternalAuthCache.lifetime(answer(200, "Expires", inTenSeconds), validity, now))
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(ExternalAuthCache.lifetime(answer(200, "Expires", "0"), validity, now)).isNull();
        assertThat(ExternalAuthCache.lifetime(ExternalAuthResult.FAILED, validity, now)).isNull();
    }

    @Test
    void uncacheableAnswersAreNotStored() {
        cache.put("k", answer(200, "Set-Cookie", "s=1"), ExternalAuthCache.parseCacheDuration("200 5m"));
        assertThat(cache.get("k")).isNull();
        assertThat(cache.size()).isZero();
    }
}
