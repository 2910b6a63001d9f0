package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * ingress-nginx's processing order (SPEC §1.4, {@code store.go sortIngressSlice}): oldest
 * {@code metadata.creationTimestamp} first, at second resolution; equal timestamps are ordered by
 * {@code namespace/name} in <em>descending</em> string order ({@code b/x} before {@code a/x}). An
 * Ingress without (or with an unreadable) timestamp counts as the oldest.
 */
public final class IngressOrder {
    private IngressOrder() {}

    /** One Ingress with its precomputed sort key. */
    public record Keyed(Ingress ingress, long createdSecond, String namespace, String name) {
        /** {@code namespace/name}. */
        public String key() {
            return namespace + "/" + name;
        }
    }

    private static final Comparator<Keyed> OLDEST_FIRST = Comparator.comparingLong(Keyed::createdSecond)
            .thenComparing(Keyed::key, Comparator.reverseOrder());

    /** The Ingresses sorted oldest first (a new list). */
    public static List<Keyed> sort(List<Ingress> ingresses) {
        List<Keyed> keyed = new ArrayList<>(ingresses.size());
        for (Ingress i : ingresses) {
            keyed.add(new Keyed(i, createdSecond(i.getMetadata().getCreationTimestamp()),
                    BackendResolver.namespace(i), i.getMetadata().getName()));
        }
        keyed.sort(OLDEST_FIRST);
        return keyed;
    }

    /** Epoch second of an RFC 3339 timestamp; {@link Long#MIN_VALUE} when missing or unreadable. */
    static long createdSecond(String timestamp) {
        if (timestamp == null || timestamp.isEmpty()) {
            return Long.MIN_VALUE;
        }
        try {
            return Instant.parse(timestamp).getEpochSecond();
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(timestamp).toEpochSecond();
            } catch (DateTimeParseException e2) {
                return Long.MIN_VALUE;
            }
        }
    }
}
