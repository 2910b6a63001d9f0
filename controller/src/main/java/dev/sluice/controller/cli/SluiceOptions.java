package dev.sluice.controller.cli;

import dev.sluice.controller.admission.AdmissionWebhookConfig;
import dev.sluice.controller.translate.StreamConfig;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.observe.MetricsConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything the command line decides, already validated; {@link Main} builds it and
 * {@link SluiceApp} runs it. Flag names are ingress-nginx's wherever ingress-nginx has the flag.
 *
 * @param bindAddress              {@code --bind-address}: listen address of all ports; {@code null}
 *                                 = all interfaces
 * @param httpPort                 {@code --http-port} (31234; 0 = a free port)
 * @param httpsPort                {@code --https-port} (31235; 0 = a free port)
 * @param healthzPort              {@code --healthz-port} (10254; 0 = a free port)
 * @param eventLoops               {@code --event-loops} (available processors)
 * @param manifests                {@code --manifests}: files or directories; non-empty = manifest
 *                                 mode
 * @param demo                     {@code --demo}: in-process backends and the seed tutorial
 * @param ingressClass             {@code --ingress-class}
 * @param controllerClass          {@code --controller-class}
 * @param watchIngressWithoutClass {@code --watch-ingress-without-class}
 * @param defaultBackendService    {@code --default-backend-service} ({@code ns/name}) or {@code null}
 * @param annotationsPrefix        {@code --annotations-prefix}
 * @param accessLog                {@code --access-log}: {@code stdout}, {@code off} or a file path
 * @param shutdownGracePeriod      {@code --shutdown-grace-period}: how long the listeners go on
 *                                 serving normally after SIGTERM, with {@code /readyz} failing
 * @param shutdownTimeout          {@code --shutdown-timeout} (Sluice's own, as ingress-nginx's
 *                                 {@code worker-shutdown-timeout}): how long requests, streams and
 *                                 WebSockets in flight get to finish once the listeners are closed
 * @param kubeconfig               {@code --kubeconfig} or {@code null} (fabric8's usual lookup)
 * @param watchNamespace           {@code --watch-namespace} or {@code null} (all namespaces)
 * @param publishStatusAddress     {@code --publish-status-address} or {@code null}
 * @param publishService           {@code --publish-service} ({@code ns/name}) or {@code null}
 * @param electionId               {@code --election-id}: name of the leader-election Lease
 * @param updateStatusOnShutdown   {@code --update-status-on-shutdown}
 * @param configMap                {@code --configmap} ({@code ns/name}) or {@code null}: the global ConfigMap
 * @param defaultSslCertificate    {@code --default-ssl-certificate} ({@code ns/name} of a TLS Secret)
 *                                 or {@code null} (the generated fake certificate)
 * @param proxyProtocol            {@code --enable-proxy-protocol} (Sluice's own): every connection on
 *                                 the HTTP and HTTPS ports starts with a PROXY protocol header
 * @param sslPassthrough           {@code --enable-ssl-passthrough}: hosts with {@code ssl-passthrough}
 *                                 get their TLS connections piped unterminated
 * @param h2c                      {@code --enable-h2c} (Sluice's own): HTTP/2 with prior knowledge on
 *                                 the HTTP port
 * @param transport                {@code --transport} (Sluice's own): {@code auto}, {@code io_uring},
 *                                 {@code epoll} or {@code nio}
 * @param tcpServicesConfigMap     {@code --tcp-services-configmap} ({@code ns/name}) or {@code null}:
 *                                 the TCP ports relayed to Services
 * @param udpServicesConfigMap     {@code --udp-services-configmap} ({@code ns/name}) or {@code null}:
 *                                 the UDP ports relayed to Services
 * @param metrics                  {@code --metrics-per-host}, {@code --time-buckets} and the other
 *                                 metric flags, with the {@code controller_*} labels
 * @param disableSvcExternalName   {@code --disable-svc-external-name}: ExternalName Services are not proxied
 * @param validatingWebhook        {@code --validating-webhook} with its certificate and key, or
 *                                 {@code null}: no admission webhook
 * @param updateStatus             {@code --update-status}: cluster mode writes Ingress status
 *                                 (leader-elected); {@code false} never touches it
 * @param syncPeriod               {@code --sync-period}: cluster mode rebuilds the table this often
 *                                 without a change (ingress-nginx's informer resync); zero = never
 * @param maxConnections           {@code --max-connections} (Sluice's own): client connections over
 *                                 this many are closed on accept; {@code 0}: no cap
 * @param maxConnectionsPerAddress {@code --max-connections-per-address} (Sluice's own): the same per
 *                                 client address; {@code 0}: no cap
 */
public record SluiceOptions(
        String bindAddress,
        int httpPort,
        int httpsPort,
        int healthzPort,
        int eventLoops,
        List<Path> manifests,
        boolean demo,
        String ingressClass,
        String controllerClass,
        boolean watchIngressWithoutClass,
        String defaultBackendService,
        String annotationsPrefix,
        String accessLog,
        Duration shutdownGracePeriod,
        Duration shutdownTimeout,
        Path kubeconfig,
        String watchNamespace,
        String publishStatusAddress,
        String publishService,
        String electionId,
        boolean updateStatusOnShutdown,
        String configMap,
        String defaultSslCertificate,
        boolean proxyProtocol,
        boolean sslPassthrough,
        boolean h2c,
        String transport,
        String tcpServicesConfigMap,
        String udpServicesConfigMap,
        MetricsConfig metrics,
        boolean disableSvcExternalName,
        AdmissionWebhookConfig validatingWebhook,
        boolean updateStatus,
        Duration syncPeriod,
        int maxConnections,
        int maxConnectionsPerAddress) {

    /** How the process gets its Kubernetes objects. */
    public enum Mode {
        /** {@code --demo}: the seed tutorial on in-process backends (plus any {@code --manifests}). */
        DEMO,
        /** {@code --manifests}: files, no cluster. */
        MANIFESTS,
        /** neither: watch the Kubernetes API. */
        CLUSTER
    }

    public SluiceOptions {
        manifests = List.copyOf(manifests);
        Objects.requireNonNull(ingressClass, "ingressClass");
        Objects.requireNonNull(controllerClass, "controllerClass");
        Objects.requireNonNull(annotationsPrefix, "annotationsPrefix");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(electionId, "electionId");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(syncPeriod, "syncPeriod");
    }

    public Mode mode() {
        if (demo) {
            return Mode.DEMO;
        }
        return manifests.isEmpty() ? Mode.CLUSTER : Mode.MANIFESTS;
    }

    /** The flags that change translation. */
    public TranslatorConfig translatorConfig() {
        return new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService,
                annotationsPrefix, defaultSslCertificate, streamConfig(), sslPassthrough, disableSvcExternalName,
                configMap);
    }

    /**
     * The stream ConfigMaps, and the ports their entries may not take: the HTTP, HTTPS and admin
     * ports (when fixed; a port 0 is only known once bound, and a clash then fails to bind).
     */
    public StreamConfig streamConfig() {
        Set<Integer> reserved = new HashSet<>();
        for (int p : new int[] {httpPort, httpsPort, healthzPort}) {
            if (p > 0) {
                reserved.add(p);
            }
        }
        return new StreamConfig(tcpServicesConfigMap, udpServicesConfigMap, reserved);
    }
}
