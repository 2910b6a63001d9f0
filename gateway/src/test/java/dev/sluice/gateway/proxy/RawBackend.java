package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A backend on plain blocking sockets for hardening tests: it records every request exactly as
 * the bytes arrived (head and body) and answers each with bytes a script chooses, however
 * malformed. The proxy side of a test sees a real TCP peer; nothing here parses more than
 * needed to find where one request ends.
 *
 * <p>The script gets the request head (request line and headers, as text) and returns an
 * {@link Answer}: raw bytes, then what the connection does next (stays open for the next request,
 * is closed, is reset, or hangs without reading on).
 */
final class RawBackend implements AutoCloseable {
    /** What the connection does after an answer's bytes. */
    enum After { KEEP, CLOSE, RESET, HANG }

    /** The bytes a script answers with and what follows them. */
    record Answer(byte[] bytes, After after) {
        static Answer keep(String raw) {
            return new Answer(raw.getBytes(StandardCharsets.ISO_8859_1), After.KEEP);
        }

        static Answer thenClose(String raw) {
            return new Answer(raw.getBytes(StandardCharsets.ISO_8859_1), After.CLOSE);
        }

        /** The bytes, then a TCP reset (SO_LINGER 0). */
        static Answer thenReset(String raw) {
            return new Answer(raw.getBytes(StandardCharsets.ISO_8859_1), After.RESET);
        }

        /** The bytes, then nothing: the connection stays open, unanswered. */
        static Answer thenHang(String raw) {
            return new Answer(raw.getBytes(StandardCharsets.ISO_8859_1), After.HANG);
        }
    }

    private final ServerSocket listener;
    private final BiFunction<Integer, String, Answer> script;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();

    private RawBackend(ServerSocket listener, BiFunction<Integer, String, Answer> script) {
        this.listener = listener;
        this.script = script;
    }

    /** A backend on {@code address} (a loopback address) and a free port. */
    static RawBackend start(String address, Function<String, Answer> script) {
        return start(address, (n, head) -> script.apply(head));
    }

    /**
     * A backend whose script also gets the number of the request on its connection (0 for the
     * first): a connection can behave differently when it is reused.
     */
    static RawBackend start(String address, BiFunction<Integer, String, Answer> script) {
        try {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0), 1024);
            RawBackend b = new RawBackend(s, script);
            Thread t = new Thread(b::acceptLoop, "raw-backend-" + s.getLocalPort());
            t.setDaemon(true);
            t.start();
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A backend that answers every request {@code 200 ok} with keep-alive. */
    static RawBackend ok(String address) {
        return start(address, head -> Answer.keep("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
                + (head.startsWith("HEAD ") ? "" : "ok")));
    }

    Endpoint endpoint() {
        return new Endpoint(listener.getInetAddress().getHostAddress(), listener.getLocalPort());
    }

    /** Every request received so far, head and body as they arrived (ISO-8859-1 text). */
    List<String> requests() {
        return List.copyOf(requests);
    }

    int connectionsAccepted() {
        return connections.get();
    }

    /** Connections accepted and not yet closed (by either side). */
    int openConnections() {
        return open.get();
    }

    void clear() {
        requests.clear();
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                connections.incrementAndGet();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "raw-backend-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        open.incrementAndGet();
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int n = 0; ; n++) {
                ByteArrayOutputStream raw = new ByteArrayOutputStream();
                String head = readHead(in, raw);
                if (head == null) {
                    return;
                }
                readBody(in, raw, head);
                requests.add(raw.toString(StandardCharsets.ISO_8859_1));
                Answer answer = script.apply(n, head);
                out.write(answer.bytes());
                out.flush();
                switch (answer.after()) {
                    case KEEP -> { }
                    case CLOSE -> {
                        return;
                    }
                    case RESET -> {
                        s.setSoLinger(true, 0);
                        return;
                    }
                    case HANG -> {
                        while (in.read() != -1) {
                            // hold the connection until the proxy gives up
                        }
                        return;
                    }
                }
            }
        } catch (IOException e) {
            // the proxy went away
        } finally {
            open.decrementAndGet();
        }
    }

    private static String readHead(InputStream in, ByteArrayOutputStream raw) throws IOException {
        int state = 0; // bytes of "\r\n\r\n" matched
        int c;
        while ((c = in.read()) != -1) {
            raw.write(c);
            state = c == '\n' && (state == 1 || state == 3) ? state + 1 : c == '\r' && (state == 0 || state == 2) ? state + 1 : 0;
            if (state == 4) {
                return raw.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static void readBody(InputStream in, ByteArrayOutputStream raw, String head) throws IOException {
        String lower = head.toLowerCase(Locale.ROOT);
        if (lower.contains("\r\ntransfer-encoding: chunked")) {
            while (true) {
                String size = line(in, raw);
                int semi = size.indexOf(';');
                long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                if (n == 0) {
                    while (!line(in, raw).isEmpty()) {
                        // trailers
                    }
                    return;
                }
                copy(in, raw, n);
                line(in, raw);
            }
        }
        int at = lower.indexOf("\r\ncontent-length:");
        if (at >= 0) {
            int end = lower.indexOf("\r\n", at + 2);
            copy(in, raw, Long.parseLong(lower.substring(at + 17, end).trim()));
        }
    }

    private static String line(InputStream in, ByteArrayOutputStream raw) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            raw.write(c);
            if (c == '\n') {
                return b.toString().strip();
            }
            b.append((char) c);
        }
        throw new IOException("closed in a chunked body");
    }

    private static void copy(InputStream in, ByteArrayOutputStream raw, long n) throws IOException {
        for (long i = 0; i < n; i++) {
            int c = in.read();
            if (c == -1) {
                throw new IOException("closed in a body");
            }
            raw.write(c);
        }
    }
}
