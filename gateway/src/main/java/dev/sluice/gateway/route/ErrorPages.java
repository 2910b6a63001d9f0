package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Upstream;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A location's error pages ({@code custom-http-errors} and {@code default-backend}, SPEC §4.4–4.5):
 * which error answers are replaced by a request to the default backend, and what that request
 * tells the default backend about the location.
 *
 * <p>As ingress-nginx's {@code @custom_…} locations: the replacement request keeps the method,
 * goes to {@code /} without a body, and carries {@code X-Code}, {@code X-Format} (the client's
 * {@code Accept}), {@code X-Original-URI}, {@code X-Namespace}, {@code X-Ingress-Name},
 * {@code X-Service-Name}, {@code X-Service-Port} and {@code X-Request-ID}; the default backend's
 * status and body go to the client unchanged ("the custom backend is expected to return the correct
 * HTTP status code").
 *
 * @param codes           the statuses that are replaced ({@code custom-http-errors}, 400–599);
 *                        empty when only {@code default-backend} is set
 * @param backend         the default backend ({@code default-backend}'s Service, else
 *                        {@code --default-backend-service}), or {@code null}: replaced errors are
 *                        answered by the built-in 404, as ingress-nginx's internal default server
 * @param namespace       the Ingress's namespace ({@code X-Namespace})
 * @param ingressName     the Ingress's name ({@code X-Ingress-Name})
 * @param serviceName     the location's Service ({@code X-Service-Name})
 * @param servicePort     the location's Service port, number or name ({@code X-Service-Port})
 * @param replacesService the location's Service has no endpoints and {@code default-backend}
 *                        serves the location in its place: every request goes there (path and
 *                        body unchanged) with {@code X-Code: 503} and the other headers
 */
public record ErrorPages(Set<Integer> codes, Upstream backend, String namespace, String ingressName,
        String serviceName, String servicePort, boolean replacesService) {

    public ErrorPages {
        codes = Set.copyOf(codes);
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(ingressName, "ingressName");
        Objects.requireNonNull(serviceName, "serviceName");
        Objects.requireNonNull(servicePort, "servicePort");
        if (replacesService && backend == null) {
            throw new IllegalArgumentException("replacing a Service needs a default backend");
        }
    }

    /** Whether an answer with {@code status} is replaced by the default backend's. */
    public boolean intercepts(int status) {
        return codes.contains(status);
    }

    /** These pages with their upstream {@code u} replaced by {@code replace.apply(u)}; these very pages when it was not. */
    public ErrorPages withUpstreams(UnaryOperator<Upstream> replace) {
        Upstream b = backend == null ? null : replace.apply(backend);
        return b == backend ? this : new ErrorPages(codes, b, namespace, ingressName, serviceName, servicePort,
                replacesService);
    }

    /** These pages for a location whose Service has no endpoints, served by the default backend instead. */
    public ErrorPages replacingService() {
        return new ErrorPages(codes, backend, namespace, ingressName, serviceName, servicePort, true);
    }
}
