package dev.sluice.controller.admission;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.Translation;
import dev.sluice.controller.translate.TranslatorConfig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether an Ingress may be written: the real translator runs over the current objects
 * with the new Ingress in place of its old version, exactly as the next sync would, and the
 * Ingress is rejected when that run reports a problem with it (invalid regex, conflicting canary,
 * missing auth Secret, snippet annotation, a host/path another Ingress already owns, …) or when it
 * would give another Ingress a problem it does not have now (taking over a path). Problems other
 * objects already have do not count, and neither do the ones that only wait for a referenced
 * Service or TLS Secret to appear ({@link Translation#awaitingObjects()}): those become warnings,
 * which {@code kubectl} prints. Ingresses of classes this controller does not serve are allowed
 * unchecked. Nothing is rendered or executed, unlike ingress-nginx's {@code nginx -t}.
 *
 * <p>Used from one thread (the webhook server's event loop): the translator keeps parsed TLS
 * Secrets between reviews.
 */
public final class IngressReviewer {
    private final TranslatorConfig config;
    private final IngressTranslator translator;

    public IngressReviewer(TranslatorConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.translator = new IngressTranslator(config);
    }

    /**
     * The verdict on one Ingress write.
     *
     * @param allowed  whether the write may proceed
     * @param reasons  why not (empty when allowed)
     * @param warnings problems that do not block the write
     */
    public record Verdict(boolean allowed, List<String> reasons, List<String> warnings) {
        public Verdict {
            reasons = List.copyOf(reasons);
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Reviews a create or update of {@code candidate}.
     *
     * @param candidate        the Ingress as it would be stored
     * @param requestNamespace the request's namespace (a create may leave the object's empty)
     * @param state            the objects as they are now
     * @param now              the time of the review (certificate validity; the creation time of
     *                         a new Ingress, which makes it the newest)
     */
    public Verdict review(Ingress candidate, String requestNamespace, ClusterState state, Instant now) {
        Ingress ingress = normalised(candidate, requestNamespace, now);
        String ns = ingress.getMetadata().getNamespace();
        String name = ingress.getMetadata().getName();
        IngressClassFilter filter = new IngressClassFilter(config, state.ingressClasses());
        if (!filter.accepts(ingress)) {
            return new Verdict(true, List.of(), List.of());
        }
        List<Ingress> others = state.ingresses().stream()
                .filter(i -> !(ns.equals(i.getMetadata().getNamespace()) && name.equals(i.getMetadata().getName())))
                .toList();
        List<Ingress> withCandidate = new ArrayList<>(others);
        withCandidate.add(ingress);
        Translation before = translator.translate(state, now);
        Translation after = translator.translate(new ClusterState(withCandidate, state.ingressClasses(),
                state.services(), state.endpointSlices(), state.endpoints(), state.secrets(), state.configMaps()), now);

        Set<Problem> existing = new LinkedHashSet<>(before.problems());
        Set<Problem> awaiting = new LinkedHashSet<>(after.awaitingObjects());
        List<String> reasons = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (Problem p : after.problems()) {
            boolean own = p.kind().equals("Ingress") && p.namespace().equals(ns) && p.name().equals(name);
            if (own) {
                (awaiting.contains(p) ? warnings : reasons).add(p.message());
            } else if (p.kind().equals("Ingress") && !existing.contains(p) && !awaiting.contains(p)) {
                reasons.add("would break Ingress " + p.namespace() + "/" + p.name() + ": " + p.message());
            }
        }
        return new Verdict(reasons.isEmpty(), reasons, warnings);
    }

    /** The namespace filled in from the request, and a creation time for a new Ingress. */
    private static Ingress normalised(Ingress candidate, String requestNamespace, Instant now) {
        var meta = candidate.getMetadata() == null ? new ObjectMetaBuilder().build() : candidate.getMetadata();
        String ns = meta.getNamespace() != null && !meta.getNamespace().isEmpty() ? meta.getNamespace()
                : requestNamespace != null && !requestNamespace.isEmpty() ? requestNamespace : "default";
        String name = meta.getName() != null && !meta.getName().isEmpty() ? meta.getName()
                : meta.getGenerateName() != null ? meta.getGenerateName() : "";
        String created = meta.getCreationTimestamp() != null ? meta.getCreationTimestamp()
                : now.truncatedTo(ChronoUnit.SECONDS).toString();
        return new IngressBuilder(candidate).editOrNewMetadata().withNamespace(ns).withName(name)
                .withCreationTimestamp(created).endMetadata().build();
    }
}
