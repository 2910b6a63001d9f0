package dev.sluice.controller.translate;

import dev.sluice.gateway.route.RouteTable;
import java.util.List;
import java.util.Objects;

/** The result of one translation: the table to serve and the problems met while building it. */
public record Translation(RouteTable table, List<Problem> problems) {
    public Translation {
        Objects.requireNonNull(table, "table");
        problems = List.copyOf(problems);
    }
}
