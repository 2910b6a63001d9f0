package dev.sluice.gateway.route;

import java.util.Objects;

/**
 * A location that answers every request with a redirect to one fixed URL: ingress-nginx's
 * {@code permanent-redirect} / {@code temporal-redirect} annotations (SPEC §7). The request's path
 * and query are not appended: {@code permanent-redirect: https://www.google.com} sends
 * {@code GET /any?x=1} to exactly {@code https://www.google.com}.
 *
 * @param status 300–308 (default 301 for {@code permanent-redirect}, 302 for
 *               {@code temporal-redirect})
 * @param url    the {@code Location} header, an absolute http(s) URL
 */
public record LocationRedirect(int status, String url) {
    public LocationRedirect {
        Objects.requireNonNull(url, "url");
        if (status < 300 || status > 308) {
            throw new IllegalArgumentException("redirect status must be 300-308: " + status);
        }
    }
}
