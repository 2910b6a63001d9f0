package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Peak-EWMA with power-of-two-choices ({@code load-balance: ewma}): each pick draws two distinct
 * random endpoints and takes the one with the lower cost, {@code latency average × (in-flight + 1)}.
 * The latency average is exponentially weighted with a decay time of 10 s (as ingress-nginx's
 * {@code ewma.lua}) and jumps up at once to a latency above it ("peak", as Finagle's PeakEwma), so
 * a slowing endpoint is avoided immediately and recovers gradually; an idle endpoint's average
 * decays towards zero so it gets tried again. A retry draws among the endpoints not yet tried.
 *
 * <p>Feedback: {@link #pick} counts the attempt as in flight; {@link #onResponse} must follow
 * once per pick. State is per endpoint, lock-free ({@code AtomicLong}/{@code AtomicInteger});
 * concurrent updates may interleave, which only blurs an average slightly.
 */
public final class Ewma implements LoadBalancer {
    /** Decay time of the average (ingress-nginx {@code DECAY_TIME = 10} seconds). */
    static final long DECAY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /**
     * Cost of an endpoint that has requests in flight but no measurement yet, so that a new
     * endpoint is not flooded before its first answer (Finagle's penalty idea).
     */
    static final double PENALTY_NANOS = TimeUnit.SECONDS.toNanos(1000);

    private final List<Endpoint> endpoints;
    private final Stats[] stats;
    private final Map<Endpoint, Stats> statsByEndpoint;
    private final LongSupplier nanoClock;
    private final Supplier<? extends RandomGenerator> random;

    private Ewma(List<Endpoint> endpoints, Ewma previous, LongSupplier nanoClock,
            Supplier<? extends RandomGenerator> random) {
        this.endpoints = List.copyOf(endpoints);
        this.nanoClock = nanoClock;
        this.random = random;
        this.stats = new Stats[this.endpoints.size()];
        Map<Endpoint, Stats> byEndpoint = new HashMap<>();
        long now = nanoClock.getAsLong();
        double average = previous == null ? 0 : previous.averageLatency();
        for (int i = 0; i < stats.length; i++) {
            Endpoint e = this.endpoints.get(i);
            // Surviving endpoints keep their (shared) state, so attempts started on the previous
            // balancer still report to the right counters; new ones start at the old average.
            Stats s = previous == null ? null : previous.statsByEndpoint.get(e);
            if (s == null) {
                s = new Stats(average, now);
            }
            stats[i] = s;
            byEndpoint.put(e, s);
        }
        this.statsByEndpoint = Map.copyOf(byEndpoint);
    }

    public static Ewma of(List<Endpoint> endpoints) {
        return new Ewma(endpoints, null, System::nanoTime, ThreadLocalRandom::current);
    }

    /** A balancer over {@code endpoints} that keeps what {@code previous} (if an Ewma) learned. */
    public static Ewma continuing(List<Endpoint> endpoints, LoadBalancer previous) {
        return new Ewma(endpoints, previous instanceof Ewma e ? e : null, System::nanoTime, ThreadLocalRandom::current);
    }

    /** As {@link #continuing} with a chosen clock and random source (tests). */
    static Ewma of(List<Endpoint> endpoints, Ewma previous, LongSupplier nanoClock,
            Supplier<? extends RandomGenerator> random) {
        return new Ewma(endpoints, previous, nanoClock, random);
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    @Override
    public Endpoint pick(RequestView req, Set<Endpoint> exclude) {
        final int n = endpoints.size();
        if (n == 0) {
            return null;
        }
        int chosen;
        if (n == 1) {
            chosen = 0;
        } else if (exclude.isEmpty()) {
            chosen = choose(n, null);
        } else {
            int[] allowed = new int[n];
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (!exclude.contains(endpoints.get(i))) {
                    allowed[count++] = i;
                }
            }
            chosen = switch (count) {
                case 0 -> choose(n, null);
                case 1 -> allowed[0];
                default -> choose(count, allowed);
            };
        }
        stats[chosen].inFlight.incrementAndGet();
        return endpoints.get(chosen);
    }

    /** Power of two choices among {@code count} candidates (indexes {@code map[k]}, or k itself). */
    private int choose(int count, int[] map) {
        RandomGenerator rnd = random.get();
        int a = rnd.nextInt(count);
        int b = rnd.nextInt(count - 1);
        if (b >= a) {
            b++;
        }
        int i = map == null ? a : map[a];
        int j = map == null ? b : map[b];
        long now = nanoClock.getAsLong();
        return stats[j].cost(now) < stats[i].cost(now) ? j : i;
    }

    @Override
    public void onResponse(Endpoint endpoint, long latencyNanos) {
        Stats s = statsByEndpoint.get(endpoint);
        if (s != null) {
            s.inFlight.updateAndGet(v -> v > 0 ? v - 1 : 0);
            s.observe(Math.max(0, latencyNanos), nanoClock.getAsLong());
        }
    }

    /** The current cost of an endpoint, in nanoseconds (tests, debugging). */
    double cost(Endpoint endpoint) {
        return statsByEndpoint.get(endpoint).cost(nanoClock.getAsLong());
    }

    private double averageLatency() {
        if (stats.length == 0) {
            return 0;
        }
        double sum = 0;
        for (Stats s : stats) {
            sum += s.latency();
        }
        return sum / stats.length;
    }

    @Override
    public String toString() {
        return "Ewma" + endpoints;
    }

    /** Per-endpoint state: latency average (double bits), time of its last update, in-flight count. */
    private static final class Stats {
        final AtomicLong latencyBits;
        final AtomicLong touchedNanos;
        final AtomicInteger inFlight = new AtomicInteger();

        Stats(double latency, long now) {
            this.latencyBits = new AtomicLong(Double.doubleToRawLongBits(latency));
            this.touchedNanos = new AtomicLong(now);
        }

        double latency() {
            return Double.longBitsToDouble(latencyBits.get());
        }

        void observe(double rtt, long now) {
            // getAndSet claims the interval since the previous update, so concurrent updates
            // each decay by their own share of the elapsed time.
            long elapsed = Math.max(0, now - touchedNanos.getAndSet(now));
            double w = Math.exp(-(double) elapsed / DECAY_NANOS);
            long oldBits;
            long newBits;
            do {
                oldBits = latencyBits.get();
                double old = Double.longBitsToDouble(oldBits);
                double updated = rtt > old ? rtt : old * w + rtt * (1 - w);
                newBits = Double.doubleToRawLongBits(updated);
            } while (!latencyBits.compareAndSet(oldBits, newBits));
        }

        double cost(long now) {
            long elapsed = Math.max(0, now - touchedNanos.get());
            double decayed = latency() * Math.exp(-(double) elapsed / DECAY_NANOS);
            int pending = inFlight.get();
            if (decayed == 0 && pending > 0) {
                return PENALTY_NANOS + pending;
            }
            return decayed * (pending + 1);
        }
    }
}
