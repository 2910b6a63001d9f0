package dev.sluice.controller.translate;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.request.Endpoint;
import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointPort;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.networking.v1.IngressServiceBackend;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceBackendPort;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Resolves an Ingress backend ({@code service.name} + {@code port.number|port.name}) to a
 * {@link Backend} with its ready endpoints, as ingress-nginx does (SPEC §6.1).
 *
 * <p>The Ingress port is looked up in {@code Service.spec.ports[]} (by {@code port}, then by
 * {@code targetPort} for a number; by {@code name} for a name). Endpoints come from the
 * EndpointSlices labelled {@code kubernetes.io/service-name=<service>} in the same namespace: the
 * slice port whose name equals the Service port's name (an unnamed single-port Service takes the
 * slice's single port). An endpoint is used unless {@code conditions.ready} is {@code false}
 * ({@code null} counts as ready); Sluice also leaves out endpoints whose {@code terminating} is
 * {@code true}, which for a {@code null} ready condition is safer than ingress-nginx's reading.
 * Endpoints are de-duplicated and sorted by address and port so equal inputs give equal tables.
 * Only when a Service has no EndpointSlice at all does the legacy {@code Endpoints} object count
 * ({@code addresses} only, never {@code notReadyAddresses}).
 *
 * <p>An {@code ExternalName} Service has one endpoint, its DNS name (resolved by the proxy when it
 * connects) and the port: the matching Service port's {@code targetPort} (else its {@code port}),
 * else the Ingress's port number. As ingress-nginx, {@code localhost} and loopback addresses are
 * refused, and a name that is not a DNS subdomain. With {@code service-upstream} a
 * {@code ClusterIP} Service has one endpoint too, {@code clusterIP:port}; a headless Service keeps
 * its Pods (reported).
 *
 * <p>One resolver serves one translation: it indexes the objects once and caches each backend by
 * name, so every route naming the same Service port shares one {@link Backend} (and one
 * round-robin cursor), like an ingress-nginx upstream.
 */
final class BackendResolver {
    static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private static final Comparator<Endpoint> ENDPOINT_ORDER =
            Comparator.comparing(Endpoint::address).thenComparingInt(Endpoint::port);

    /**
     * A resolved backend and, when it cannot serve for a configuration reason, the problem; or a
     * warning when it serves, but not quite as asked.
     */
    record Resolution(Backend backend, String problem, String warning) {
        Resolution(Backend backend, String problem) {
            this(backend, problem, null);
        }
    }

    /** A DNS-1123 subdomain, as Kubernetes validates {@code externalName} (length checked apart). */
    private static final java.util.regex.Pattern DNS_SUBDOMAIN =
            java.util.regex.Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

    private final ObjectIndex objects;
    private final boolean externalNameDisabled;
    private final Map<String, Remembered> previous;
    private final Map<String, Remembered> remembered = new HashMap<>();
    /** What the table's configuration reads of each backend; see {@link #configurationFacts()}. */
    private final Map<String, Facts> facts = new HashMap<>();
    /** {@link #firstPortBackend} results by {@code namespace/name}. */
    private final Map<String, Backend> firstPorts = new HashMap<>();

    /** What the configuration reads of a backend: everything but the endpoint addresses. */
    record Facts(String name, String problem, String warning, boolean hasEndpoints) {}

    /**
     * A resolution, what was looked up and the objects it read: valid for a later translation
     * whose Service, EndpointSlices and Endpoints of that name are these very instances.
     */
    record Remembered(String namespace, IngressServiceBackend lookup, boolean serviceUpstream, String serviceKey,
            Service service, List<EndpointSlice> slices, Endpoints endpoints, Resolution resolution, Facts facts) {

        /** Whether these are the objects this resolution read. */
        boolean read(Service s, List<EndpointSlice> sl, Endpoints e) {
            return service == s && endpoints == e && TranslationMemo.sameInstances(slices, sl);
        }
    }

    BackendResolver(ClusterState state) {
        this(state, false);
    }

    /** @param externalNameDisabled {@code --disable-svc-external-name}: ExternalName Services get no endpoint */
    BackendResolver(ClusterState state, boolean externalNameDisabled) {
        this(ObjectIndex.of(state, ObjectIndex.EMPTY), externalNameDisabled, Map.of());
    }

    /**
     * @param objects  the snapshot's Services, EndpointSlices and Endpoints
     * @param previous the resolutions of the last translation ({@link #remembered()}), reused
     *                 where their objects are the same instances
     */
    BackendResolver(ObjectIndex objects, boolean externalNameDisabled, Map<String, Remembered> previous) {
        this.externalNameDisabled = externalNameDisabled;
        this.previous = previous;
        this.objects = objects;
    }

    /** The objects this resolver looks backends up in. */
    ObjectIndex objects() {
        return objects;
    }

    static String key(HasMetadata o) {
        return namespace(o) + "/" + o.getMetadata().getName();
    }

    static String namespace(HasMetadata o) {
        String ns = o.getMetadata() == null ? null : o.getMetadata().getNamespace();
        return ns == null || ns.isEmpty() ? "default" : ns;
    }

    /** The name ingress-nginx gives the upstream: {@code <ns>-<svc>-<port number or name>}. */
    static String backendName(String namespace, IngressServiceBackend svc) {
        return namespace + "-" + svc.getName() + "-" + portText(svc.getPort());
    }

    private static String portText(ServiceBackendPort port) {
        if (port == null) {
            return "";
        }
        if (port.getNumber() != null && port.getNumber() > 0) {
            return Integer.toString(port.getNumber());
        }
        return port.getName() == null ? "" : port.getName();
    }

    /** Resolves the Service backend of an Ingress in {@code namespace} to its Pods. */
    Resolution resolve(String namespace, IngressServiceBackend svc) {
        return resolve(namespace, svc, false);
    }

    /**
     * Resolves the Service backend of an Ingress in {@code namespace}: to its Pods, or with
     * {@code serviceUpstream} to its ClusterIP.
     */
    Resolution resolve(String namespace, IngressServiceBackend svc, boolean serviceUpstream) {
        String name = backendName(namespace, svc);
        String cacheKey = serviceUpstream ? name + " service-upstream" : name;
        Remembered known = remembered.get(cacheKey);
        Resolution cached = known == null ? null : known.resolution();
        if (cached == null) {
            String svcKey = namespace + "/" + svc.getName();
            Service service = objects.service(svcKey);
            List<EndpointSlice> slices = objects.slices(svcKey);
            Endpoints legacy = objects.endpoints(svcKey);
            Remembered last = previous.get(cacheKey);
            if (last != null && last.read(service, slices, legacy)) {
                remember(cacheKey, last);
                return last.resolution();
            }
            cached = doResolve(name, namespace, svc.getName(), svc.getPort(), serviceUpstream);
            remember(cacheKey, new Remembered(namespace, svc, serviceUpstream, svcKey, service, slices, legacy, cached,
                    new Facts(cached.backend().name(), cached.problem() == null ? cached.backend().problem()
                            : cached.problem(), cached.warning(), cached.backend().hasEndpoints())));
        }
        return cached;
    }

    /**
     * What {@code r} resolved ({@code cacheKey} is its key in {@link #remembered()}), against this
     * resolver's objects: as {@link #resolve}, without working out the names again when the
     * objects are the ones {@code r} read.
     */
    Resolution resolveAgain(String cacheKey, Remembered r) {
        Remembered known = remembered.get(cacheKey);
        if (known != null) {
            return known.resolution();
        }
        String svcKey = r.serviceKey();
        if (r.read(objects.service(svcKey), objects.slices(svcKey), objects.endpoints(svcKey))) {
            remember(cacheKey, r);
            return r.resolution();
        }
        return resolve(r.namespace(), r.lookup(), r.serviceUpstream());
    }

    private void remember(String cacheKey, Remembered r) {
        remembered.put(cacheKey, r);
        facts.put(cacheKey, r.facts());
    }

    /** The resolutions of this translation, for the next one. */
    Map<String, Remembered> remembered() {
        return Collections.unmodifiableMap(remembered); // this resolver resolves no more
    }

    /** The backends {@link #firstPortBackend} returned, by {@code namespace/name}. */
    Map<String, Backend> firstPorts() {
        return Collections.unmodifiableMap(firstPorts); // this resolver resolves no more
    }

    /**
     * Everything the translator may have read of each backend it looked up, except the endpoint
     * addresses: its problem, warning and whether it has endpoints. Equal facts (and equal other
     * inputs) mean the table differs at most in endpoint addresses.
     */
    Map<String, Facts> configurationFacts() {
        return Collections.unmodifiableMap(facts); // this resolver resolves no more
    }

    /**
     * The {@code --default-backend-service}: the first port of that Service, or {@code null} when
     * the Service does not exist or has no port.
     */
    Backend firstPortBackend(String namespace, String serviceName) {
        String svcKey = namespace + "/" + serviceName;
        Backend known = firstPorts.get(svcKey);
        if (known != null) {
            return known; // one instance per Service, as resolve() shares one per backend name
        }
        Service service = objects.service(svcKey);
        if (service == null || service.getSpec() == null || service.getSpec().getPorts() == null
                || service.getSpec().getPorts().isEmpty()) {
            return null;
        }
        ServicePort first = service.getSpec().getPorts().get(0);
        String name = namespace + "-" + serviceName + "-" + first.getPort();
        Backend b = Backend.of(name, serviceName, endpointsOf(namespace, serviceName, service, first));
        facts.put("first port of " + svcKey, new Facts(name, null, null, b.hasEndpoints()));
        firstPorts.put(svcKey, b);
        return b;
    }

    /**
     * The port of Service {@code namespace/serviceName} that {@code port} names, matched as
     * {@link #resolve} matches it, or {@code null} when there is no such Service or port.
     */
    ServicePort servicePort(String namespace, String serviceName, ServiceBackendPort port) {
        Service service = objects.service(namespace + "/" + serviceName);
        return service == null ? null : findServicePort(service, port);
    }

    private Resolution doResolve(String name, String namespace, String serviceName, ServiceBackendPort port,
            boolean serviceUpstream) {
        String svcKey = namespace + "/" + serviceName;
        Service service = objects.service(svcKey);
        if (service == null) {
            String problem = "service " + svcKey + " not found";
            return new Resolution(Backend.unavailable(name, serviceName, problem), problem);
        }
        if (service.getSpec() != null && "ExternalName".equals(service.getSpec().getType())) {
            if (externalNameDisabled) {
                String problem = "service " + svcKey + " is of type ExternalName, which --disable-svc-external-name "
                        + "turns off";
                return new Resolution(Backend.unavailable(name, serviceName, problem), problem);
            }
            return externalName(name, svcKey, serviceName, service, port);
        }
        ServicePort servicePort = findServicePort(service, port);
        if (servicePort == null) {
            String problem = "service " + svcKey + " has no port " + portText(port);
            return new Resolution(Backend.unavailable(name, serviceName, problem), problem);
        }
        if (serviceUpstream) {
            String clusterIp = service.getSpec().getClusterIP();
            if (clusterIp != null && !clusterIp.isEmpty() && !"None".equals(clusterIp) && servicePort.getPort() != null) {
                // ingress-nginx: one endpoint, kube-proxy balances (affinity and retries then see one endpoint)
                return new Resolution(Backend.of(name, serviceName, List.of(Endpoint.of(clusterIp, servicePort.getPort()))),
                        null);
            }
            return new Resolution(Backend.of(name, serviceName, endpointsOf(namespace, serviceName, service, servicePort)),
                    null, "service-upstream: service " + svcKey + " has no ClusterIP (headless); its Pods are used");
        }
        return new Resolution(Backend.of(name, serviceName, endpointsOf(namespace, serviceName, service, servicePort)), null);
    }

    /**
     * The one endpoint of an {@code ExternalName} Service (see the class comment), or the problem
     * that leaves it without one.
     */
    private static Resolution externalName(String name, String svcKey, String serviceName, Service service,
            ServiceBackendPort port) {
        String host = service.getSpec().getExternalName();
        String problem = null;
        if (host == null || host.isBlank()) {
            problem = "service " + svcKey + " is of type ExternalName without an externalName";
        } else {
            byte[] ip = io.netty.util.NetUtil.createByteArrayFromIpAddressString(host);
            String dnsName = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
            if (dnsName.equalsIgnoreCase("localhost") || (ip != null && loopback(ip))) {
                problem = "service " + svcKey + " is of type ExternalName with the local name " + host
                        + ", which is refused (as ingress-nginx)";
            } else if (ip == null && (dnsName.length() > 253 || !DNS_SUBDOMAIN.matcher(dnsName).matches())) {
                problem = "service " + svcKey + " is of type ExternalName with the invalid DNS name " + host;
            }
        }
        int targetPort = problem == null ? externalPort(service, port) : 0;
        if (problem == null && targetPort == 0) {
            problem = "service " + svcKey + " (ExternalName) has no port " + portText(port);
        }
        if (problem != null) {
            return new Resolution(Backend.unavailable(name, serviceName, problem), problem);
        }
        return new Resolution(Backend.of(name, serviceName, List.of(Endpoint.of(host, targetPort))), null);
    }

    /**
     * The port an ExternalName endpoint is reached on: the matching Service port's numeric
     * {@code targetPort}, else its {@code port}; without a matching Service port, the Ingress's
     * port number (ingress-nginx makes one up from it); {@code 0} when there is none.
     */
    private static int externalPort(Service service, ServiceBackendPort port) {
        ServicePort sp = findServicePort(service, port);
        if (sp != null) {
            Integer target = sp.getTargetPort() == null ? null : sp.getTargetPort().getIntVal();
            if (target != null && target > 0 && target <= 65535) {
                return target;
            }
            return sp.getPort() != null && sp.getPort() > 0 && sp.getPort() <= 65535 ? sp.getPort() : 0;
        }
        Integer number = port == null ? null : port.getNumber();
        return number != null && number > 0 && number <= 65535 ? number : 0;
    }

    /** Whether a 4- or 16-byte address is a loopback address ({@code 127.0.0.0/8}, {@code ::1}). */
    private static boolean loopback(byte[] ip) {
        if (ip.length == 4) {
            return ip[0] == 127;
        }
        for (int i = 0; i < 15; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[15] == 1;
    }

    private static ServicePort findServicePort(Service service, ServiceBackendPort port) {
        List<ServicePort> ports = service.getSpec() == null ? null : service.getSpec().getPorts();
        if (ports == null || port == null) {
            return null;
        }
        if (port.getNumber() != null && port.getNumber() > 0) {
            int number = port.getNumber();
            for (ServicePort sp : ports) {
                if (sp.getPort() != null && sp.getPort() == number) {
                    return sp;
                }
            }
            for (ServicePort sp : ports) {
                if (sp.getTargetPort() != null && sp.getTargetPort().getIntVal() != null
                        && sp.getTargetPort().getIntVal() == number) {
                    return sp;
                }
            }
            return null;
        }
        if (port.getName() != null) {
            for (ServicePort sp : ports) {
                if (port.getName().equals(sp.getName())) {
                    return sp;
                }
            }
        }
        return null;
    }

    private List<Endpoint> endpointsOf(String namespace, String serviceName, Service service, ServicePort sp) {
        boolean singlePort = service.getSpec().getPorts().size() == 1;
        String portName = nz(sp.getName());
        List<Endpoint> out = new ArrayList<>();
        List<EndpointSlice> slices = objects.slices(namespace + "/" + serviceName);
        if (slices != null) {
            for (EndpointSlice slice : slices) {
                Integer port = slicePort(slice, portName, singlePort);
                if (port == null || port < 1 || port > 65535 || slice.getEndpoints() == null) {
                    continue;
                }
                for (var ep : slice.getEndpoints()) {
                    if (!usable(ep.getConditions()) || ep.getAddresses() == null) {
                        continue;
                    }
                    for (String address : ep.getAddresses()) {
                        if (address != null && !address.isEmpty()) {
                            out.add(Endpoint.of(address, port));
                        }
                    }
                }
            }
            return sortedDistinct(out);
        }
        Endpoints legacy = objects.endpoints(namespace + "/" + serviceName);
        if (legacy != null && legacy.getSubsets() != null) {
            for (EndpointSubset subset : legacy.getSubsets()) {
                Integer port = subsetPort(subset, portName, singlePort);
                if (port == null || port < 1 || port > 65535 || subset.getAddresses() == null) {
                    continue;
                }
                for (EndpointAddress a : subset.getAddresses()) {
                    if (a.getIp() != null && !a.getIp().isEmpty()) {
                        out.add(Endpoint.of(a.getIp(), port));
                    }
                }
            }
        }
        return sortedDistinct(out);
    }

    /**
     * {@code endpoints} in {@link #ENDPOINT_ORDER} without repeats (a Pod in two slices). A sort of
     * a short list: every Service of every rebuild comes here, and a TreeSet per Service cost more.
     */
    private static List<Endpoint> sortedDistinct(List<Endpoint> endpoints) {
        if (endpoints.size() > 1) {
            endpoints.sort(ENDPOINT_ORDER);
            int kept = 1;
            for (int i = 1; i < endpoints.size(); i++) {
                if (ENDPOINT_ORDER.compare(endpoints.get(kept - 1), endpoints.get(i)) != 0) {
                    endpoints.set(kept++, endpoints.get(i));
                }
            }
            endpoints.subList(kept, endpoints.size()).clear();
        }
        return List.copyOf(endpoints);
    }

    /** ready == false excludes (null = ready); Sluice also excludes terminating == true. */
    private static boolean usable(EndpointConditions c) {
        if (c == null) {
            return true;
        }
        return !Boolean.FALSE.equals(c.getReady()) && !Boolean.TRUE.equals(c.getTerminating());
    }

    private static Integer slicePort(EndpointSlice slice, String portName, boolean singlePort) {
        var ports = slice.getPorts();
        if (ports == null || ports.isEmpty()) {
            return null;
        }
        for (var p : ports) {
            if (Objects.equals(nz(p.getName()), portName)) {
                return p.getPort();
            }
        }
        return singlePort && ports.size() == 1 ? ports.get(0).getPort() : null;
    }

    private static Integer subsetPort(EndpointSubset subset, String portName, boolean singlePort) {
        List<EndpointPort> ports = subset.getPorts();
        if (ports == null || ports.isEmpty()) {
            return null;
        }
        for (EndpointPort p : ports) {
            if (Objects.equals(nz(p.getName()), portName)) {
                return p.getPort();
            }
        }
        return singlePort && ports.size() == 1 ? ports.get(0).getPort() : null;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
