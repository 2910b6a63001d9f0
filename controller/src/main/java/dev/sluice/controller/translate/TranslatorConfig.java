package dev.sluice.controller.translate;

import java.util.Objects;

/**
 * The controller flags that change translation, named as ingress-nginx names them.
 *
 * @param ingressClass             {@code --ingress-class} (default {@code nginx})
 * @param controllerClass          {@code --controller-class} (default {@code k8s.io/ingress-nginx})
 * @param watchIngressWithoutClass {@code --watch-ingress-without-class}
 * @param defaultBackendService    {@code --default-backend-service} as {@code namespace/name}, or
 *                                 {@code null}
 * @param annotationsPrefix        {@code --annotations-prefix} (default
 *                                 {@code nginx.ingress.kubernetes.io})
 * @param defaultSslCertificate    {@code --default-ssl-certificate} as {@code namespace/name} of a
 *                                 {@code kubernetes.io/tls} Secret, or {@code null} (the proxy's
 *                                 generated fake certificate is the default)
 * @param sslPassthrough           {@code --enable-ssl-passthrough}: hosts with the
 *                                 {@code ssl-passthrough} annotation get their TLS streams piped
 *                                 to their {@code /} backend unterminated
 */
public record TranslatorConfig(
        String ingressClass,
        String controllerClass,
        boolean watchIngressWithoutClass,
        String defaultBackendService,
        String annotationsPrefix,
        String defaultSslCertificate,
        boolean sslPassthrough) {

    public static final String DEFAULT_INGRESS_CLASS = "nginx";
    public static final String DEFAULT_CONTROLLER_CLASS = "k8s.io/ingress-nginx";
    public static final String DEFAULT_ANNOTATIONS_PREFIX = "nginx.ingress.kubernetes.io";

    public static final TranslatorConfig DEFAULTS = new TranslatorConfig(
            DEFAULT_INGRESS_CLASS, DEFAULT_CONTROLLER_CLASS, false, null, DEFAULT_ANNOTATIONS_PREFIX, null, false);

    public TranslatorConfig {
        Objects.requireNonNull(ingressClass, "ingressClass");
        Objects.requireNonNull(controllerClass, "controllerClass");
        Objects.requireNonNull(annotationsPrefix, "annotationsPrefix");
    }

    /** Without {@code --enable-ssl-passthrough}. */
    public TranslatorConfig(String ingressClass, String controllerClass, boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix, String defaultSslCertificate) {
        this(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix,
                defaultSslCertificate, false);
    }

    /** This configuration with {@code --enable-ssl-passthrough} on or off. */
    public TranslatorConfig withSslPassthrough(boolean on) {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, on);
    }

    /** Without {@code --default-ssl-certificate}. */
    public TranslatorConfig(String ingressClass, String controllerClass, boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix) {
        this(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix, null,
                false);
    }
}
