package dev.sluice.gateway.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The structure of the data plane, as rules that fail when broken (issue 8): the gateway knows
 * nothing of Kubernetes or the controller, and its packages stack one way,
 * {@code proxy}/{@code admin} → {@code route} → {@code access} → {@code balance} → {@code request};
 * the stream ports ({@code stream}) sit beside {@code route}: the table carries their model, the
 * proxy runs their server. {@code observe} sits beside {@code proxy}: its meters are labelled
 * from the route model ({@code route}, {@code balance}).
 */
class GatewayArchitectureTest {
    private static final JavaClasses GATEWAY = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.sluice.gateway");

    @Test
    void theGatewayNeverReachesTheControllerOrKubernetes() {
        noClasses().that().resideInAPackage("dev.sluice.gateway..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.sluice.controller..", "io.fabric8..")
                .check(GATEWAY);
    }

    @Test
    void gatewayPackagesHaveNoCycles() {
        slices().matching("dev.sluice.gateway.(*)..").should().beFreeOfCycles().check(GATEWAY);
    }

    @Test
    void packagesStackOneWay() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("proxy").definedBy("dev.sluice.gateway.proxy..")
                .layer("admin").definedBy("dev.sluice.gateway.admin..")
                .layer("observe").definedBy("dev.sluice.gateway.observe..")
                .layer("route").definedBy("dev.sluice.gateway.route..")
                .layer("stream").definedBy("dev.sluice.gateway.stream..")
                .layer("access").definedBy("dev.sluice.gateway.access..")
                .layer("balance").definedBy("dev.sluice.gateway.balance..")
                .layer("request").definedBy("dev.sluice.gateway.request..")
                .whereLayer("proxy").mayNotBeAccessedByAnyLayer()
                .whereLayer("admin").mayNotBeAccessedByAnyLayer()
                .whereLayer("observe").mayOnlyBeAccessedByLayers("proxy", "admin")
                .whereLayer("route").mayOnlyBeAccessedByLayers("proxy", "admin", "observe")
                .whereLayer("stream").mayOnlyBeAccessedByLayers("route", "proxy", "admin")
                .whereLayer("access").mayOnlyBeAccessedByLayers("route", "proxy", "admin")
                .whereLayer("balance").mayOnlyBeAccessedByLayers("access", "route", "proxy", "admin", "observe")
                .whereLayer("request").mayOnlyBeAccessedByLayers("balance", "access", "route", "stream", "proxy", "admin")
                .check(GATEWAY);
    }

    @Test
    void onlyTheProxyUsesNettysHttpTypes() {
        noClasses().that().resideInAnyPackage("dev.sluice.gateway.route..", "dev.sluice.gateway.access..",
                        "dev.sluice.gateway.balance..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty.handler.codec.http..",
                        "io.netty.channel..")
                .check(GATEWAY);
    }
}
