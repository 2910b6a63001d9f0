package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Parsing of the canary annotations' values that the fixtures do not spell out. */
class CanaryAnnotationsTest {

    @Test
    void canaryByHeaderValueSplitsOnDoubleBars() {
        assertThat(IngressAnnotations.splitHeaderValues("v1||v2||v3")).containsExactly("v1", "v2", "v3");
        assertThat(IngressAnnotations.splitHeaderValues("v1")).containsExactly("v1");
        assertThat(IngressAnnotations.splitHeaderValues("||v1||||v2||")).containsExactly("v1", "v2");
        assertThat(IngressAnnotations.splitHeaderValues("a|b")).containsExactly("a|b");
        assertThat(IngressAnnotations.splitHeaderValues("")).isEmpty();
        assertThat(IngressAnnotations.splitHeaderValues(null)).isEmpty();
    }
}
