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
 * @param streams                  {@code --tcp-services-configmap} / {@code --udp-services-configmap}
 *                                 and the ports they may not take
 * @param sslPassthrough           {@code --enable-ssl-passthrough}: hosts with the
 *                                 {@code ssl-passthrough} annotation get their TLS streams piped
 *                                 to their {@code /} backend unterminated
 * @param disableSvcExternalName   {@code --disable-svc-external-name}: ExternalName Services are not
 *                                 proxied (the paths answer 503, reported)
 * @param globalConfigMap          {@code --configmap} as {@code namespace/name}, or {@code null}:
 *                                 the global ConfigMap ({@link GlobalSettings})
 */
public record TranslatorConfig(
        String ingressClass,
        String controllerClass,
        boolean watchIngressWithoutClass,
        String defaultBackendService,
        String annotationsPrefix,
        String defaultSslCertificate,
        StreamConfig streams,
        boolean sslPassthrough,
        boolean disableSvcExternalName,
        String globalConfigMap) {

    public static final String DEFAULT_INGRESS_CLASS = "nginx";
    public static final String DEFAULT_CONTROLLER_CLASS = "k8s.io/ingress-nginx";
    public static final String DEFAULT_ANNOTATIONS_PREFIX = "nginx.ingress.kubernetes.io";

    public static final TranslatorConfig DEFAULTS = new TranslatorConfig(
            DEFAULT_INGRESS_CLASS, DEFAULT_CONTROLLER_CLASS, false, null, DEFAULT_ANNOTATIONS_PREFIX, null,
            StreamConfig.NONE, false, false, null);

    public TranslatorConfig {
        Objects.requireNonNull(ingressClass, "ingressClass");
        Objects.requireNonNull(controllerClass, "controllerClass");
        Objects.requireNonNull(annotationsPrefix, "annotationsPrefix");
        streams = streams == null ? StreamConfig.NONE : streams;
    }

    /** Without {@code --disable-svc-external-name} and a global ConfigMap. */
    public TranslatorConfig(String ingressClass, String controllerClass, boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix, String defaultSslCertificate, StreamConfig streams,
            boolean sslPassthrough) {
        this(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix,
                defaultSslCertificate, streams, sslPassthrough, false, null);
    }

    /** Without stream services and SSL passthrough. */
    public TranslatorConfig(String ingressClass, String controllerClass, boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix, String defaultSslCertificate) {
        this(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix,
                defaultSslCertificate, StreamConfig.NONE, false);
    }

    /** Without {@code --default-ssl-certificate}, stream services and SSL passthrough. */
    public TranslatorConfig(String ingressClass, String controllerClass, boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix) {
        this(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix, null);
    }

    /** This configuration with {@code config} for the stream services. */
    public TranslatorConfig withStreams(StreamConfig config) {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, config, sslPassthrough, disableSvcExternalName,
                globalConfigMap);
    }

    /** This configuration with {@code --enable-ssl-passthrough} on or off. */
    public TranslatorConfig withSslPassthrough(boolean on) {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, streams, on, disableSvcExternalName, globalConfigMap);
    }

    /** This configuration with {@code --disable-svc-external-name} on or off. */
    public TranslatorConfig withSvcExternalNameDisabled(boolean disabled) {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, streams, sslPassthrough, disabled, globalConfigMap);
    }

    /** This configuration with {@code --configmap} ({@code namespace/name}, or {@code null}). */
    public TranslatorConfig withGlobalConfigMap(String ref) {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, streams, sslPassthrough, disableSvcExternalName, ref);
    }
}
