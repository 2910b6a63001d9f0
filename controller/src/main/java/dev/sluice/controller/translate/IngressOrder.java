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
        long fast = utcSecond(timestamp);
        if (fast != Long.MIN_VALUE) {
            return fast;
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

    /**
     * The epoch second of the form the API server always writes ({@code 2006-01-02T15:04:05Z}),
     * else {@link Long#MIN_VALUE} (then the general parsers decide). Every rebuild sorts every
     * Ingress, and {@link Instant#parse} made this a tenth of a 10,000-Ingress translation.
     */
    private static long utcSecond(String t) {
        if (t.length() != 20 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T'
                || t.charAt(13) != ':' || t.charAt(16) != ':' || t.charAt(19) != 'Z') {
            return Long.MIN_VALUE;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 7);
        int day = digits(t, 8, 10);
        int hour = digits(t, 11, 13);
        int minute = digits(t, 14, 16);
        int second = digits(t, 17, 19);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > java.time.YearMonth.of(year, month).lengthOfMonth()
                || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return Long.MIN_VALUE; // leap seconds and the like: the general parser's call
        }
        return java.time.LocalDate.of(year, month, day).toEpochDay() * 86_400L + hour * 3600L + minute * 60L + second;
    }

    /** The decimal number in {@code t[from, to)}, or -1 when a character is not a digit. */
    private static int digits(String t, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
