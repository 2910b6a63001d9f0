package dev.sluice.gateway.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.HttpContent;
import java.util.ArrayDeque;

/**
 * The request body bytes already sent upstream, kept so that a retry can send them again, up to
 * {@link #LIMIT} bytes in all; bodies are never buffered whole (NGINX buffers them instead).
 *
 * <p>The buffer holds retained duplicates: the chunks themselves go on to the upstream and are
 * released by the write. Once a chunk does not fit, everything kept is released and the buffer
 * stays {@linkplain #replayable() not replayable} for good, as it is once the response starts
 * ({@link #discard()}). An exchange creates it when the first body chunk is forwarded, so a
 * request without a body never allocates one.
 */
final class ReplayBuffer {
    /** The most body bytes a retry can resend. */
    static final int LIMIT = 64 * 1024;

    private final int limit;
    private ArrayDeque<HttpContent> kept = new ArrayDeque<>(4); // null once not replayable
    private int bytes;

    ReplayBuffer() {
        this(LIMIT);
    }

    ReplayBuffer(int limit) {
        this.limit = limit;
    }

    /**
     * Keeps a retained duplicate of {@code c}, which is about to be sent; the caller's reference
     * is untouched. A chunk past the limit gives up replaying instead.
     */
    void add(HttpContent c) {
        if (kept == null) {
            return;
        }
        int n = c.content().readableBytes();
        if (bytes + n <= limit) {
            kept.add(c.retainedDuplicate());
            bytes += n;
        } else {
            discard();
        }
    }

    /** Whether everything added so far is kept. */
    boolean replayable() {
        return kept != null;
    }

    /** The body bytes kept. */
    int bytes() {
        return kept == null ? 0 : bytes;
    }

    /**
     * Writes (without flushing) a retained duplicate of every kept chunk, in order, to a retry's
     * connection; the buffer keeps its own references for a further retry.
     *
     * @return the future of the last write, or {@code null} when nothing is kept
     */
    ChannelFuture writeTo(Channel ch) {
        if (kept == null) {
            return null;
        }
        ChannelFuture last = null;
        for (HttpContent c : kept) {
            last = ch.write(c.retainedDuplicate());
        }
        return last;
    }

    /** Releases everything kept: the request can no longer be replayed. Safe to call again. */
    void discard() {
        ArrayDeque<HttpContent> k = kept;
        if (k == null) {
            return;
        }
        kept = null;
        HttpContent c;
        while ((c = k.poll()) != null) {
            c.release();
        }
    }
}
