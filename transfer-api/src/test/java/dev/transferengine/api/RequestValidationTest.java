package dev.transferengine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every request constructor rejects nulls, negative numbers and mismatched page arrays with a typed error. */
class RequestValidationTest {
    private static final FakeRegion SRC = FakeRegion.ofBytes(4096);
    private static final RemoteRegion DST = SRC.descriptor();
    private static final OptionalInt IMM = OptionalInt.of(42);
    private static final Routing ALL = Routing.allNics();

    @Test
    void singleWrite() {
        new SingleWrite(SRC, 0, 0, DST, 0, OptionalInt.empty(), ALL); // zero values are valid
        assertInvalid(() -> new SingleWrite(null, 0, 1, DST, 0, IMM, ALL));
        assertInvalid(() -> new SingleWrite(SRC, 0, 1, null, 0, IMM, ALL));
        assertInvalid(() -> new SingleWrite(SRC, 0, 1, DST, 0, null, ALL));
        assertInvalid(() -> new SingleWrite(SRC, 0, 1, DST, 0, IMM, null));
        assertInvalid(() -> new SingleWrite(SRC, -1, 1, DST, 0, IMM, ALL));
        assertInvalid(() -> new SingleWrite(SRC, 0, -1, DST, 0, IMM, ALL));
        assertInvalid(() -> new SingleWrite(SRC, 0, 1, DST, -1, IMM, ALL));
        assertInvalid(() -> new SingleWrite(SRC, Long.MIN_VALUE, 1, DST, 0, IMM, ALL));
        assertInvalid(() -> SingleWrite.of(SRC, 0, -5, DST, 0));
        assertInvalid(() -> SingleWrite.withImm(null, 0, 1, DST, 0, 1));
        assertInvalid(() -> SingleWrite.of(SRC, 0, 1, DST, 0).routed(null));
    }

    @Test
    void pagedWrite() {
        int[] two = {0, 1};
        new PagedWrite(0, SRC, new int[0], 0, 0, DST, new int[0], 0, 0, OptionalInt.empty());
        assertInvalid(() -> new PagedWrite(8, null, two, 8, 0, DST, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, null, 8, 0, DST, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, null, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, DST, null, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, DST, two, 8, 0, null));
        assertInvalid(() -> new PagedWrite(-8, SRC, two, 8, 0, DST, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, -8, 0, DST, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, -1, DST, two, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, DST, two, -8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, DST, two, 8, -1, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, two, 8, 0, DST, new int[] {0}, 8, 0, IMM));
        assertInvalid(() -> new PagedWrite(8, SRC, new int[0], 8, 0, DST, two, 8, 0, IMM));
    }

    @Test
    void scatterAndItsTargets() {
        List<ScatterTarget> one = List.of(new ScatterTarget(DST, 0, 0, 0));
        new Scatter(SRC, List.of(), OptionalInt.empty(), ScatterRouting.SHARD_PEERS);
        assertInvalid(() -> new Scatter(null, one, IMM, ScatterRouting.SHARD_PEERS));
        assertInvalid(() -> new Scatter(SRC, null, IMM, ScatterRouting.SHARD_PEERS));
        assertInvalid(() -> new Scatter(SRC, one, null, ScatterRouting.SHARD_PEERS));
        assertInvalid(() -> new Scatter(SRC, one, IMM, null));
        assertInvalid(() -> new ScatterTarget(null, 1, 0, 0));
        assertInvalid(() -> new ScatterTarget(DST, -1, 0, 0));
        assertInvalid(() -> new ScatterTarget(DST, 1, -1, 0));
        assertInvalid(() -> new ScatterTarget(DST, 1, 0, -1));
        assertInvalid(() -> ScatterRouting.pinned(-1));
    }

    @Test
    void scatterRejectsANullTarget() {
        List<ScatterTarget> withNull = new ArrayList<>(List.of(new ScatterTarget(DST, 1, 0, 0)));
        withNull.add(null);
        assertInvalid(() -> new Scatter(SRC, withNull, IMM, ScatterRouting.SHARD_PEERS));
    }

    @Test
    void scatterCopiesItsTargets() {
        List<ScatterTarget> targets = new ArrayList<>(List.of(new ScatterTarget(DST, 1, 0, 0)));
        Scatter s = new Scatter(SRC, targets, IMM, ScatterRouting.SHARD_PEERS);
        targets.clear();
        assertEquals(1, s.targets().size());
    }

    @Test
    void barrierAndImmWrite() {
        assertInvalid(() -> new Barrier(null, 1, ALL));
        assertInvalid(() -> new Barrier(List.of(DST), 1, null));
        assertInvalid(() -> new ImmWrite(null, 1, ALL));
        assertInvalid(() -> new ImmWrite(DST, 1, null));
        assertInvalid(() -> ImmWrite.of(null, 1));
    }

    @Test
    void barrierRejectsANullDestination() {
        List<RemoteRegion> withNull = Arrays.asList(DST, null);
        assertInvalid(() -> new Barrier(withNull, 1, ALL));
    }

    @Test
    void routing() {
        assertEquals(new Routing.Sharded(0), Routing.allNics());
        assertEquals(3, ((Routing.Sharded) Routing.sharded(3)).shards());
        assertEquals(2, ((Routing.Pinned) Routing.pinned(2)).nic());
        assertInvalid(() -> Routing.sharded(-1));
        assertInvalid(() -> Routing.pinned(-1));
        assertInvalid(() -> Routing.pinned(Integer.MIN_VALUE));
    }

    @Test
    void devicesAndGroups() {
        assertInvalid(() -> Device.host(-1));
        assertInvalid(() -> Device.cuda(-1));
        assertInvalid(() -> new Device(null, 0));
        assertInvalid(() -> GroupSpec.ofNics(0));
        assertInvalid(() -> GroupSpec.ofDomains());
        assertInvalid(() -> new GroupSpec(2, List.of("a"), -1, -1));
        assertInvalid(() -> GroupSpec.ofNics(1).withCudaDevice(-2));
        assertInvalid(() -> GroupSpec.ofNics(1).withPinnedCpu(-2));
    }

    @Test
    void builderValidatesAndDescribesTheDefaults() {
        TransferEngine.Builder b = TransferEngine.builder();
        assertInvalid(() -> b.groups(0, 1));
        assertInvalid(() -> b.groups(1, 0));
        assertInvalid(() -> b.requestQueueCapacity(1));
        assertInvalid(() -> b.transferTimeout(java.time.Duration.ZERO));
        assertInvalid(() -> b.transferTimeout(null));
        assertInvalid(() -> b.operationTimeout(java.time.Duration.ofSeconds(-1)));

        var config = TransferEngine.builder().conclude();
        assertEquals("loopback", config.provider());
        assertEquals(List.of(GroupSpec.ofNics(1)), config.groups());
        assertEquals(4096, config.requestQueueCapacity());
        assertEquals(java.time.Duration.ofSeconds(30), config.transferTimeout());

        var custom = TransferEngine.builder().provider("x").groups(2, 4).providerOption("x.k", "v").conclude();
        assertEquals(List.of(GroupSpec.ofNics(4), GroupSpec.ofNics(4)), custom.groups());
        assertEquals("v", custom.option("x.k", "fallback"));
        assertEquals("fallback", custom.option("x.other", "fallback"));
    }

    private static void assertInvalid(Executable e) {
        InvalidRequestException thrown = assertThrows(InvalidRequestException.class, e);
        assertEquals(ErrorCategory.INVALID_ARGUMENT, thrown.category(), thrown.getMessage());
    }
}
