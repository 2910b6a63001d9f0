package dev.sluice.controller.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Plain-socket backends for stream tests on loopback: a TCP echo (half-close aware: it finishes
 * sending, then closes, once the client has), a UDP echo, and a TCP server that answers with the
 * first line it reads (to see a PROXY protocol header).
 */
public final class EchoServers implements AutoCloseable {
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();

    /** A TCP echo on {@code ip}, port chosen by the system; returns the port. */
    public int tcpEcho(String ip) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(ip), 0));
        open.add(server);
        daemon(() -> {
            while (!server.isClosed()) {
                Socket s = server.accept();
                open.add(s);
                daemon(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                        s.shutdownOutput();
                    }
                });
            }
        });
        return server.getLocalPort();
    }

    /** A TCP server on {@code ip} that sends back the first line it receives (with its CRLF), then closes. */
    public int firstLine(String ip) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(ip), 0));
        open.add(server);
        daemon(() -> {
            while (!server.isClosed()) {
                Socket s = server.accept();
                daemon(() -> {
                    try (s) {
                        StringBuilder line = new StringBuilder();
                        InputStream in = s.getInputStream();
                        int c;
                        while ((c = in.read()) >= 0) {
                            line.append((char) c);
                            if (c == '\n') {
                                break;
                            }
                        }
                        s.getOutputStream().write(line.toString().getBytes(StandardCharsets.US_ASCII));
                    }
                });
            }
        });
        return server.getLocalPort();
    }

    /** A UDP echo on {@code ip}, port chosen by the system; returns the port. */
    public int udpEcho(String ip) throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(ip), 0));
        open.add(socket);
        daemon(() -> {
            byte[] buf = new byte[65535];
            while (!socket.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                socket.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
            }
        });
        return socket.getLocalPort();
    }

    /** A port that was free on 127.0.0.1 a moment ago. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /** A UDP port that was free on 127.0.0.1 a moment ago. */
    public static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0))) {
            return s.getLocalPort();
        }
    }

    private interface Body {
        void run() throws IOException;
    }

    private static void daemon(Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (SocketException e) {
                // closed by the test
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "echo");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }
}
