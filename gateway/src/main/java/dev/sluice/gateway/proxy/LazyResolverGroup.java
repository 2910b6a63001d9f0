package dev.sluice.gateway.proxy;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * An address resolver group made on the first connection that asks for a resolver: Netty's DNS
 * resolver (for ExternalName Services) is some 50 classes and a builder that a start does not need
 * before it is ready. Each event loop's resolver is the made group's, closed with it.
 */
final class LazyResolverGroup extends AddressResolverGroup<InetSocketAddress> {
    private final Lazy<AddressResolverGroup<InetSocketAddress>> group;
    private volatile boolean made;

    LazyResolverGroup(Supplier<AddressResolverGroup<InetSocketAddress>> make) {
        this.group = new Lazy<>(() -> {
            AddressResolverGroup<InetSocketAddress> g = make.get();
            made = true;
            return g;
        });
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return group.get().getResolver(executor);
    }

    @Override
    public void close() {
        super.close();
        if (made) {
            group.get().close();
        }
    }
}
