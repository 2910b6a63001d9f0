package dev.sluice.controller.translate;

import dev.sluice.gateway.stream.StreamProtocol;
import dev.sluice.gateway.stream.StreamService;
import dev.sluice.gateway.stream.StreamTable;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.networking.v1.IngressServiceBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressServiceBackendBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceBackendPort;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceBackendPortBuilder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns ingress-nginx's {@code tcp-services} and {@code udp-services} ConfigMaps into the gateway's
 * {@link StreamTable}; a pure function of its inputs, like the rest of the translation.
 *
 * <p>Every entry is {@code "<external port>": "<namespace>/<service>:<service port>[:PROXY][:PROXY]"}:
 * Sluice listens on the external port and relays to the ready endpoints of that Service port,
 * resolved as for an Ingress backend ({@link BackendResolver}: the port by number, else by
 * target port, or by name; endpoints from EndpointSlices, else Endpoints). The first {@code PROXY}
 * decodes a PROXY protocol header from the client, the second sends one to the endpoint (an empty
 * field stands for "no", as in ingress-nginx); UDP takes neither. The Service port's protocol must
 * be the ConfigMap's (TCP by default), as ingress-nginx requires.
 *
 * <p>A bad entry becomes a {@link Problem} on the ConfigMap naming its key and is skipped, the
 * others still work: a key that is not a port number or out of 1..65535, a port Sluice uses for
 * HTTP, HTTPS or admin, a malformed value, a Service or port that does not exist or has another
 * protocol. A ConfigMap that does not exist is a problem too. A Service without ready endpoints is
 * only a note: its port stays open and refuses the traffic until endpoints appear.
 */
final class StreamTranslator {
    static final String KIND = "ConfigMap";

    private final StreamConfig config;
    private final BackendResolver backends;
    private final Map<String, ConfigMap> configMaps = new HashMap<>();
    private final Consumer<Problem> problems;
    private final Consumer<Problem> notes;

    StreamTranslator(StreamConfig config, BackendResolver backends, List<ConfigMap> configMaps,
            Consumer<Problem> problems, Consumer<Problem> notes) {
        this.config = config;
        this.backends = backends;
        for (ConfigMap c : configMaps) {
            if (c.getMetadata() != null && c.getMetadata().getName() != null) {
                this.configMaps.put(BackendResolver.key(c), c);
            }
        }
        this.problems = problems;
        this.notes = notes;
    }

    StreamTable translate() {
        List<StreamService> out = new ArrayList<>();
        add(StreamProtocol.TCP, config.tcpServicesConfigMap(), out);
        add(StreamProtocol.UDP, config.udpServicesConfigMap(), out);
        return new StreamTable(out);
    }

    private void add(StreamProtocol protocol, String ref, List<StreamService> out) {
        if (ref == null || ref.isBlank()) {
            return;
        }
        String flag = "--" + lower(protocol) + "-services-configmap";
        int slash = ref.indexOf('/');
        if (slash <= 0 || slash == ref.length() - 1 || ref.indexOf('/', slash + 1) >= 0) {
            problems.accept(new Problem(KIND, "", ref, flag + " must be namespace/name; no " + protocol
                    + " services"));
            return;
        }
        String ns = ref.substring(0, slash);
        String name = ref.substring(slash + 1);
        ConfigMap cm = configMaps.get(ref);
        if (cm == null) {
            problems.accept(new Problem(KIND, ns, name, "not found (" + flag + "); no " + protocol
                    + " services until it exists"));
            return;
        }
        Map<String, String> data = cm.getData() == null ? Map.of() : cm.getData();
        List<Map.Entry<String, String>> entries = new ArrayList<>(data.entrySet());
        // port order for numbers, then the rest by name: problems and tables come out stable
        entries.sort(Comparator.comparing((Map.Entry<String, String> e) -> portOrNull(e.getKey()),
                Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(Map.Entry::getKey));
        for (Map.Entry<String, String> e : entries) {
            StreamService s = entry(protocol, ns, name, e.getKey(), e.getValue());
            if (s != null) {
                out.add(s);
            }
        }
    }

    /** One entry, or {@code null} when it is skipped (reported). */
    private StreamService entry(StreamProtocol protocol, String ns, String name, String key, String value) {
        String where = lower(protocol) + " service \"" + key + "\"";
        Integer port = portOrNull(key);
        if (port == null) {
            return skip(ns, name, where + ": the key is not a port number");
        }
        if (port < 1 || port > 65535) {
            return skip(ns, name, where + ": port out of range 1-65535");
        }
        if (config.reservedPorts().contains(port)) {
            return skip(ns, name, where + ": port " + port + " is Sluice's own HTTP, HTTPS or admin port");
        }
        String v = value == null ? "" : value.trim();
        String[] parts = v.split(":", -1);
        String malformed = where + ": \"" + v + "\" is not <namespace>/<service>:<port>[:PROXY][:PROXY]";
        if (parts.length < 2 || parts.length > 4) {
            return skip(ns, name, malformed);
        }
        String svcRef = parts[0];
        int slash = svcRef.indexOf('/');
        if (slash <= 0 || slash == svcRef.length() - 1 || svcRef.indexOf('/', slash + 1) >= 0 || parts[1].isEmpty()) {
            return skip(ns, name, malformed);
        }
        boolean[] proxy = new boolean[2];
        for (int i = 2; i < parts.length; i++) {
            if (parts[i].equalsIgnoreCase("PROXY")) {
                proxy[i - 2] = true;
            } else if (!parts[i].isEmpty()) {
                return skip(ns, name, malformed + " (unknown flag \"" + parts[i] + "\")");
            }
        }
        if (protocol == StreamProtocol.UDP && (proxy[0] || proxy[1])) {
            problems.accept(new Problem(KIND, ns, name, where + ": UDP services take no PROXY flags; ignored"));
            proxy[0] = false;
            proxy[1] = false;
        }
        String svcNs = svcRef.substring(0, slash);
        String svcName = svcRef.substring(slash + 1);
        ServiceBackendPort servicePort = parts[1].chars().allMatch(Character::isDigit) && parts[1].length() <= 5
                ? new ServiceBackendPortBuilder().withNumber(Integer.parseInt(parts[1])).build()
                : new ServiceBackendPortBuilder().withName(parts[1]).build();
        IngressServiceBackend backend = new IngressServiceBackendBuilder().withName(svcName).withPort(servicePort)
                .build();
        BackendResolver.Resolution r = backends.resolve(svcNs, backend);
        if (r.problem() != null) {
            return skip(ns, name, where + ": " + r.problem());
        }
        if (r.backend().endpoints().stream()
                .anyMatch(e -> io.netty.util.NetUtil.createByteArrayFromIpAddressString(e.address()) == null)) {
            // the stream relays connect to addresses; DNS names (ExternalName) are an HTTP feature here
            return skip(ns, name, where + ": service " + svcRef + " is of type ExternalName, which TCP/UDP services "
                    + "do not support");
        }
        ServicePort sp = backends.servicePort(svcNs, svcName, servicePort);
        String spProtocol = sp == null || sp.getProtocol() == null ? "TCP" : sp.getProtocol();
        if (!spProtocol.equalsIgnoreCase(protocol.name())) {
            return skip(ns, name, where + ": port " + parts[1] + " of service " + svcRef + " is " + spProtocol
                    + ", not " + protocol);
        }
        if (!r.backend().hasEndpoints()) {
            notes.accept(new Problem(KIND, ns, name, where + ": service " + svcRef + " has no ready endpoints; port "
                    + port + " stays open and refuses traffic"));
        }
        return new StreamService(protocol, port, r.backend().name(), r.backend().endpoints(), proxy[0], proxy[1],
                ns + "/" + name + " " + key);
    }

    private StreamService skip(String ns, String name, String message) {
        problems.accept(new Problem(KIND, ns, name, message + "; entry skipped"));
        return null;
    }

    private static Integer portOrNull(String key) {
        String k = key == null ? "" : key.trim();
        if (k.isEmpty() || k.length() > 9 || !k.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Integer.parseInt(k);
    }

    private static String lower(StreamProtocol p) {
        return p.name().toLowerCase(Locale.ROOT);
    }
}
