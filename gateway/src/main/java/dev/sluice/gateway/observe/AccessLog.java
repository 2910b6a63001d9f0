package dev.sluice.gateway.observe;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON access log: one object per line, one line per finished request.
 *
 * <p>Event loops only enqueue an {@link AccessLogEntry} (a lock-free queue, bounded: when the
 * writer falls {@value #CAPACITY} entries behind, new entries are dropped and counted rather
 * than slowing the data plane). A single daemon thread formats and writes them. Example line:
 *
 * <pre>{"time":"2026-03-01T12:00:00.123Z","remote_addr":"10.0.0.7","method":"GET","uri":"/app?x=1",
 * "host":"shop.example.com","status":200,"bytes_sent":512,"request_time":0.004,
 * "upstream_addr":"10.1.2.3:8080","upstream_status":"200","upstream_response_time":"0.003",
 * "request_id":"5f0c…","ingress":"shop/web","service":"shop-web-80","canary":false}</pre>
 *
 * <p>{@code upstream_*} hold one value per endpoint tried, {@code ", "}-separated, as in NGINX's
 * {@code $upstream_addr}. {@code bytes_sent} counts response body bytes.
 */
public final class AccessLog implements AutoCloseable {
    static final int CAPACITY = 65_536;

    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
    private static final AccessLog OFF = new AccessLog(null, null);

    private final OutputStream out;
    private final ConcurrentLinkedQueue<AccessLogEntry> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean writerParked;
    private volatile boolean closed;

    private AccessLog(OutputStream out, String name) {
        this.out = out;
        if (out == null) {
            this.writer = null;
        } else {
            this.writer = new Thread(this::writeLoop, "sluice-access-log");
            this.writer.setDaemon(true);
            this.writer.start();
            log.info("access log: {}", name);
        }
    }

    /** No access log (the default). */
    public static AccessLog off() {
        return OFF;
    }

    /** Lines go to the process's standard output. */
    public static AccessLog stdout() {
        // never close descriptor 1: the process keeps logging there
        return new AccessLog(new NonClosing(new FileOutputStream(FileDescriptor.out)), "stdout");
    }

    /** Lines are appended to {@code file} (created if missing). */
    public static AccessLog file(Path file) {
        Objects.requireNonNull(file, "file");
        try {
            return new AccessLog(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open access log " + file, e);
        }
    }

    /** Whether entries are recorded at all (lets callers skip building them). */
    public boolean enabled() {
        return writer != null && !closed;
    }

    /** Entries dropped because the writer fell behind. */
    public long dropped() {
        return dropped.get();
    }

    /** Enqueues one entry; never blocks. */
    public void record(AccessLogEntry entry) {
        if (!enabled()) {
            return;
        }
        if (queued.incrementAndGet() > CAPACITY) {
            queued.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.offer(entry);
        if (writerParked) {
            LockSupport.unpark(writer);
        }
    }

    /** Writes what is queued, then stops the writer and closes the output (not stdout's descriptor). */
    @Override
    public void close() {
        if (writer == null || closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void writeLoop() {
        JsonFactory json = new JsonFactory();
        try (OutputStream buffered = new BufferedOutputStream(out, 64 * 1024)) {
            while (true) {
                AccessLogEntry e = queue.poll();
                if (e == null) {
                    buffered.flush();
                    if (closed) {
                        break;
                    }
                    writerParked = true;
                    if (queue.isEmpty() && !closed) {
                        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(200));
                    }
                    writerParked = false;
                    continue;
                }
                queued.decrementAndGet();
                try (JsonGenerator g = json.createGenerator(new NonClosing(buffered), JsonEncoding.UTF8)) {
                    write(g, e);
                }
                buffered.write('\n');
            }
        } catch (IOException | RuntimeException e) {
            log.warn("access log writer stopped: {}", e.toString());
        }
    }

    /** Formats one entry; package-private for tests. */
    static void write(JsonGenerator g, AccessLogEntry e) throws IOException {
        g.writeStartObject();
        g.writeStringField("time", ISO_MILLIS.format(Instant.ofEpochMilli(e.epochMillis())));
        g.writeStringField("remote_addr", e.remoteAddr());
        g.writeStringField("method", e.method());
        g.writeStringField("uri", e.uri());
        g.writeStringField("host", e.host());
        g.writeNumberField("status", e.status());
        g.writeNumberField("bytes_sent", e.bytesSent());
        g.writeFieldName("request_time");
        g.writeNumber(seconds(e.requestTimeNanos()));
        g.writeStringField("upstream_addr", e.upstreamAddr());
        g.writeStringField("upstream_status", e.upstreamStatus());
        g.writeStringField("upstream_response_time", e.upstreamResponseTime());
        g.writeStringField("request_id", e.requestId());
        g.writeStringField("ingress", e.ingress());
        g.writeStringField("service", e.service());
        g.writeBooleanField("canary", e.canary());
        g.writeEndObject();
    }

    /** Nanoseconds as seconds with millisecond resolution, e.g. {@code "0.004"} (NGINX's format). */
    public static String seconds(long nanos) {
        long millis = Math.max(0, nanos) / 1_000_000;
        long s = millis / 1000;
        long ms = millis % 1000;
        return s + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms;
    }

    /** Lets one generator per line (and the stdout log) close without closing the underlying stream. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
