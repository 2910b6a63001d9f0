package dev.sluice.gateway.balance;

import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * A ketama-style consistent-hash ring: every node owns {@value #POINTS_PER_NODE} pseudo-random
 * points on a 32-bit circle (Murmur3 of {@code "<node id>-<i>"}), and a key belongs to the node
 * of the first point at or after the key's hash. Point positions depend only on node ids, so
 * adding or removing one node of n moves only about 1/n of the keys. Immutable.
 */
final class HashRing {
    /** Points per node, as in lua-resty-chash (160 per unit of weight). */
    static final int POINTS_PER_NODE = 160;

    /** Sorted {@code (unsigned point hash << 32) | node index}. */
    private final long[] points;
    private final int nodes;

    /** A ring over {@code nodeIds}; {@link #find} answers indexes into this list. */
    HashRing(List<String> nodeIds) {
        this.nodes = nodeIds.size();
        this.points = new long[nodes * POINTS_PER_NODE];
        int p = 0;
        for (int node = 0; node < nodes; node++) {
            String prefix = nodeIds.get(node) + "-";
            for (int i = 0; i < POINTS_PER_NODE; i++) {
                long h = Integer.toUnsignedLong(Murmur3.hash32(prefix + i));
                points[p++] = h << 32 | node;
            }
        }
        Arrays.sort(points);
    }

    int size() {
        return nodes;
    }

    /** The node owning {@code key}, or -1 for an empty ring. */
    int find(String key) {
        return points.length == 0 ? -1 : owner(start(key));
    }

    /**
     * The node owning {@code key}, or, when that node is {@code excluded}, the next distinct node
     * clockwise that is not. When every node is excluded, the owner itself.
     */
    int find(String key, IntPredicate excluded) {
        if (points.length == 0) {
            return -1;
        }
        final int start = start(key);
        final int owner = owner(start);
        if (!excluded.test(owner)) {
            return owner;
        }
        for (int i = 1; i < points.length; i++) {
            int node = owner((start + i) % points.length);
            if (!excluded.test(node)) {
                return node;
            }
        }
        return owner;
    }

    private int start(String key) {
        long h = Integer.toUnsignedLong(Murmur3.hash32(key));
        // first point whose hash is >= h: search for (h << 32), the smallest packed value with that hash
        int i = Arrays.binarySearch(points, h << 32);
        if (i < 0) {
            i = -i - 1;
        }
        return i == points.length ? 0 : i;
    }

    private int owner(int pointIndex) {
        return (int) points[pointIndex];
    }
}
