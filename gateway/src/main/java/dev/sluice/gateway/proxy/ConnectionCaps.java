package dev.sluice.gateway.proxy;

import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The caps on open client connections of a server, over both listeners: at most {@code max} in
 * all (NGINX's {@code worker_connections}, ingress-nginx's {@code max-worker-connections}) and at
 * most {@code maxPerAddress} from one TCP peer address; 0 means no cap. A connection over a cap
 * is closed as soon as it is accepted, before a byte is read.
 *
 * <p>Counts are atomic and shared by every event loop; an address's counter is dropped when its
 * count returns to 0, so memory follows the connections open.
 */
final class ConnectionCaps {
    private final int max;
    private final int maxPerAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

    ConnectionCaps(int max, int maxPerAddress) {
        if (max < 0 || maxPerAddress < 0) {
            throw new IllegalArgumentException("caps must be >= 0: " + max + ", " + maxPerAddress);
        }
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    boolean capped() {
        return max > 0 || maxPerAddress > 0;
    }

    /** Counts {@code ch} until it closes, or answers {@code false} when it would exceed a cap (nothing counted). */
    boolean admit(Channel ch) {
        if (max > 0 && open.incrementAndGet() > max) {
            open.decrementAndGet();
            return false;
        }
        InetAddress address = ch.remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
        AtomicInteger mine = null;
        if (maxPerAddress > 0 && address != null) {
            mine = perAddress.computeIfAbsent(address, a -> new AtomicInteger());
            if (mine.incrementAndGet() > maxPerAddress) {
                release(address, mine);
                if (max > 0) {
                    open.decrementAndGet();
                }
                return false;
            }
        }
        AtomicInteger counted = mine;
        ch.closeFuture().addListener(f -> {
            if (counted != null) {
                release(address, counted);
            }
            if (max > 0) {
                open.decrementAndGet();
            }
        });
        return true;
    }

    private void release(InetAddress address, AtomicInteger counter) {
        if (counter.decrementAndGet() == 0) {
            perAddress.remove(address, counter);
        }
    }

    /** Open connections counted against the global cap (0 without one). */
    int open() {
        return open.get();
    }
}
