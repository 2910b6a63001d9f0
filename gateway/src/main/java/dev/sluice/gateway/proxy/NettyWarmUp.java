package dev.sluice.gateway.proxy;

/**
 * Loads the native transport (extracting and linking Netty's epoll library) and Netty's buffer
 * allocator ahead of the first server start: some 0.1 s of CPU that the start then finds done.
 * A class of its own, with no static state, so that calling it from the first line of
 * {@code main} sets up nothing else on the main thread (the server's logger would set up logging).
 */
public final class NettyWarmUp {
    private NettyWarmUp() {}

    /** Starts the loading on a daemon thread and returns at once; harmless if no server follows. */
    public static void startInBackground() {
        Thread t = new Thread(() -> {
            Transport.detect();
            io.netty.buffer.ByteBufAllocator.DEFAULT.isDirectBufferPooled(); // its set-up; no buffer yet
        }, "sluice-netty-warm-up");
        t.setDaemon(true);
        t.start();
    }
}
