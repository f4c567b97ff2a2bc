package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Set;

/**
 * The conformance suite, unchanged, on libfabric's shm provider.
 *
 * <p>Three tests are skipped, with the reason, because libfabric 1.17's shm provider has no way to report a
 * refused remote access: a write of up to 4 KiB completes at the initiator when it is queued, before the target
 * checks the key, and a larger one never completes when the target refuses it (the target drops the command
 * without answering). FI_DELIVERY_COMPLETE does not help: it makes zero-length writes hang and wedges the queue
 * to that peer on the first refused write. See docs/libfabric.md; the tcp run covers these tests.
 */
@ExtendWith(ShmConformanceTest.ShmCannotReportRemoteAccessErrors.class)
class ShmConformanceTest extends TransferConformanceSuite {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("shm").groups(1, nicsPerGroup);
    }

    @Override
    protected int[] nicCounts() {
        return new int[] {1, 2};
    }

    /** Disables the suite's tests that need the target's refusal of a write reported to the initiator. */
    static final class ShmCannotReportRemoteAccessErrors implements ExecutionCondition {
        static final Set<String> NEEDS_REMOTE_ACCESS_ERRORS = Set.of("forgedDescriptorsFailWithoutTouchingMemory",
                "writeToAClosedPeerRegionFailsAsynchronously", "overlappingRegistrationsOfOneMemoryEachWork");

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            String method = context.getTestMethod().map(m -> m.getName()).orElse("");
            return NEEDS_REMOTE_ACCESS_ERRORS.contains(method)
                    ? ConditionEvaluationResult.disabled("shm (libfabric 1.17) cannot report refused remote writes")
                    : ConditionEvaluationResult.enabled("shm supports this");
        }
    }
}
