package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "30, PT30S",
        "0, PT0S",
        "' 5 ', PT5S",
        "500ms, PT0.5S",
        "30s, PT30S",
        "5m, PT5M",
        "1h, PT1H",
        "1m30s, PT1M30S",
        "1.5s, PT1.5S",
        "2h45m, PT2H45M",
        "100us, PT0.0001S",
        "10ns, PT0.00000001S",
    })
    void parsesSecondsAndGoDurations(String text, String expected) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "s", "-1", "-5s", "5 s", "5x", "1.5", "abc", "30sec", "99999999999999999999"})
    void rejectsEverythingElse(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
