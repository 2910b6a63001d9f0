package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class RequestViewTest {

    @Test
    void nettyViewReadsHeadersCookiesHostAndUri() throws Exception {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a%2Fb?x=1&y=2");
        r.headers().add("Host", "Foo.Example.COM:8080");
        r.headers().add("X-Canary", "always");
        r.headers().add("X-Canary", "never");
        r.headers().add("Cookie", "a=1; beta=always; a=2");
        r.headers().add("Cookie", "c=3; beta=never");
        RequestView v = NettyRequestView.of(r, new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 5555), true);

        assertThat(v.header("x-canary")).isEqualTo("always");
        assertThat(v.header("x-missing")).isNull();
        assertThat(v.cookie("a")).isEqualTo("1");
        assertThat(v.cookie("beta")).isEqualTo("always");
        assertThat(v.cookie("c")).isEqualTo("3");
        assertThat(v.cookie("Beta")).isNull();
        assertThat(v.host()).isEqualTo("foo.example.com");
        assertThat(v.requestUri()).isEqualTo("/a%2Fb?x=1&y=2");
        assertThat(v.remoteAddress()).isEqualTo("10.1.2.3");
        assertThat(v.https()).isTrue();
    }

    @Test
    void nettyViewPrintsIpv6LikeNginx() throws Exception {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        RequestView v = NettyRequestView.of(r, new InetSocketAddress(InetAddress.getByName("::1"), 1), false);
        assertThat(v.remoteAddress()).isEqualTo("::1");
        assertThat(v.host()).isEmpty();
        assertThat(v.cookie("x")).isNull();
        assertThat(v.https()).isFalse();
    }

    @Test
    void simpleViewBehavesTheSame() {
        RequestView v = SimpleRequestView.builder()
                .header("Host", "Bar.example.com:80")
                .header("X-Canary", "always")
                .header("x-canary", "never")
                .cookie("a", "1")
                .cookie("a", "2")
                .cookie("b", "x|y")
                .remoteAddress("10.0.0.9")
                .requestUri("/p?q")
                .build();
        assertThat(v.header("x-canary")).isEqualTo("always");
        assertThat(v.cookie("a")).isEqualTo("1");
        assertThat(v.cookie("b")).isEqualTo("x|y");
        assertThat(v.host()).isEqualTo("bar.example.com");
        assertThat(v.remoteAddress()).isEqualTo("10.0.0.9");
        assertThat(v.requestUri()).isEqualTo("/p?q");
    }
}
