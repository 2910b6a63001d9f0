package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LazyTest {

    @Test
    void makesTheValueOnFirstUseOnlyAndOnceForEveryThread() throws Exception {
        AtomicInteger made = new AtomicInteger();
        Lazy<Object> lazy = new Lazy<>(() -> {
            made.incrementAndGet();
            return new Object();
        });
        assertThat(made).hasValue(0); // nothing made before it is asked for

        CountDownLatch go = new CountDownLatch(1);
        List<Object> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen.add(lazy.get());
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }

        assertThat(made).hasValue(1);
        assertThat(seen).hasSize(8).allSatisfy(v -> assertThat(v).isSameAs(lazy.get()));
    }
}
