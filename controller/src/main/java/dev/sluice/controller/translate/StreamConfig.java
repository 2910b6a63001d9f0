package dev.sluice.controller.translate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Where the TCP and UDP services come from, named as ingress-nginx names the flags.
 *
 * @param tcpServicesConfigMap {@code --tcp-services-configmap} as {@code namespace/name}, or {@code null}
 * @param udpServicesConfigMap {@code --udp-services-configmap} as {@code namespace/name}, or {@code null}
 * @param reservedPorts        ports no entry may take: Sluice's own HTTP, HTTPS and admin ports
 */
public record StreamConfig(String tcpServicesConfigMap, String udpServicesConfigMap, Set<Integer> reservedPorts) {
    /** No stream services. */
    public static final StreamConfig NONE = new StreamConfig(null, null, Set.of());

    public StreamConfig {
        reservedPorts = Set.copyOf(reservedPorts);
    }

    /** The ConfigMaps to read, {@code namespace/name}, TCP first. */
    public List<String> configMaps() {
        List<String> out = new ArrayList<>();
        if (tcpServicesConfigMap != null) {
            out.add(tcpServicesConfigMap);
        }
        if (udpServicesConfigMap != null) {
            out.add(udpServicesConfigMap);
        }
        return List.copyOf(out);
    }
}
