package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({
        "500ms, 500",
        "30s, 30000",
        "5m, 300000",
        "1h, 3600000",
        "1h30m, 5400000",
        "1m30s500ms, 90500",
        "1.5s, 1500",
        "10, 10000",       // a bare number is seconds
        "0, 0",
        "0s, 0",
        "' 45s ', 45000",
    })
    void readsGoStyleDurations(String text, long millis) {
        assertThat(new DurationConverter().convert(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @CsvSource({"1500us, 1500000", "1500µs, 1500000", "7ns, 7"})
    void readsSubMillisecondUnits(String text, long nanos) {
        assertThat(new DurationConverter().convert(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "5x", "-5s", "1..5s", "s", "5 s", "1e3", "ms500", "10S", "0.25"})
    void refusesWhatIsNotADurationAndNamesIt(String text) {
        assertThatThrownBy(() -> new DurationConverter().convert(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "99999999999h", "9999999999999999999"})
    void refusesEmptyAndTooLongDurations(String text) {
        assertThatThrownBy(() -> new DurationConverter().convert(text)).isInstanceOf(TypeConversionException.class);
    }
}
