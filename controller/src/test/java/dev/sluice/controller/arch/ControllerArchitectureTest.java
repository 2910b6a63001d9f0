package dev.sluice.controller.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.sluice.gateway.route.RouteTableHolder;
import org.junit.jupiter.api.Test;

/**
 * The controller's structure rules (issue 8): the translator is a pure function of the snapshot,
 * the configuration and the time it is given — no clock, randomness, locks, logging or mutable
 * static state — and only the sync loop publishes tables.
 */
class ControllerArchitectureTest {
    private static final JavaClasses CONTROLLER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.sluice.controller");

    @Test
    void theTranslatorReadsNoClockAndDrawsNoRandomNumbers() {
        noClasses().that().resideInAPackage("dev.sluice.controller.translate..")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethodWhere(com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                        com.tngtech.archunit.core.domain.properties.HasName.Predicates.name("now")))
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Clock")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.Random")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.concurrent.ThreadLocalRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.security.SecureRandom")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.UUID")
                .check(CONTROLLER);
    }

    @Test
    void theTranslatorNeitherLogsNorLocks() {
        noClasses().that().resideInAPackage("dev.sluice.controller.translate..")
                .and().doNotHaveSimpleName("CertificateCache")
                .should().dependOnClassesThat().resideInAnyPackage("org.slf4j..", "java.util.concurrent.locks..")
                .check(CONTROLLER);
    }

    @Test
    void theTranslatorHasNoMutableStaticState() {
        fields().that().areDeclaredInClassesThat().resideInAPackage("dev.sluice.controller.translate..")
                .and().areStatic()
                .should().beFinal()
                .check(CONTROLLER);
    }

    @Test
    void onlyTheSyncLoopPublishesATable() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.sluice.controller.sync.SyncLoop")
                .should().callMethod(RouteTableHolder.class, "publish", dev.sluice.gateway.route.RouteTable.class)
                .check(CONTROLLER);
    }
}
