package dev.sluice.controller.cli;

import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Checks a {@code namespace/name} flag value ({@code --default-backend-service},
 * {@code --publish-service}, {@code --configmap}): two DNS labels / subdomain names separated by
 * one {@code /}, e.g. {@code ingress-nginx/default-http-backend}.
 */
final class NamespacedNameConverter implements ITypeConverter<String> {
    // namespace: DNS-1123 label; name: DNS-1123 subdomain (Services are labels, a superset is fine)
    private static final Pattern NAMESPACED = Pattern.compile(
            "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    @Override
    public String convert(String value) {
        if (!NAMESPACED.matcher(value).matches()) {
            throw new TypeConversionException("'" + value + "' is not namespace/name (e.g. ingress-nginx/my-service)");
        }
        return value;
    }
}
