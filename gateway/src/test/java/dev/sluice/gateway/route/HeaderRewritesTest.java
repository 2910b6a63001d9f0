package dev.sluice.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** NGINX's {@code proxy_redirect}, {@code proxy_cookie_domain} and {@code proxy_cookie_path}, literal forms. */
class HeaderRewritesTest {
    private static final HeaderRewrites REWRITES = new HeaderRewrites(null, Map.of(),
            "http://backend:8080/app/", "https://shop.test/", ".backend.local", "shop.test", "/app", "/");

    @Test
    void locationPrefixIsReplacedCaseSensitively() {
        assertThat(REWRITES.location("http://backend:8080/app/login?x=1")).isEqualTo("https://shop.test/login?x=1");
        assertThat(REWRITES.location("HTTP://backend:8080/app/login")).isEqualTo("HTTP://backend:8080/app/login");
        assertThat(REWRITES.location("/relative")).isEqualTo("/relative");
    }

    @Test
    void refreshRewritesTheUrlPart() {
        assertThat(REWRITES.refresh("3; URL=http://backend:8080/app/next")).isEqualTo("3; URL=https://shop.test/next");
        assertThat(REWRITES.refresh("3")).isEqualTo("3");
    }

    @Test
    void cookieDomainMatchesWholeIgnoringCaseAndALeadingDot() {
        assertThat(REWRITES.setCookie("a=1; Domain=.BACKEND.local; Secure")).isEqualTo("a=1; Domain=shop.test; Secure");
        assertThat(REWRITES.setCookie("a=1; domain=backend.local")).isEqualTo("a=1; domain=shop.test");
        assertThat(REWRITES.setCookie("a=1; Domain=x.backend.local")).isEqualTo("a=1; Domain=x.backend.local");
    }

    @Test
    void cookiePathPrefixIsReplacedAndTheCookieValueIsNeverTouched() {
        assertThat(REWRITES.setCookie("path=/app/x; Path=/app/x")).isEqualTo("path=/app/x; Path=//x");
        assertThat(REWRITES.setCookie("a=1; Path=/application")).isEqualTo("a=1; Path=/lication");
        assertThat(REWRITES.setCookie("a=1; Path=/other")).isEqualTo("a=1; Path=/other");
        assertThat(REWRITES.setCookie("a=1")).isEqualTo("a=1");
    }

    @Test
    void noneChangesNothing() {
        assertThat(HeaderRewrites.NONE.rewritesResponse()).isFalse();
        assertThat(HeaderRewrites.NONE.location("http://x/")).isEqualTo("http://x/");
        assertThat(HeaderRewrites.NONE.setCookie("a=1; Domain=x")).isEqualTo("a=1; Domain=x");
    }
}
