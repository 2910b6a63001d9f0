package dev.sluice.controller.translate;

import dev.sluice.gateway.route.RouteTable;
import java.util.List;
import java.util.Objects;

/**
 * The result of one translation: the table to serve, the problems met while building it, and
 * notes. The translator logs nothing itself; the sync loop logs problems as warnings and notes at
 * debug level.
 *
 * @param table    the routing table
 * @param problems what is wrong with objects and what Sluice does about it (logged, counted,
 *                 raised as Kubernetes Events)
 * @param notes    debug-level observations that are not problems: Ingresses of other classes
 *                 ignored, backends without ready endpoints, the stack trace of an Ingress that
 *                 could not be translated
 * @param awaitingObjects the problems (among {@code problems}) that are only a reference to a
 *                 Service or TLS Secret that is missing or unusable: they go away without a change
 *                 to the Ingress once that object appears or is fixed (cert-manager writes the
 *                 Secret after the Ingress exists), so the admission webhook warns about them
 *                 instead of rejecting, as ingress-nginx does
 * @param configuration what the table without its endpoint addresses was computed from (equal keys:
 *                 only endpoint addresses can differ), or {@code null} when not known; not part of
 *                 equality, which stays that of the result (equal inputs, equal translations, whichever
 *                 translator made them)
 */
public record Translation(RouteTable table, List<Problem> problems, List<Problem> notes,
        List<Problem> awaitingObjects, ConfigurationKey configuration) {
    public Translation {
        Objects.requireNonNull(table, "table");
        problems = List.copyOf(problems);
        notes = List.copyOf(notes);
        awaitingObjects = List.copyOf(awaitingObjects);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Translation t && table.equals(t.table) && problems.equals(t.problems)
                && notes.equals(t.notes) && awaitingObjects.equals(t.awaitingObjects);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, problems, notes, awaitingObjects);
    }

    /** A translation without a {@link ConfigurationKey}. */
    public Translation(RouteTable table, List<Problem> problems, List<Problem> notes, List<Problem> awaitingObjects) {
        this(table, problems, notes, awaitingObjects, null);
    }

    /** A translation whose problems all count. */
    public Translation(RouteTable table, List<Problem> problems, List<Problem> notes) {
        this(table, problems, notes, List.of());
    }

    /** A translation without notes. */
    public Translation(RouteTable table, List<Problem> problems) {
        this(table, problems, List.of());
    }
}
