package dev.sluice.gateway.stream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TCP and UDP services the data plane relays, besides HTTP: immutable, sorted by protocol then
 * port, at most one service per protocol and port. Published with the route table, so listeners
 * open and close with the table that names them.
 *
 * @param services the services, in (protocol, port) order
 */
public record StreamTable(List<StreamService> services) {
    /** No stream services: no listener besides HTTP and HTTPS. */
    public static final StreamTable EMPTY = new StreamTable(List.of());

    private static final Comparator<StreamService> ORDER =
            Comparator.comparing(StreamService::protocol).thenComparingInt(StreamService::port);

    public StreamTable {
        List<StreamService> sorted = new ArrayList<>(services);
        sorted.sort(ORDER);
        Set<StreamService.Key> seen = new HashSet<>();
        for (StreamService s : sorted) {
            if (!seen.add(s.key())) {
                throw new IllegalArgumentException("two stream services on " + s.key());
            }
        }
        services = List.copyOf(sorted);
    }

    public boolean isEmpty() {
        return services.isEmpty();
    }
}
