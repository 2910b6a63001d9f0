package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class IngressOrderTest {

    private static Ingress ingress(String ns, String name, String created) {
        return new IngressBuilder().withNewMetadata().withNamespace(ns).withName(name).withCreationTimestamp(created)
                .endMetadata().build();
    }

    private static List<String> order(Ingress... ingresses) {
        return IngressOrder.sort(List.of(ingresses)).stream().map(IngressOrder.Keyed::key).toList();
    }

    @Test
    void oldestFirst() {
        assertThat(order(
                ingress("a", "new", "2024-03-01T00:00:00Z"),
                ingress("a", "old", "2024-01-01T00:00:00Z"),
                ingress("a", "mid", "2024-02-01T00:00:00Z")))
                .containsExactly("a/old", "a/mid", "a/new");
    }

    @Test
    void sameSecondIsATieBrokenByNamespaceAndNameDescending() {
        assertThat(order(
                ingress("ns-a", "x", "2024-01-01T00:00:00Z"),
                ingress("ns-b", "x", "2024-01-01T00:00:00.900Z"),
                ingress("ns-a", "y", "2024-01-01T00:00:00.100Z")))
                .containsExactly("ns-b/x", "ns-a/y", "ns-a/x");
    }

    @Test
    void offsetsAreHonoured() {
        // 01:00+02:00 is 23:00Z the day before: older
        assertThat(order(
                ingress("d", "utc", "2024-01-01T00:00:00Z"),
                ingress("d", "plus-two", "2024-01-01T01:00:00+02:00")))
                .containsExactly("d/plus-two", "d/utc");
    }

    @Test
    void missingOrUnreadableTimestampsCountAsOldest() {
        assertThat(order(
                ingress("d", "dated", "1970-01-01T00:00:01Z"),
                ingress("d", "missing", null),
                ingress("d", "garbage", "yesterday")))
                .containsExactly("d/missing", "d/garbage", "d/dated");
    }

    @Test
    void theApiServersTimestampFormReadsAsTheGeneralParserReadsIt() {
        for (String t : List.of("1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2026-12-31T12:34:56Z",
                "2000-03-01T00:00:00Z", "2024-06-30T23:59:60Z", "2024-06-30T10:00:00.5Z",
                "2024-01-01T24:00:00Z")) {
            assertThat(IngressOrder.createdSecond(t)).as(t).isEqualTo(java.time.Instant.parse(t).getEpochSecond());
        }
        for (String t : List.of("2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-0xT00:00:00Z")) {
            assertThat(IngressOrder.createdSecond(t)).as(t).isEqualTo(Long.MIN_VALUE);
        }
    }
}
