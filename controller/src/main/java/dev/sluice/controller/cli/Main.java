package dev.sluice.controller.cli;

import dev.sluice.controller.admission.AdmissionWebhookConfig;
import dev.sluice.controller.status.StatusConfig;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.observe.MetricsConfig;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.proxy.NettyWarmUp;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code sluice} command: parses the flags (named as ingress-nginx names them), starts
 * {@link SluiceApp}, and on SIGTERM / SIGINT drains gracefully and exits 0.
 *
 * <p>Exit codes: 0 after a graceful stop (or {@code --help}/{@code --version}), 1 when the process
 * cannot start (port taken, no cluster, unreadable files), 2 for invalid flags.
 *
 * <p>ingress-nginx's Deployment args can be copied unchanged: every flag of its controller is
 * either one of the options below (same name, same meaning) or in {@link IngressNginxFlags}
 * (accepted with a warning, or refused when ignoring it would change routing or security). As
 * Go's flag package does, a flag may be spelled with one dash, repeated (the last wins), and a
 * boolean takes its value only after {@code =} ({@code true}, {@code false}, {@code 1}, {@code 0},
 * {@code t}, {@code f}).
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        addMethodSubcommands = false, // none; looking for them reflects over every method at each start
        abbreviateSynopsis = true, // ingress-nginx's ~80 flags would fill a screen before the description
        usageHelpAutoWidth = true,
        description = {
            "Kubernetes ingress controller on Netty: a drop-in replacement for ingress-nginx.",
            "Modes: --demo (seed tutorial on in-process backends), --manifests PATH (files, no cluster),"
                    + " otherwise cluster mode (watches the Kubernetes API).",
            "'sluice explain --manifests DIR URL' explains how one request is routed."
        })
public final class Main implements Callable<Integer> {
    /** Fetched when first needed: logging's set-up should not hold up {@link #main} (see there). */
    private static Logger log() {
        return LoggerFactory.getLogger(Main.class);
    }

    /** Flags that mean nothing without a cluster. */
    private static final List<String> CLUSTER_ONLY = List.of("--kubeconfig", "--watch-namespace",
            "--publish-status-address", "--publish-service", "--election-id", "--update-status-on-shutdown",
            "--update-status", "--sync-period");

    /** The help line every usage error ends with, instead of the whole usage text. */
    static final String SEE_HELP = "Run 'sluice --help' for the flags.";

    /** How ingress-nginx's image starts its controller: the first of its Deployment's container args. */
    private static final String INGRESS_NGINX_BINARY = "nginx-ingress-controller";

    @Spec
    private CommandSpec spec;

    /** Warnings about ignored flags, found by {@link #options()}; logged by {@link #call()}. */
    private final List<String> warnings = new ArrayList<>();

    @Parameters(index = "0", arity = "0..1", hidden = true, paramLabel = "/nginx-ingress-controller",
            description = "ingress-nginx's binary path, the first of its container args; ignored with a warning.")
    private String ingressNginxBinary;

    @Option(names = "--http-port", defaultValue = "31234", paramLabel = "PORT",
            description = "HTTP port (default: ${DEFAULT-VALUE}; 0 = a free port, logged).")
    private int httpPort;

    @Option(names = "--https-port", defaultValue = "31235", paramLabel = "PORT",
            description = "HTTPS port (default: ${DEFAULT-VALUE}; 0 = a free port, logged).")
    private int httpsPort;

    @Option(names = "--healthz-port", defaultValue = "10254", paramLabel = "PORT",
            description = "Admin port for /healthz /readyz /metrics /routes (default: ${DEFAULT-VALUE}; 0 = a free port, logged).")
    private int healthzPort;

    @Option(names = "--bind-address", paramLabel = "IP",
            description = "Address the HTTP, HTTPS and admin ports listen on (default: all interfaces).")
    private String bindAddress;

    @Option(names = "--event-loops", paramLabel = "N",
            description = "Netty event-loop threads of the proxy (default: available processors).")
    private Integer eventLoops;

    @Option(names = "--manifests", paramLabel = "PATH", split = ",",
            description = "Manifest mode: read Kubernetes objects from these files or directories"
                    + " (*.yaml, *.yml, *.json, recursively; watched for changes) instead of a cluster. Repeatable.")
    private List<Path> manifests = new ArrayList<>();

    @Option(names = "--demo", arity = "0..1", fallbackValue = "true", defaultValue = "false", paramLabel = "true|false",
            description = "Serve the seed tutorial (deploy/examples) on in-process demo backends and print curl commands.")
    private boolean demo;

    @Option(names = "--ingress-class", defaultValue = TranslatorConfig.DEFAULT_INGRESS_CLASS, paramLabel = "NAME",
            description = "Value of the kubernetes.io/ingress.class annotation this controller serves (default: ${DEFAULT-VALUE}).")
    private String ingressClass;

    @Option(names = "--controller-class", defaultValue = TranslatorConfig.DEFAULT_CONTROLLER_CLASS, paramLabel = "NAME",
            description = "spec.controller of the IngressClasses this controller serves (default: ${DEFAULT-VALUE}).")
    private String controllerClass;

    @Option(names = "--watch-ingress-without-class", arity = "0..1", fallbackValue = "true", defaultValue = "false", paramLabel = "true|false",
            description = "Also serve Ingresses with neither ingressClassName nor the class annotation (default: ${DEFAULT-VALUE}).")
    private boolean watchIngressWithoutClass;

    @Option(names = "--default-backend-service", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "Service (first port) that answers requests no rule matches, instead of the built-in 404.")
    private String defaultBackendService;

    @Option(names = "--default-ssl-certificate", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "TLS Secret (kubernetes.io/tls) served for unknown or missing SNI names and for hosts whose "
                    + "Secret is missing or invalid, instead of the generated fake certificate.")
    private String defaultSslCertificate;

    @Option(names = "--annotations-prefix", defaultValue = TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX, paramLabel = "PREFIX",
            description = "Prefix of the Ingress annotations (default: ${DEFAULT-VALUE}).")
    private String annotationsPrefix;

    @Option(names = "--access-log", defaultValue = "stdout", paramLabel = "stdout|off|FILE",
            description = "Access log, one JSON object per request and line: stdout, off, or a file to append to (default: ${DEFAULT-VALUE}).")
    private String accessLog;

    @Option(names = "--shutdown-grace-period", defaultValue = "10s", paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "After SIGTERM: /readyz answers 503 at once while the listeners go on accepting and serving"
                    + " normally for this long, so load balancers can stop sending before they close"
                    + " (500ms, 30s, 5m; a bare number is seconds; default: ${DEFAULT-VALUE}).")
    private Duration shutdownGracePeriod;

    @Option(names = "--shutdown-timeout", defaultValue = "300s", paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Sluice's own (ingress-nginx's worker-shutdown-timeout): once the listeners are closed,"
                    + " requests, streams and WebSockets in flight get up to this long to finish before the"
                    + " process exits (default: ${DEFAULT-VALUE}).")
    private Duration shutdownTimeout;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Cluster mode: kubeconfig file (default: in-cluster service account, KUBECONFIG, ~/.kube/config).")
    private Path kubeconfig;

    @Option(names = "--watch-namespace", paramLabel = "NAMESPACE",
            description = "Cluster mode: watch only this namespace (default: all namespaces).")
    private String watchNamespace;

    @Option(names = "--publish-status-address", paramLabel = "ADDRESSES",
            description = "Cluster mode: address(es, comma separated) written to the status of served Ingresses.")
    private String publishStatusAddress;

    @Option(names = "--publish-service", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "Cluster mode: Service whose addresses are written to the status of served Ingresses.")
    private String publishService;

    @Option(names = "--election-id", defaultValue = StatusConfig.DEFAULT_ELECTION_ID, paramLabel = "NAME",
            description = "Cluster mode: name of the leader-election Lease in the Pod's namespace (default: ${DEFAULT-VALUE}).")
    private String electionId;

    @Option(names = "--update-status", arity = "0..1", fallbackValue = "true", defaultValue = "true", paramLabel = "true|false",
            description = "Cluster mode: write the load balancer addresses into the status of served Ingresses; false leaves"
                    + " Ingress status alone (another controller or tool owns it) (default: ${DEFAULT-VALUE}).")
    private boolean updateStatus;

    @Option(names = "--sync-period", defaultValue = "0s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Cluster mode: also rebuild the route table from the informer caches this often, changed or"
                    + " not, as ingress-nginx's informer resync does (0 = only on changes; default: 0).")
    private Duration syncPeriod;

    @Option(names = "--update-status-on-shutdown", arity = "0..1", fallbackValue = "true", defaultValue = "true", paramLabel = "true|false",
            description = "Cluster mode: clear the Ingress status addresses when the leader shuts down (default: ${DEFAULT-VALUE}).")
    private boolean updateStatusOnShutdown;

    @Option(names = "--enable-proxy-protocol", arity = "0..1", fallbackValue = "true", defaultValue = "false", paramLabel = "true|false",
            description = "Every connection on the HTTP and HTTPS ports must start with a PROXY protocol header (v1 or v2,"
                    + " before TLS); its source address is the client. Connections without one are closed (default: ${DEFAULT-VALUE}).")
    private boolean enableProxyProtocol;

    @Option(names = "--enable-h2c", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false",
            description = "Sluice's own: the HTTP port also serves HTTP/2 in clear with prior knowledge (h2c; gRPC clients"
                    + " with usePlaintext). ingress-nginx has none (default: ${DEFAULT-VALUE}).")
    private boolean enableH2c;

    @Option(names = "--transport", defaultValue = "auto", paramLabel = "auto|io_uring|epoll|nio",
            description = "Sluice's own: the socket implementation. auto takes the first that works here:"
                    + " io_uring, then epoll (Linux), then nio (default: ${DEFAULT-VALUE}).")
    private String transport;

    @Option(names = "--max-connections", defaultValue = "0", paramLabel = "N",
            description = "Sluice's own: client connections (HTTP and HTTPS together) over N are closed as they are"
                    + " accepted; 0 = no cap (default: ${DEFAULT-VALUE}).")
    private int maxConnections;

    @Option(names = "--max-connections-per-address", defaultValue = "0", paramLabel = "N",
            description = "Sluice's own: connections from one client address over N are closed as they are accepted"
                    + " (the TCP peer, not a PROXY protocol source); 0 = no cap (default: ${DEFAULT-VALUE}).")
    private int maxConnectionsPerAddress;

    @Option(names = "--enable-ssl-passthrough", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false",
            description = "Hosts whose Ingress has ssl-passthrough: \"true\" get their TLS connections on the HTTPS port piped,"
                    + " unterminated, to the backend of their / path (chosen by the ClientHello's SNI name)"
                    + " (default: ${DEFAULT-VALUE}).")
    private boolean enableSslPassthrough;

    @Option(names = "--disable-svc-external-name", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false",
            description = "Do not proxy to ExternalName Services: their paths answer 503 and a problem is reported"
                    + " (default: ${DEFAULT-VALUE}).")
    private boolean disableSvcExternalName;

    @Option(names = "--configmap", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "ingress-nginx's global ConfigMap (use-forwarded-headers, timeouts, hsts, …), read from the"
                    + " cluster or the manifests and applied live; see docs/configuration.md for the keys.")
    private String configMap;

    @Option(names = "--tcp-services-configmap", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "ConfigMap of TCP services: entries \"<port>\": \"<namespace>/<service>:<port>[:PROXY][:PROXY]\";"
                    + " Sluice listens on each port and relays to the Service's endpoints (watched in both modes).")
    private String tcpServicesConfigMap;

    @Option(names = "--udp-services-configmap", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "ConfigMap of UDP services: entries \"<port>\": \"<namespace>/<service>:<port>\";"
                    + " Sluice relays each port's datagrams to the Service's endpoints (watched in both modes).")
    private String udpServicesConfigMap;

    @Option(names = "--validating-webhook", paramLabel = "[HOST]:PORT",
            description = "Serve the validating admission webhook for Ingresses (AdmissionReview v1 at"
                    + " /networking/v1/ingresses, HTTPS) on this address, e.g. :8443; needs"
                    + " --validating-webhook-certificate and --validating-webhook-key (0 = a free port, logged).")
    private String validatingWebhook;

    @Option(names = "--validating-webhook-certificate", paramLabel = "FILE",
            description = "PEM certificate (chain) of the admission webhook's HTTPS server.")
    private Path validatingWebhookCertificate;

    @Option(names = "--validating-webhook-key", paramLabel = "FILE",
            description = "PEM private key (PKCS#8 or PKCS#1) of the admission webhook's HTTPS server.")
    private Path validatingWebhookKey;

    @CommandLine.Mixin
    private MetricsFlags metricsFlags = new MetricsFlags();

    /** Runs the command and exits with its code (see the class comment). */
    public static void main(String[] args) {
        // Netty's leak detector records a stack trace for 1 in 128 buffers: about 2% of the event
        // loop's CPU in the benchmark (loadtest/bench.sh). The process runs without it unless asked
        // for (-Dio.netty.leakDetection.level=simple); the test suite keeps it on. Set before any
        // Netty buffer class is loaded, which reads it once.
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        // Netty 4.2's buffer allocator registers its JFR event types with the flight recorder the
        // first time it allocates a chunk, which costs some 0.1 s of start-up CPU, and checks per
        // allocation whether a recording wants them. Off unless asked for (-Dio.netty.jfr.enabled=true
        // to record Netty's buffer events); JFR itself (-XX:StartFlightRecording) works either way.
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        // Netty's native transport is loaded on another core while the flags are parsed
        if (mayServe(args)) {
            NettyWarmUp.startInBackground();
        }
        CommandLine cmd = commandLine(new Main(), mayNameSubcommand(args));
        int code = cmd.execute(goStyle(cmd.getCommandSpec(), args));
        System.exit(code);
    }

    /**
     * Parses and validates {@code args} into options without running anything.
     *
     * @throws ParameterException when a flag is unknown or its value is invalid
     */
    public static SluiceOptions parse(String... args) {
        return parsed(args).options();
    }

    /**
     * Parses and validates {@code args}, for the warnings as well as the options.
     *
     * @throws ParameterException when a flag is unknown, refused or its value is invalid
     */
    static Main parsed(String... args) {
        Main main = new Main();
        CommandLine cmd = commandLine(main);
        cmd.parseArgs(goStyle(cmd.getCommandSpec(), args));
        main.options();
        return main;
    }

    static CommandLine commandLine(Main main) {
        return commandLine(main, true);
    }

    /**
     * The command line, with the {@code explain} subcommand or without it: the server's own flags
     * never need it, and modelling it is some 40 ms of start-up CPU (reflection over its options).
     */
    private static CommandLine commandLine(Main main, boolean withSubcommands) {
        CommandLine cmd = new CommandLine(main);
        if (withSubcommands) {
            cmd.addSubcommand(new ExplainCommand()); // before the settings below, which apply to the subcommands present
        }
        cmd
                .setCaseInsensitiveEnumValuesAllowed(true)
                // Go's flag package lets a later copy of a flag win; manifests often append overrides
                .setOverwrittenOptionsAllowed(true)
                .registerConverter(Boolean.class, IngressNginxFlags::goBool)
                .registerConverter(Boolean.TYPE, IngressNginxFlags::goBool)
                .setParameterExceptionHandler((e, args) -> {
                    // one line saying what is wrong, one where to look: the usage text would bury the message
                    e.getCommandLine().getErr().println(e.getMessage());
                    e.getCommandLine().getErr().println(SEE_HELP);
                    return 2;
                });
        IngressNginxFlags.addTo(cmd.getCommandSpec());
        return cmd;
    }

    /** Whether {@code args} may start the server: not a subcommand, not help or the version. */
    private static boolean mayServe(String... args) {
        return !mayNameSubcommand(args);
    }

    /** Whether {@code args} may run a subcommand or show help that lists them: a first word that is not a flag, or help. */
    private static boolean mayNameSubcommand(String... args) {
        if (args.length > 0 && !args[0].startsWith("-")) {
            return true;
        }
        return anyFlag(args, "h", "help", "V", "version");
    }

    /**
     * Whether {@code args} has one of the flags {@code names}, with one dash or two, with or without
     * {@code =value}. Plain string tests: the first line of {@code main} is no place to compile regexes.
     */
    private static boolean anyFlag(String[] args, String... names) {
        for (String a : args) {
            String flag = a.startsWith("--") ? a.substring(2) : a.startsWith("-") ? a.substring(1) : null;
            if (flag != null) {
                int eq = flag.indexOf('=');
                String name = eq < 0 ? flag : flag.substring(0, eq);
                for (String n : names) {
                    if (n.equals(name)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Go's flag package takes {@code -flag} as well as {@code --flag}; picocli takes single-dash
     * names only for the options that declare them. A single-dash spelling of a long flag of
     * {@code spec} becomes the double-dash one; everything else (short options such as {@code -h}
     * or klog's {@code -v2}, values, unknown names) is left for picocli to accept or reject.
     */
    static String[] goStyle(CommandSpec spec, String... args) {
        String[] out = args.clone();
        for (int i = 0; i < out.length; i++) {
            String a = out[i];
            if (a.equals("--")) {
                break; // Go stops parsing flags here too
            }
            if (a.length() > 2 && a.charAt(0) == '-' && a.charAt(1) != '-' && Character.isLetter(a.charAt(1))) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a.substring(1) : a.substring(1, eq);
                if (name.length() > 1 && spec.findOption("--" + name) != null) {
                    out[i] = "-" + a;
                }
            }
        }
        return out;
    }

    /** One line per ignored ingress-nginx flag (or binary path) given; valid after {@link #options()}. */
    List<String> warnings() {
        return List.copyOf(warnings);
    }

    @Override
    public Integer call() {
        SluiceOptions options = options();
        warnings.forEach(log()::warn);
        if (options.mode() != SluiceOptions.Mode.CLUSTER) {
            for (String flag : CLUSTER_ONLY) {
                if (spec.commandLine().getParseResult().hasMatchedOption(flag)) {
                    log().warn("{} only applies in cluster mode; ignored with --manifests / --demo", flag);
                }
            }
        }
        SluiceApp app = new SluiceApp(options);
        try {
            app.start();
        } catch (SluiceApp.StartupException e) {
            log().error("{}", e.getMessage());
            app.close();
            return 1;
        } catch (RuntimeException e) {
            log().error("cannot start", e);
            app.close();
            return 1;
        }
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopGracefully(app, options.shutdownGracePeriod(),
                options.shutdownTimeout()),
                "sluice-shutdown"));
        try {
            forever.await(); // the shutdown hook ends the process
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static void stopGracefully(SluiceApp app, Duration grace, Duration timeout) {
        log().info("shutting down: /readyz answers 503; serving for {} more, then closing the listeners and giving"
                + " requests in flight up to {} to finish", text(grace), text(timeout));
        try {
            app.shutdown(grace, timeout);
            log().info("stopped");
        } catch (RuntimeException e) {
            log().error("error while shutting down", e);
        }
        // A signal makes the JVM exit with 128+signal; a graceful stop is a success, as in
        // ingress-nginx. Nothing else in this process calls System.exit once running.
        Runtime.getRuntime().halt(0);
    }

    private static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /** The validated options; throws {@link ParameterException} (exit code 2) for bad values. */
    SluiceOptions options() {
        checkPort("--http-port", httpPort);
        checkPort("--https-port", httpsPort);
        checkPort("--healthz-port", healthzPort);
        int loops = eventLoops == null ? Runtime.getRuntime().availableProcessors() : eventLoops;
        if (loops < 1) {
            throw usage("--event-loops must be at least 1, not " + loops);
        }
        if (bindAddress != null) {
            try {
                InetAddress.getByName(bindAddress);
            } catch (UnknownHostException e) {
                throw usage("--bind-address: unknown address '" + bindAddress + "'");
            }
        }
        for (Path p : manifests) {
            if (!Files.exists(p)) {
                throw usage("--manifests: " + p + " does not exist");
            }
        }
        String accessLogValue = accessLog.trim();
        if (accessLogValue.isEmpty()) {
            throw usage("--access-log must be stdout, off or a file path");
        }
        if (!accessLogValue.equals("stdout") && !accessLogValue.equals("off")) {
            Path file = Path.of(accessLogValue).toAbsolutePath();
            if (Files.isDirectory(file) || !Files.isDirectory(file.getParent())) {
                throw usage("--access-log: cannot write to " + accessLogValue + " (a file in an existing directory, stdout or off)");
            }
        }
        if (shutdownGracePeriod.isNegative()) {
            throw usage("--shutdown-grace-period must not be negative");
        }
        try {
            GatewayServer.builder().transport(transport); // unknown, or not available on this machine
        } catch (IllegalArgumentException e) {
            throw usage("--transport: " + e.getMessage());
        }
        if (maxConnections < 0 || maxConnectionsPerAddress < 0) {
            throw usage("--max-connections / --max-connections-per-address must not be negative");
        }
        if (shutdownTimeout.isNegative()) {
            throw usage("--shutdown-timeout must not be negative");
        }
        warnings.clear();
        if (ingressNginxBinary != null) {
            if (!ingressNginxBinary.equals(INGRESS_NGINX_BINARY) && !ingressNginxBinary.endsWith("/" + INGRESS_NGINX_BINARY)) {
                throw usage("unexpected argument '" + ingressNginxBinary + "' (Sluice takes flags only)");
            }
            warnings.add(ingressNginxBinary + " (ingress-nginx's binary, the first of its container args) is ignored");
        }
        MetricsConfig metrics;
        try {
            warnings.addAll(IngressNginxFlags.check(givenCompatibilityFlags()));
            metrics = metricsFlags.config(controllerClass);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        AdmissionWebhookConfig webhook = webhookConfig();
        return new SluiceOptions(emptyToNull(bindAddress), httpPort, httpsPort, healthzPort, loops, manifests, demo,
                ingressClass, controllerClass, watchIngressWithoutClass, defaultBackendService, annotationsPrefix,
                accessLogValue, shutdownGracePeriod, shutdownTimeout, kubeconfig, emptyToNull(watchNamespace), emptyToNull(publishStatusAddress),
                publishService, electionId, updateStatusOnShutdown, configMap, defaultSslCertificate, enableProxyProtocol,
                enableSslPassthrough, enableH2c, transport, tcpServicesConfigMap, udpServicesConfigMap, metrics,
                disableSvcExternalName, webhook, updateStatus, syncPeriod, maxConnections, maxConnectionsPerAddress);
    }

    /**
     * {@code --validating-webhook} and its certificate and key, or {@code null} without the flag.
     * The files are read when the server starts (they are often mounted from a Secret).
     */
    private AdmissionWebhookConfig webhookConfig() {
        String address = emptyToNull(validatingWebhook);
        if (address == null) {
            if (validatingWebhookCertificate != null || validatingWebhookKey != null) {
                throw usage("--validating-webhook-certificate / --validating-webhook-key need --validating-webhook");
            }
            return null;
        }
        if (validatingWebhookCertificate == null || validatingWebhookKey == null) {
            throw usage("--validating-webhook needs --validating-webhook-certificate and --validating-webhook-key"
                    + " (the API server only calls webhooks over HTTPS)");
        }
        try {
            return AdmissionWebhookConfig.parse(address, validatingWebhookCertificate, validatingWebhookKey);
        } catch (IllegalArgumentException e) {
            throw usage("--validating-webhook: " + e.getMessage());
        }
    }

    /** The catalogued ingress-nginx flags on the command line, in the order given, each once. */
    private List<IngressNginxFlags.Given> givenCompatibilityFlags() {
        List<IngressNginxFlags.Given> given = new ArrayList<>();
        CommandLine.ParseResult result = spec.commandLine().getParseResult();
        if (result == null) {
            return given;
        }
        // matchedOptions() lists an option once per occurrence; one warning per flag is enough
        for (OptionSpec option : new java.util.LinkedHashSet<>(result.matchedOptions())) {
            // an option Main declares itself is implemented, even when the catalog still lists it
            if (IngressNginxFlags.isCatalogued(option)) {
                given.add(new IngressNginxFlags.Given(IngressNginxFlags.find(option.longestName()), option.getValue()));
            }
        }
        return given;
    }

    private void checkPort(String flag, int port) {
        if (port < 0 || port > 65535) {
            throw usage(flag + " must be 0..65535, not " + port);
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** {@code --version}: the jar's Implementation-Version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sluice " + (v == null ? "(development build)" : v)};
        }
    }
}
