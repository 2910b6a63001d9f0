package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Defaults and validation of {@link ExternalAuthRequest}. */
class ExternalAuthRequestTest {

    @Test
    void defaultsAreNginxs() {
        ExternalAuthRequest r = new ExternalAuthRequest(URI.create("http://auth.svc/check?a=b"), new DefaultHttpHeaders());

        assertThat(r.method()).isEqualTo(HttpMethod.GET);
        assertThat(r.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.readTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(r.keepalive()).isZero();
        assertThat(r.keepaliveTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(r.keepaliveRequests()).isEqualTo(1000);
        assertThat(r.port()).isEqualTo(80);
        assertThat(r.https()).isFalse();
        assertThat(r.target()).isEqualTo("/check?a=b");
    }

    @Test
    void httpsDefaultsToPort443AndAnEmptyPathToSlash() {
        ExternalAuthRequest r = new ExternalAuthRequest(URI.create("HTTPS://auth.svc?x=%2F"), new DefaultHttpHeaders());

        assertThat(r.https()).isTrue();
        assertThat(r.port()).isEqualTo(443);
        assertThat(r.target()).isEqualTo("/?x=%2F");
        assertThat(new ExternalAuthRequest(URI.create("https://a:8443/p%20q"), new DefaultHttpHeaders()).port())
                .isEqualTo(8443);
        assertThat(new ExternalAuthRequest(URI.create("https://a:8443/p%20q"), new DefaultHttpHeaders()).target())
                .isEqualTo("/p%20q");
    }

    @Test
    void rejectsWhatCannotBeChecked() {
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        assertThatThrownBy(() -> new ExternalAuthRequest(URI.create("ftp://auth/x"), h))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExternalAuthRequest(URI.create("/relative"), h))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExternalAuthRequest(URI.create("http:///nohost"), h))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExternalAuthRequest(URI.create("http://a/"), HttpMethod.GET, h,
                Duration.ZERO, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ExternalAuthRequest(URI.create("http://a/"), h).withKeepalive(-1, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
