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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Plain-socket backends for stream tests on loopback: a TCP echo (half-close aware: it finishes
 * sending, then closes, once the client has), a UDP echo, and a TCP server that answers with the
 * first line it reads (to see a PROXY protocol header); and the ports Sluice's stream listeners
 * get in those tests.
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

    /**
     * A TCP port on 127.0.0.1 for a stream port Sluice opens later (a {@code tcp-services} entry),
     * held until {@link #close} by a socket bound with {@code SO_REUSEADDR} that never listens: the
     * kernel gives the port to no one else (a port freed and reused later could be taken meanwhile,
     * by any process binding port 0), while Linux lets a listener that sets {@code SO_REUSEADDR} too,
     * as Sluice's stream ports do, bind and listen on it. Connections are refused while nothing
     * listens, so a closed stream port still looks closed.
     */
    public int heldTcpPort() throws IOException {
        Socket s = new Socket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        open.add(s);
        return s.getLocalPort();
    }

    /**
     * A UDP port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range: no
     * socket bound to port 0 is given it meanwhile, only one bound to that very number. It cannot
     * be held as {@link #heldTcpPort} holds a TCP port, because Sluice binds UDP ports without
     * {@code SO_REUSEADDR} (two sockets sharing a UDP port would split its datagrams).
     */
    public static int freeUdpPort() throws IOException {
        int below = 32768;
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (Files.isReadable(range)) {
            below = Integer.parseInt(Files.readString(range).trim().split("\\s+")[0]);
        }
        int lowest = Math.min(10_000, below / 2);
        for (int i = 0; i < 100; i++) {
            int port = ThreadLocalRandom.current().nextInt(lowest, below);
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port))) {
                return s.getLocalPort();
            } catch (SocketException taken) {
                // bound by someone: another number
            }
        }
        throw new IOException("no free UDP port below " + below);
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
