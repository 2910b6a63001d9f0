package dev.sluice.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.request.Endpoint;
import org.junit.jupiter.api.Test;

/** {@code mirror-target} URLs: where copies go and with which request-target. */
class MirrorTargetTest {

    @Test
    void schemeHostPortAndHostHeader() {
        MirrorTarget t = MirrorTarget.parse("https://Shadow.Example.com$request_uri", null, true);
        assertThat(t.https()).isTrue();
        assertThat(t.endpoint()).isEqualTo(Endpoint.of("Shadow.Example.com", 443));
        assertThat(t.host()).isEqualTo("Shadow.Example.com");
        assertThat(MirrorTarget.parse("http://10.1.2.3:8080/", "mirror.local", false))
                .isEqualTo(new MirrorTarget(false, Endpoint.of("10.1.2.3", 8080), "/", "mirror.local", false));
        assertThat(MirrorTarget.parse("http://[::1]:9000", null, true).endpoint()).isEqualTo(Endpoint.of("::1", 9000));
    }

    @Test
    void variablesAreExpandedPerRequest() {
        assertThat(MirrorTarget.parse("http://m$request_uri", null, true).uri("/a/b?c=d", "h.test", "https"))
                .isEqualTo("/a/b?c=d");
        // as NGINX: the slash before $request_uri stays, so the path starts with two
        assertThat(MirrorTarget.parse("http://m/$request_uri", null, true).uri("/a", "h", "http")).isEqualTo("//a");
        assertThat(MirrorTarget.parse("http://m/p$uri$is_args$args", null, true).uri("/a?x=1", "h", "http"))
                .isEqualTo("/p/a?x=1");
        assertThat(MirrorTarget.parse("http://m/p$uri$is_args$args", null, true).uri("/a", "h", "http"))
                .isEqualTo("/p/a");
        assertThat(MirrorTarget.parse("http://m/$scheme/$host", null, true).uri("/a", "h.test", "https"))
                .isEqualTo("/https/h.test");
        assertThat(MirrorTarget.parse("http://m/fixed?q=1", null, true).uri("/a", "h", "http")).isEqualTo("/fixed?q=1");
        assertThat(MirrorTarget.parse("http://m?q=1", null, true).uri("/a", "h", "http")).isEqualTo("/?q=1");
        // no path: the request's own URI
        assertThat(MirrorTarget.parse("http://m:81", null, true).uri("/a?b", "h", "http")).isEqualTo("/a?b");
    }

    @Test
    void unusableTargetsAreRefusedWithAReason() {
        assertThatThrownBy(() -> MirrorTarget.parse("mirror.example.com/x", null, true))
                .hasMessageContaining("absolute");
        assertThatThrownBy(() -> MirrorTarget.parse("grpc://m", null, true)).hasMessageContaining("scheme");
        assertThatThrownBy(() -> MirrorTarget.parse("http://m/$remote_addr", null, true))
                .hasMessageContaining("$remote_addr");
        assertThatThrownBy(() -> MirrorTarget.parse("http://user@m/", null, true)).hasMessageContaining("user");
        assertThatThrownBy(() -> MirrorTarget.parse("http://m:99999/", null, true))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MirrorTarget.parse("http://m/a b", null, true)).hasMessageContaining("spaces");
        assertThatThrownBy(() -> MirrorTarget.parse("http://m/", "bad host", true)).hasMessageContaining("mirror-host");
    }
}
