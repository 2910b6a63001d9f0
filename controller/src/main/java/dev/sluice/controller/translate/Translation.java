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
 */
public record Translation(RouteTable table, List<Problem> problems, List<Problem> notes) {
    public Translation {
        Objects.requireNonNull(table, "table");
        problems = List.copyOf(problems);
        notes = List.copyOf(notes);
    }

    /** A translation without notes. */
    public Translation(RouteTable table, List<Problem> problems) {
        this(table, problems, List.of());
    }
}
