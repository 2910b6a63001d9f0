package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.tableWithCatchAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.ProxySettings;
import dev.sluice.gateway.route.RouteTableHolder;
import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC through the proxy ({@code backend-protocol: GRPC} and {@code GRPCS}): grpc-java clients
 * over HTTP/2 on the TLS listener, grpc-java servers as the Pods (h2c, and h2 over TLS); all four
 * call kinds, statuses and trailers end to end, deadlines, and proxy errors as gRPC statuses.
 */
class GrpcProxyTest {
    private static final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private static final AtomicInteger plainTransports = new AtomicInteger();
    /** Sockets the "silent" and "held" Pods hold until the end. */
    private static final List<java.io.Closeable> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static Server plain;
    private static Server secure;
    private static GatewayServer server;
    private static ManagedChannel toPlain;

    /** The Pod: echoes, streams, fails and sleeps on request. */
    private static final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
        private final String name;

        Service(String name) {
            this.name = name;
        }

        private static SimpleResponse reply(String text) {
            return SimpleResponse.newBuilder().setResponseMessage(text).build();
        }

        @Override
        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            String m = request.getRequestMessage();
            if (m.equals("invalid")) {
                out.onError(Status.INVALID_ARGUMENT.withDescription("bad input: 100% wrong").asRuntimeException());
            } else if (m.startsWith("sleep:")) {
                timers.schedule(() -> {
                    out.onNext(reply("slept"));
                    out.onCompleted();
                }, Long.parseLong(m.substring(6)), TimeUnit.MILLISECONDS);
            } else {
                out.onNext(reply(name + ":" + m));
                out.onCompleted();
            }
        }

        @Override
        public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            String[] parts = request.getRequestMessage().split(":");
            int n = Integer.parseInt(parts[0]);
            for (int i = 0; i < n; i++) {
                out.onNext(reply("item-" + i));
            }
            if (parts.length > 1) {
                out.onError(Status.FAILED_PRECONDITION.withDescription(parts[1]).asRuntimeException());
            } else {
                out.onCompleted();
            }
        }

        @Override
        public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> out) {
            StringBuilder all = new StringBuilder();
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest r) {
                    all.append(r.getRequestMessage());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    out.onNext(reply(all.toString()));
                    out.onCompleted();
                }
            };
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest r) {
                    out.onNext(reply("re:" + r.getRequestMessage()));
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }

    @BeforeAll
    static void start() throws Exception {
        plain = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.4", 0))
                .addService(new Service("plain"))
                .addTransportFilter(new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attrs) {
                        plainTransports.incrementAndGet();
                        return attrs;
                    }
                })
                .build().start();
        FakeCertificate.KeyAndCert pki = FakeCertificate.get(); // any self-signed certificate will do
        secure = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.5", 0))
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(pki.key(), pki.certificate())).build())
                .addService(new Service("secure"))
                .build().start();
        RouteOptions grpc = RouteOptions.DEFAULTS.withBackendProtocol(BackendProtocol.GRPC);
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(tableWithCatchAll(
                // requests without a known :authority (the JDK client cannot set one) reach the plain
                // Pod, or by path prefix a Pod that never answers and one that cannot be connected to
                host("", prefix("/", "default/any",
                        backend("any", dev.sluice.gateway.request.Endpoint.of("127.0.0.4", plain.getPort())), grpc),
                        prefix("/silent/", "default/silent", backend("silent", silentPod("127.0.0.4")), grpc),
                        prefix("/held/", "default/held", backend("held", heldConnectPod("127.0.0.6")), grpc)),
                host("grpc.test", prefix("/", "default/grpc",
                        backend("grpc", dev.sluice.gateway.request.Endpoint.of("127.0.0.4", plain.getPort())), grpc)),
                host("grpcs.test", prefix("/", "default/grpcs",
                        backend("grpcs", dev.sluice.gateway.request.Endpoint.of("127.0.0.5", secure.getPort())),
                        RouteOptions.DEFAULTS.withBackendProtocol(BackendProtocol.GRPCS))),
                host("impatient.test", prefix("/", "default/impatient",
                        backend("impatient", dev.sluice.gateway.request.Endpoint.of("127.0.0.4", plain.getPort())),
                        grpc.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(1)))),
                host("down.test", prefix("/", "default/down", backend("down", TestBackend.deadEndpoint("127.0.0.6")),
                        grpc)),
                host("narrow.test", prefix("/other.Service", "default/narrow",
                        backend("narrow", dev.sluice.gateway.request.Endpoint.of("127.0.0.4", plain.getPort())), grpc)),
                host("empty.test", prefix("/", "default/empty", Backend.of("empty", List.of()), grpc))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
        toPlain = channel("grpc.test");
    }

    @AfterAll
    static void stop() throws InterruptedException {
        toPlain.shutdownNow();
        server.close();
        plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        secure.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
        for (java.io.Closeable c : held) {
            try {
                c.close();
            } catch (java.io.IOException e) {
                // closing anyway
            }
        }
    }

    /** A Pod that accepts connections and reads whatever comes, but never sends a byte. */
    private static dev.sluice.gateway.request.Endpoint silentPod(String ip) throws java.io.IOException {
        java.net.ServerSocket s = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName(ip));
        held.add(s);
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try {
                    java.net.Socket c = s.accept();
                    held.add(c);
                    Thread reader = new Thread(() -> {
                        try {
                            c.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                        } catch (java.io.IOException e) {
                            // closed
                        }
                    }, "silent-pod-reader");
                    reader.setDaemon(true);
                    reader.start();
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "silent-pod");
        t.setDaemon(true);
        t.start();
        return dev.sluice.gateway.request.Endpoint.of(ip, s.getLocalPort());
    }

    /**
     * A Pod whose connects never complete: a listener that never accepts, with its accept queue
     * full, so the kernel drops further SYNs (the connect hangs until the proxy's connect timeout).
     */
    private static dev.sluice.gateway.request.Endpoint heldConnectPod(String ip) throws java.io.IOException {
        java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(ip));
        held.add(s);
        for (int i = 0; i < 8; i++) {
            java.net.Socket c = new java.net.Socket();
            held.add(c);
            try {
                c.connect(s.getLocalSocketAddress(), 250);
            } catch (java.net.SocketTimeoutException full) {
                return dev.sluice.gateway.request.Endpoint.of(ip, s.getLocalPort());
            }
        }
        throw new IllegalStateException("the accept queue of " + s + " never filled");
    }

    /** A unary call sent by the JDK client (no deadline of its own) with {@code grpc-timeout: 500m}. */
    private static HttpResponse<byte[]> callWithGrpcTimeout(String pathPrefix, String message) throws Exception {
        HttpClient client = Http2Clients.trustingAll(HttpClient.Version.HTTP_2);
        byte[] bytes = req(message).toByteArray();
        ByteBuffer frame = ByteBuffer.allocate(5 + bytes.length).put((byte) 0).putInt(bytes.length).put(bytes);
        return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.httpsPort() + pathPrefix
                                + "/grpc.testing.SimpleService/UnaryRpc"))
                .header("content-type", "application/grpc")
                .header("grpc-timeout", "500m")
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofByteArray(frame.array()))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A grpc-java client over TLS to Sluice's HTTPS port, for the route of {@code authority}. */
    private static ManagedChannel channel(String authority) {
        try {
            return NettyChannelBuilder.forAddress("127.0.0.1", server.httpsPort())
                    .overrideAuthority(authority)
                    .sslContext(GrpcSslContexts.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build())
                    .build();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SimpleRequest req(String text) {
        return SimpleRequest.newBuilder().setRequestMessage(text).build();
    }

    private static SimpleServiceGrpc.SimpleServiceBlockingStub blocking(ManagedChannel ch) {
        return SimpleServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Test
    void unaryCallsPassOverH2cToThePod() {
        assertThat(blocking(toPlain).unaryRpc(req("hello")).getResponseMessage()).isEqualTo("plain:hello");
    }

    @Test
    void unaryCallsPassOverTlsToThePod() {
        ManagedChannel ch = channel("grpcs.test");
        try {
            assertThat(blocking(ch).unaryRpc(req("hello")).getResponseMessage()).isEqualTo("secure:hello");
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void serverStreamingDeliversEveryMessageThenTheStatus() {
        List<String> got = new ArrayList<>();
        blocking(toPlain).serverStreamingRpc(req("50")).forEachRemaining(r -> got.add(r.getResponseMessage()));
        assertThat(got).hasSize(50).startsWith("item-0", "item-1").endsWith("item-49");
    }

    @Test
    void anErrorAfterMessagesArrivesInTheTrailers() {
        Iterator<SimpleResponse> it = blocking(toPlain).serverStreamingRpc(req("2:gone wrong"));
        assertThat(it.next().getResponseMessage()).isEqualTo("item-0");
        assertThat(it.next().getResponseMessage()).isEqualTo("item-1");
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, it::next);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.getStatus().getDescription()).isEqualTo("gone wrong");
    }

    @Test
    void clientStreamingSendsEveryMessage() throws Exception {
        CompletableFuture<String> result = new CompletableFuture<>();
        StreamObserver<SimpleRequest> in = SimpleServiceGrpc.newStub(toPlain).withDeadlineAfter(10, TimeUnit.SECONDS)
                .clientStreamingRpc(observer(result, new ArrayList<>()));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            in.onNext(req("m" + i + ","));
            expected.append("m").append(i).append(',');
        }
        in.onCompleted();
        assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(expected.toString());
    }

    @Test
    void bidiStreamingAnswersEachMessageBeforeTheNextIsSent() throws Exception {
        LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        StreamObserver<SimpleRequest> in = SimpleServiceGrpc.newStub(toPlain).withDeadlineAfter(10, TimeUnit.SECONDS)
                .bidiStreamingRpc(new StreamObserver<>() {
                    @Override
                    public void onNext(SimpleResponse r) {
                        answers.add(r.getResponseMessage());
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete("ok");
                    }
                });
        for (int i = 0; i < 5; i++) {
            in.onNext(req("ping-" + i));
            // the answer arrives while the call is still open: both directions stream
            assertThat(answers.poll(5, TimeUnit.SECONDS)).isEqualTo("re:ping-" + i);
        }
        in.onCompleted();
        assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo("ok");
    }

    @Test
    void anErrorStatusFromThePodArrivesIntact() {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> blocking(toPlain).unaryRpc(req("invalid")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).isEqualTo("bad input: 100% wrong");
    }

    @Test
    void theClientsDeadlineEndsTheCall() {
        long start = System.nanoTime();
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> SimpleServiceGrpc.newBlockingStub(toPlain).withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                        .unaryRpc(req("sleep:5000")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
    }

    @Test
    void theProxyReadTimeoutIsAnsweredAsDeadlineExceeded() {
        ManagedChannel ch = channel("impatient.test"); // proxy-read-timeout 1s
        try {
            long start = System.nanoTime();
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> blocking(ch).unaryRpc(req("sleep:5000")));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(e.getStatus().getDescription()).contains("504");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(900L, 4_000L);
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void grpcTimeoutEndsTheCallWhenThePodNeverAnswers() throws Exception {
        // proxy-read-timeout is 60 s: the answer within ~500 ms comes from the call's deadline
        long start = System.nanoTime();
        HttpResponse<byte[]> r = callWithGrpcTimeout("/silent", "x");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("4"); // trailers-only: in the only HEADERS
        assertThat(r.headers().firstValue("grpc-message")).hasValue("proxy: 504 Gateway Timeout");
        assertThat(tookMillis).isBetween(400L, 3_000L);
        // Sluice's own gRPC answer over HTTPS carries HSTS, as every HTTPS answer does
        assertThat(r.headers().firstValue("strict-transport-security")).hasValue(ProxySettings.DEFAULT_HSTS);
    }

    @Test
    void grpcTimeoutBoundsTheConnectToo() throws Exception {
        // proxy-connect-timeout is 5 s, after which a refused attempt would be retried: the deadline
        // ends the call first, as DEADLINE_EXCEEDED, not UNAVAILABLE
        long start = System.nanoTime();
        HttpResponse<byte[]> r = callWithGrpcTimeout("/held", "x");
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("4");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("proxy: 504 Gateway Timeout");
        assertThat(tookMillis).isBetween(400L, 3_000L);
    }

    @Test
    void aPodEnforcingTheForwardedGrpcTimeoutItselfStillMeansDeadlineExceeded() throws Exception {
        // the grpc-java Pod resets the stream when the forwarded grpc-timeout passes, racing the
        // proxy's own timer: either way the client learns DEADLINE_EXCEEDED, never UNAVAILABLE
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> r = callWithGrpcTimeout("", "sleep:5000");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("grpc-status")).hasValue("4");
        }
    }

    @Test
    void anUnreachablePodIsUnavailable() {
        ManagedChannel ch = channel("down.test");
        try {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> blocking(ch).unaryRpc(req("x")));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("502");
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aBackendWithoutEndpointsIsUnavailable() {
        ManagedChannel ch = channel("empty.test");
        try {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> blocking(ch).unaryRpc(req("x")));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("503");
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aPathWithoutARouteIsUnimplemented() {
        ManagedChannel ch = channel("narrow.test"); // routes only /other.Service/
        try {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> blocking(ch).unaryRpc(req("x")));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).contains("404");
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void concurrentCallsShareOneUpstreamConnection() throws Exception {
        blocking(toPlain).unaryRpc(req("warm"));
        int before = plainTransports.get();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            CompletableFuture<String> f = new CompletableFuture<>();
            SimpleServiceGrpc.newStub(toPlain).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .unaryRpc(req("sleep:300"), observer(f, new ArrayList<>()));
            calls.add(f);
        }
        for (CompletableFuture<String> f : calls) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("slept");
        }
        assertThat(plainTransports.get()).isEqualTo(before);
    }

    private static StreamObserver<SimpleResponse> observer(CompletableFuture<String> result, List<String> all) {
        return new StreamObserver<>() {
            @Override
            public void onNext(SimpleResponse r) {
                all.add(r.getResponseMessage());
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(String.join("", all));
            }
        };
    }
}
