package dev.sluice.gateway.balance;

import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * A canary weight draw for exact tests: the k-th {@code nextInt(origin, bound)} returns
 * {@code origin + (k * 37) mod (bound - origin)}. Any {@code bound - origin} consecutive draws
 * (37 is prime and no test total is a multiple of it) return every value of the range exactly
 * once, so {@code total} requests at {@code weight/total} send exactly {@code weight} to the
 * canary; and neighbouring draws are far apart, so a few requests already meet both sides.
 * Thread-safe: the proxy draws on several event loops.
 */
public final class CyclingDraw implements RandomGenerator {
    private static final int STRIDE = 37;
    private final AtomicLong next = new AtomicLong();

    /** Starts over at the first value of the cycle. */
    public void reset() {
        next.set(0);
    }

    @Override
    public int nextInt(int origin, int bound) {
        int n = bound - origin;
        if (n <= 0 || n % STRIDE == 0) {
            throw new IllegalArgumentException("no full cycle over [" + origin + ", " + bound + ")");
        }
        long k = next.getAndIncrement();
        return origin + (int) ((k * STRIDE) % n);
    }

    @Override
    public long nextLong() {
        throw new AssertionError("the canary decision draws with nextInt(origin, bound) only");
    }
}
