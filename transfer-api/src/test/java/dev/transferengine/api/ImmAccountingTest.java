package dev.transferengine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The receiver-side imm count of every request shape, per DESIGN.md section 3 and ImmAccounting's Javadoc. */
class ImmAccountingTest {
    private static final FakeRegion SRC = FakeRegion.ofBytes(4096);
    private static final RemoteRegion DST = SRC.descriptor();
    private static final int IMM = 0x1234;

    private static SingleWrite single(Routing routing, OptionalInt imm) {
        return new SingleWrite(SRC, 0, 1000, DST, 0, imm, routing);
    }

    private static List<ScatterTarget> targets(int count) {
        return Collections.nCopies(count, new ScatterTarget(DST, 100, 0, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void singleWriteYieldsOneImmPerShard(int nics) {
        assertEquals(nics, ImmAccounting.immsProduced(single(Routing.allNics(), OptionalInt.of(IMM)), nics));
        assertEquals(nics, ImmAccounting.immsProduced(single(Routing.sharded(0), OptionalInt.of(IMM)), nics));
        for (int k = 1; k <= nics; k++) {
            assertEquals(k, ImmAccounting.immsProduced(single(Routing.sharded(k), OptionalInt.of(IMM)), nics));
        }
        for (int nic = 0; nic < nics; nic++) {
            assertEquals(1, ImmAccounting.immsProduced(single(Routing.pinned(nic), OptionalInt.of(IMM)), nics));
        }
    }

    @Test
    void singleWriteFactoriesUseAllNics() {
        assertEquals(4, ImmAccounting.immsProduced(SingleWrite.withImm(SRC, 0, 10, DST, 0, IMM), 4));
        assertEquals(0, ImmAccounting.immsProduced(SingleWrite.of(SRC, 0, 10, DST, 0), 4));
        assertEquals(1, ImmAccounting.immsProduced(
                SingleWrite.withImm(SRC, 0, 10, DST, 0, IMM).routed(Routing.pinned(3)), 4));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 17})
    void pagedWriteYieldsOneImmPerPageWhateverTheNicCount(int pages) {
        int[] indices = new int[pages];
        PagedWrite p = new PagedWrite(64, SRC, indices, 64, 0, DST, indices.clone(), 64, 0, OptionalInt.of(IMM));
        assertEquals(pages, p.pageCount());
        for (int nics : new int[] {1, 2, 4}) {
            assertEquals(pages, ImmAccounting.immsProduced(p, nics));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void scatterYieldsOnePerDestinationOrNPerDestinationWhenShardingBytes(int nics) {
        for (int dsts : new int[] {0, 1, 3, 8}) {
            OptionalInt imm = OptionalInt.of(IMM);
            assertEquals(dsts, ImmAccounting.immsProduced(
                    new Scatter(SRC, targets(dsts), imm, ScatterRouting.SHARD_PEERS), nics));
            assertEquals((long) dsts * nics, ImmAccounting.immsProduced(
                    new Scatter(SRC, targets(dsts), imm, ScatterRouting.SHARD_BYTES), nics));
            assertEquals(dsts, ImmAccounting.immsProduced(
                    new Scatter(SRC, targets(dsts), imm, ScatterRouting.pinned(nics - 1)), nics));
        }
    }

    @Test
    void barrierYieldsOnePerDestinationWhateverTheRouting() {
        for (int dsts : new int[] {0, 1, 5}) {
            List<RemoteRegion> list = Collections.nCopies(dsts, DST);
            for (Routing routing : List.of(Routing.allNics(), Routing.sharded(1), Routing.sharded(4), Routing.pinned(1))) {
                assertEquals(dsts, ImmAccounting.immsProduced(new Barrier(list, IMM, routing), 4));
            }
        }
    }

    @Test
    void immWriteYieldsExactlyOne() {
        assertEquals(1, ImmAccounting.immsProduced(ImmWrite.of(DST, IMM), 1));
        assertEquals(1, ImmAccounting.immsProduced(new ImmWrite(DST, IMM, Routing.allNics()), 4));
        assertEquals(1, ImmAccounting.immsProduced(new ImmWrite(DST, IMM, Routing.pinned(2)), 4));
    }

    @Test
    void requestsWithoutImmYieldNone() {
        int[] pages = {0, 1, 2};
        assertEquals(0, ImmAccounting.immsProduced(single(Routing.allNics(), OptionalInt.empty()), 4));
        assertEquals(0, ImmAccounting.immsProduced(single(Routing.pinned(0), OptionalInt.empty()), 4));
        assertEquals(0, ImmAccounting.immsProduced(
                new PagedWrite(8, SRC, pages, 8, 0, DST, pages, 8, 0, OptionalInt.empty()), 4));
        assertEquals(0, ImmAccounting.immsProduced(
                new Scatter(SRC, targets(3), OptionalInt.empty(), ScatterRouting.SHARD_BYTES), 4));
    }

    @Test
    void immValuesAreOpaque() {
        // zero and negative imms are ordinary values, not "no imm"
        assertEquals(2, ImmAccounting.immsProduced(single(Routing.allNics(), OptionalInt.of(0)), 2));
        assertEquals(2, ImmAccounting.immsProduced(single(Routing.allNics(), OptionalInt.of(-1)), 2));
        assertEquals(OptionalInt.of(0), new Barrier(List.of(DST), 0, Routing.allNics()).imm());
        assertEquals(OptionalInt.of(-7), ImmWrite.of(DST, -7).imm());
    }

    @Test
    void writesOfCountsShards() {
        assertEquals(4, ImmAccounting.writesOf(Routing.allNics(), 4));
        assertEquals(3, ImmAccounting.writesOf(Routing.sharded(3), 4));
        assertEquals(1, ImmAccounting.writesOf(Routing.pinned(3), 4));
    }

    @Test
    void rejectsNonPositiveSenderNicCount() {
        for (int nics : new int[] {0, -1}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> ImmAccounting.immsProduced(ImmWrite.of(DST, IMM), nics));
            assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void immsPerTargetIsWhatEachScatterTargetDelivers(int nics) {
        assertEquals(1, ImmAccounting.immsPerTarget(ScatterRouting.SHARD_PEERS, nics));
        assertEquals(nics, ImmAccounting.immsPerTarget(ScatterRouting.SHARD_BYTES, nics));
        assertEquals(1, ImmAccounting.immsPerTarget(ScatterRouting.pinned(nics - 1), nics));
        for (ScatterRouting routing : List.of(ScatterRouting.SHARD_PEERS, ScatterRouting.SHARD_BYTES,
                ScatterRouting.pinned(0))) {
            Scatter s = new Scatter(SRC, targets(3), OptionalInt.of(IMM), routing);
            assertEquals(ImmAccounting.immsProduced(s, nics), 3L * ImmAccounting.immsPerTarget(routing, nics),
                    "agrees with the count of a built scatter for " + routing);
        }
    }

    @Test
    void immsPerTargetRejectsBadInput() {
        for (int nics : new int[] {0, -1}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> ImmAccounting.immsPerTarget(ScatterRouting.SHARD_BYTES, nics));
            assertEquals(ErrorCategory.INVALID_ARGUMENT, e.category());
        }
        assertThrows(InvalidRequestException.class, () -> ImmAccounting.immsPerTarget(null, 2));
    }
}
