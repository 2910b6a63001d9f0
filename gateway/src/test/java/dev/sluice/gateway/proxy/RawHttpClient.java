package dev.sluice.gateway.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A deliberately simple HTTP/1.x client over one socket, for tests that must control every byte
 * (Host, header names with {@code _}, pipelining, HTTP/1.0, malformed requests) and see every
 * response byte. Not thread-safe; one connection per instance.
 */
public final class RawHttpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttpClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
    }

    /** A plain connection to {@code 127.0.0.1:port}. */
    public static RawHttpClient connect(int port) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setTcpNoDelay(true);
            return new RawHttpClient(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A TLS connection trusting any certificate; {@code sni} may be {@code null}. */
    public static RawHttpClient connectTls(int port, String sni) {
        return connectTls(port, sni, null);
    }

    /**
     * A TLS connection trusting any certificate, offering a client certificate when the server
     * asks for one from {@code keyManager} ({@code null}: none); {@code sni} may be {@code null}.
     */
    public static RawHttpClient connectTls(int port, String sni, javax.net.ssl.KeyManager keyManager) {
        return connectTls(port, sni, keyManager, null);
    }

    /**
     * A TLS connection trusting any certificate that first writes {@code preface} in the clear
     * (e.g. a PROXY protocol header, which precedes the ClientHello); {@code null}: nothing.
     */
    public static RawHttpClient connectTls(int port, String sni, javax.net.ssl.KeyManager keyManager, byte[] preface) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManager == null ? null : new javax.net.ssl.KeyManager[] {keyManager},
                    new TrustManager[] {TRUST_ALL}, new SecureRandom());
            SSLSocket s;
            if (preface == null) {
                s = (SSLSocket) ctx.getSocketFactory().createSocket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            } else {
                Socket plain = new Socket();
                plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                plain.setTcpNoDelay(true);
                plain.getOutputStream().write(preface);
                plain.getOutputStream().flush();
                s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
            }
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            if (sni != null) {
                p.setServerNames(List.of(new SNIHostName(sni)));
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return new RawHttpClient(s);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public Socket socket() {
        return socket;
    }

    /** Sets how long a read may block (default 10 s). */
    public RawHttpClient timeout(int millis) {
        try {
            socket.setSoTimeout(millis);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Writes bytes as they are. */
    public RawHttpClient send(String raw) {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttpClient send(byte[] raw) {
        try {
            out.write(raw);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Streams {@code n} pattern bytes as the body, chunked in 32 KiB chunks or raw. */
    public RawHttpClient sendPatternBody(long n, boolean chunked) {
        try (InputStream body = TestBackend.patternStream(n)) {
            byte[] buf = new byte[32 * 1024];
            int len;
            while ((len = body.read(buf)) > 0) {
                if (chunked) {
                    out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(buf, 0, len);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                } else {
                    out.write(buf, 0, len);
                }
            }
            if (chunked) {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Sends a request and reads its response. */
    public Response exchange(String raw) {
        send(raw);
        return read();
    }

    /** Reads one response, keeping the body. */
    public Response read() {
        return read(false, false);
    }

    /** Reads one response of a HEAD request (no body whatever the headers say). */
    public Response readHead() {
        return read(false, true);
    }

    /** Reads one response, counting and checksumming the body instead of keeping it. */
    public Response readCounting() {
        return read(true, false);
    }

    private Response read(boolean countOnly, boolean headRequest) {
        try {
            String statusLine = line();
            if (statusLine == null) {
                throw new IllegalStateException("connection closed before a response");
            }
            String[] parts = statusLine.split(" ", 3);
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            String l;
            while ((l = line()) != null && !l.isEmpty()) {
                int colon = l.indexOf(':');
                headers.add(Map.entry(l.substring(0, colon).trim(), l.substring(colon + 1).trim()));
            }
            int status = Integer.parseInt(parts[1]);
            Body body = new Body(countOnly);
            String te = find(headers, "transfer-encoding");
            String cl = find(headers, "content-length");
            boolean bodyless = headRequest || status == 204 || status == 304 || status < 200;
            if (!bodyless) {
                if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                    while (true) {
                        String size = line();
                        int semi = size.indexOf(';');
                        long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                        if (n == 0) {
                            while ((l = line()) != null && !l.isEmpty()) {
                                // trailers ignored
                            }
                            break;
                        }
                        body.copy(in, n);
                        line();
                    }
                } else if (cl != null) {
                    body.copy(in, Long.parseLong(cl));
                } else {
                    body.copy(in, Long.MAX_VALUE); // until the server closes
                }
            }
            return new Response(parts[0], status, parts.length > 2 ? parts[2] : "", headers,
                    body.bytes(), body.count, body.crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the server closed the connection (reads EOF within the timeout). */
    public boolean closedByServer() {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    private static String find(List<Map.Entry<String, String>> headers, String name) {
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // ignore
        }
    }

    private static final class Body {
        final boolean countOnly;
        final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        final CRC32 crc = new CRC32();
        long count;

        Body(boolean countOnly) {
            this.countOnly = countOnly;
        }

        void copy(InputStream in, long n) throws IOException {
            byte[] buf = new byte[64 * 1024];
            long left = n;
            while (left > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    if (n == Long.MAX_VALUE) {
                        return;
                    }
                    throw new IOException("connection closed with " + left + " body bytes missing");
                }
                crc.update(buf, 0, r);
                count += r;
                left -= r;
                if (!countOnly) {
                    kept.write(buf, 0, r);
                }
            }
        }

        byte[] bytes() {
            return countOnly ? null : kept.toByteArray();
        }
    }

    /** One parsed response. */
    public record Response(String version, int status, String reason, List<Map.Entry<String, String>> headers,
            byte[] body, long bodyLength, long bodyCrc32) {

        /** The first value of a header (case-insensitive), or {@code null}. */
        public String header(String name) {
            return find(headers, name);
        }

        /** All values of a header. */
        public List<String> headers(String name) {
            List<String> out = new ArrayList<>();
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    out.add(h.getValue());
                }
            }
            return out;
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body as JSON (a {@link TestBackend} echo). */
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + text(), e);
            }
        }

        /** From a {@link TestBackend} echo: the first value the backend received for a header, or {@code null}. */
        public String echoedHeader(String name) {
            JsonNode v = json().path("headers").path(name.toLowerCase(Locale.ROOT));
            return v.isArray() && v.size() > 0 ? v.get(0).asText() : null;
        }
    }

    private static final X509TrustManager TRUST_ALL = new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    };
}
