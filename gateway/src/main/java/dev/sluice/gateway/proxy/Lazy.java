package dev.sluice.gateway.proxy;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A value made on first use, once, by whichever thread asks first (the others wait for it). For
 * the parts of the server that most configurations never use and that cost start-up CPU to make
 * (a TLS context, a cache, an HMAC key): the start to ready does not pay for them.
 */
final class Lazy<T> implements Supplier<T> {
    private final Supplier<? extends T> make;
    private volatile T value;

    Lazy(Supplier<? extends T> make) {
        this.make = Objects.requireNonNull(make, "make");
    }

    @Override
    public T get() {
        T v = value;
        if (v == null) {
            synchronized (this) {
                v = value;
                if (v == null) {
                    v = Objects.requireNonNull(make.get(), "made null");
                    value = v;
                }
            }
        }
        return v;
    }
}
