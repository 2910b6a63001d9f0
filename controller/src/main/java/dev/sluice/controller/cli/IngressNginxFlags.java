package dev.sluice.controller.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The flags of ingress-nginx's controller (v1.15.1: {@code pkg/flags/flags.go}, plus the klog
 * flags its {@code main} registers) that Sluice does <em>not</em> implement, and what it does with
 * each: accept it with a one-line warning, or refuse to start when its value would change what is
 * served or who can reach it. The flags Sluice implements are {@link Main}'s own options.
 *
 * <p>Why a catalog and not annotated fields: the ignored flags only need a name, a kind and a
 * reason, and keeping them in one table makes the decisions reviewable next to
 * {@code docs/compatibility.md}. When Sluice starts implementing one of them as a real
 * {@code @Option} of {@link Main}, the catalog entry is skipped automatically
 * ({@link #addTo}), so the two can never clash.
 */
final class IngressNginxFlags {

    /** What Sluice does with a flag it does not implement. */
    enum Handling {
        /** Accepted whatever its value; a warning at start-up says it is ignored. */
        IGNORED,
        /**
         * Accepted while its value means what Sluice does anyway (ingress-nginx's default);
         * any other value stops start-up, because ignoring it would change routing or security.
         */
        REFUSED
    }

    /**
     * One flag.
     *
     * @param name     without the leading dashes, as ingress-nginx spells it
     * @param bool     a Go boolean flag: the value is optional ({@code --flag} means true)
     * @param handling ignored or refused
     * @param reason   why, in a few words (shown in {@code --help} and in the message)
     * @param harmless for {@link Handling#REFUSED}: the values Sluice honours by doing what it does;
     *                 {@code null} for ignored flags
     */
    record Flag(String name, boolean bool, Handling handling, String reason, Predicate<String> harmless) {
        String option() {
            return "--" + name;
        }
    }

    static final String IGNORED_HEADING = "%nAccepted for ingress-nginx compatibility and ignored"
            + " (a warning at start-up names each one given):%n";
    static final String REFUSED_HEADING = "%nAccepted for ingress-nginx compatibility only with their default value"
            + " (any other value stops start-up, because ignoring it would change routing or security):%n";

    private static final List<Flag> FLAGS = List.of(
            // --- refused: ignoring a non-default value would change what is served or who sees it
            refusedUnlessEmpty("apiserver-host",
                    "Sluice would watch the cluster of its kubeconfig / service account instead; use --kubeconfig"),
            refusedUnlessEmpty("watch-namespace-selector",
                    "Sluice would serve Ingresses of every namespace; use --watch-namespace"),
            refusedUnlessFalse("ingress-class-by-name",
                    "IngressClasses are matched by spec.controller only; the class name is not matched"),
            refusedUnlessFalse("disable-catch-all",
                    "Sluice serves catch-all Ingresses (spec.defaultBackend) and cannot turn that off"),
            refusedUnlessFalse("report-node-internal-ip-address",
                    "Sluice writes the nodes' ExternalIP (else InternalIP) into Ingress status; use --publish-status-address"),
            new Flag("healthz-host", false, Handling.REFUSED,
                    "the admin port (/metrics, /routes) listens on --bind-address, by default every interface;"
                            + " use --bind-address",
                    v -> v.isEmpty() || v.equals("0.0.0.0") || v.equals("::")),

            // --- ignored: Sluice works differently; what it does instead is safe
            ignored("certificate-authority", false, "only used with --apiserver-host, which Sluice does not take"),
            ignored("sync-rate-limit", false, "Sluice coalesces bursts of changes itself"),
            ignored("profiling", true, "no Go profiler"),
            ignored("profiler-port", false, "no Go profiler"),
            ignored("profiler-address", false, "no Go profiler"),
            ignored("health-check-path", false, "the admin port always answers /healthz and /readyz"),
            ignored("health-check-timeout", false, "the health check has no internal NGINX probe to time out"),
            ignored("election-ttl", false, "Sluice uses ingress-nginx's default lease timings"),
            ignored("disable-leader-election", true, "Sluice elects one replica to write Ingress status"),
            ignored("enable-annotation-validation", true, "Sluice always checks annotation values and reports bad ones"),
            ignored("deep-inspect", true, "no NGINX configuration to inject into; snippets are never applied"),
            ignored("enable-ssl-chain-completion", true,
                    "Secrets are served as given; put the intermediate certificates into tls.crt"),
            ignored("enable-topology-aware-routing", true, "every ready endpoint of the Service gets traffic"),
            ignored("metrics-per-undefined-host", true, "metrics carry the host label as ingress-nginx's default does"),
            ignored("bucket-factor", false, "no native histograms"),
            ignored("max-buckets", false, "no native histograms"),
            ignored("monitor-max-batch-size", false, "metrics come from the proxy itself, not from an NGINX socket"),
            ignored("ssl-passthrough-proxy-port", false, "SSL passthrough happens on the HTTPS port itself"),
            ignored("default-server-port", false, "no internal NGINX default server"),
            ignored("status-port", false, "no internal NGINX Lua endpoint"),
            ignored("stream-port", false, "no internal NGINX Lua endpoint"),
            ignored("internal-logger-address", false, "no internal NGINX syslog"),
            ignored("status-update-interval", false, "Sluice re-checks Ingress status every 60 s, ingress-nginx's default"),
            ignored("post-shutdown-grace-period", false, "no NGINX process to wait for; see --shutdown-grace-period"),
            ignored("dynamic-configuration-retries", false, "no NGINX to configure"),
            ignored("disable-sync-events", true, "Sluice emits Events only for problems, never 'Sync' Events"),
            ignored("disable-full-test", true, "the admission webhook always checks the new Ingress against all"
                    + " the others with the translator itself; there is no nginx -t to skip"),
            ignored("maxmind-mirror", false, "no GeoIP databases"),
            ignored("maxmind-license-key", false, "no GeoIP databases"),
            ignored("maxmind-edition-ids", false, "no GeoIP databases"),
            ignored("maxmind-retries-count", false, "no GeoIP databases"),
            ignored("maxmind-retries-timeout", false, "no GeoIP databases"),
            // klog's flags (klog.InitFlags in ingress-nginx's main): Sluice logs through Logback
            ignored("v", false, "Sluice logs through Logback (logback.xml), not klog"),
            ignored("vmodule", false, "Sluice logs through Logback, not klog"),
            ignored("logtostderr", true, "Sluice logs to stderr through Logback, not klog"),
            ignored("alsologtostderr", true, "Sluice logs to stderr through Logback, not klog"),
            ignored("stderrthreshold", false, "Sluice logs to stderr through Logback, not klog"),
            ignored("log_dir", false, "Sluice logs to stderr through Logback, not klog"),
            ignored("log_file", false, "Sluice logs to stderr through Logback, not klog"),
            ignored("log_file_max_size", false, "Sluice logs to stderr through Logback, not klog"),
            ignored("log_backtrace_at", false, "Sluice logs through Logback, not klog"),
            ignored("add_dir_header", true, "Sluice logs through Logback, not klog"),
            ignored("skip_headers", true, "Sluice logs through Logback, not klog"),
            ignored("skip_log_headers", true, "Sluice logs through Logback, not klog"),
            ignored("one_output", true, "Sluice logs through Logback, not klog"));

    private IngressNginxFlags() {
    }

    /** Every catalogued flag, refused ones first. */
    static List<Flag> all() {
        return FLAGS;
    }

    /**
     * Adds the catalogued flags that {@code spec} does not already define as options, in two
     * usage-help groups (ignored, refused) that picocli prints after the ungrouped Sluice options.
     */
    static void addTo(CommandSpec spec) {
        ArgGroupSpec.Builder ignored = ArgGroupSpec.builder().exclusive(false).multiplicity("0..1")
                .validate(false).heading(IGNORED_HEADING);
        ArgGroupSpec.Builder refused = ArgGroupSpec.builder().exclusive(false).multiplicity("0..1")
                .validate(false).heading(REFUSED_HEADING);
        // findOption interpolates every option's names at each call: ~80 × ~60 of them, a few
        // hundredths of a second of start-up; the names map is built as options are added
        Set<String> defined = spec.optionsMap().keySet();
        for (Flag f : FLAGS) {
            if (defined.contains(f.option())) {
                continue; // implemented by Main meanwhile
            }
            OptionSpec.Builder option = OptionSpec.builder(f.option())
                    .type(String.class)
                    .description(f.reason());
            if (f.name().equals("v")) {
                // pflag gives every one-letter Go flag the same shorthand: -v=2 works in ingress-nginx
                option.names("--v", "-v");
            }
            if (f.bool()) {
                // a Go boolean: --flag alone is true, a value only after '=' (as Go's flag package)
                option.arity("0..1").fallbackValue("true").paramLabel("true|false");
            } else {
                option.arity("1").paramLabel("VALUE");
            }
            (f.handling() == Handling.REFUSED ? refused : ignored).addArg(option.build());
        }
        if (!refused.args().isEmpty()) {
            spec.addArgGroup(refused.build());
        }
        if (!ignored.args().isEmpty()) {
            spec.addArgGroup(ignored.build());
        }
    }

    /**
     * What the given catalogued flags mean for start-up: the warnings to log, or the first
     * refusal as a one-line message (Main turns it into a usage error, exit code 2).
     *
     * @param given the flags given on the command line (an option of {@code spec}, matched),
     *              with their raw value ({@code "true"} for a bare boolean)
     * @return one warning line per ignored flag given
     * @throws IllegalArgumentException with a one-line message for a refused value or a boolean
     *                                  Go would not parse
     */
    static List<String> check(List<Given> given) {
        List<String> warnings = new ArrayList<>();
        for (Given g : given) {
            Flag f = g.flag();
            String value = g.value() == null ? "" : g.value().trim();
            if (f.bool()) {
                goBool(value.isEmpty() ? "true" : value); // a value Go's flag package would reject fails here too
            }
            if (f.handling() == Handling.REFUSED) {
                if (!f.harmless().test(value)) {
                    // the value is printed back (none of the refused flags holds a secret) so that the
                    // operator sees which of several copies of the flag was taken: the last, as in Go
                    throw new IllegalArgumentException(f.option() + "=" + value + " is not supported by Sluice: "
                            + f.reason() + " (see docs/compatibility.md)");
                }
            } else {
                // the value is left out on purpose: --maxmind-license-key is a secret
                warnings.add(f.option() + " is an ingress-nginx flag Sluice ignores: " + f.reason());
            }
        }
        return warnings;
    }

    /** A catalogued flag as given on the command line. */
    record Given(Flag flag, String value) {
    }

    /** Whether {@code option} is one that {@link #addTo} added (and not an option of Main's own). */
    static boolean isCatalogued(OptionSpec option) {
        return option.group() != null
                && (IGNORED_HEADING.equals(option.group().heading()) || REFUSED_HEADING.equals(option.group().heading()));
    }

    /** The catalog entry for an option name such as {@code --profiling} or {@code -v}, or {@code null}. */
    static Flag find(String optionName) {
        String name = optionName.replaceFirst("^--?", "");
        for (Flag f : FLAGS) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    /**
     * Go's {@code strconv.ParseBool}, which Go's flag package uses for boolean flags.
     *
     * @throws IllegalArgumentException for anything else
     */
    static boolean goBool(String s) {
        return switch (s) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw new IllegalArgumentException("invalid boolean value '" + s
                    + "' (true, false, 1, 0, t, f)");
        };
    }

    private static Flag ignored(String name, boolean bool, String reason) {
        return new Flag(name, bool, Handling.IGNORED, reason, null);
    }

    private static Flag refusedUnlessFalse(String name, String reason) {
        return new Flag(name, true, Handling.REFUSED, reason, v -> !goBool(v.isEmpty() ? "true" : v));
    }

    private static Flag refusedUnlessEmpty(String name, String reason) {
        return new Flag(name, false, Handling.REFUSED, reason, String::isEmpty);
    }
}
