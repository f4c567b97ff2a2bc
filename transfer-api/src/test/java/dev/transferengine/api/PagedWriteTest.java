package dev.transferengine.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.HashSet;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PagedWrite} as a value: content equality, defensive copies, the factories, per-page reads. */
class PagedWriteTest {
    private static final FakeRegion SRC = FakeRegion.ofBytes(1 << 16);
    private static final RemoteRegion DST = SRC.descriptor();
    private static final FakeRegion OTHER_SRC = FakeRegion.ofBytes(1 << 16);
    private static final RemoteRegion OTHER_DST = FakeRegion.ofBytes(1 << 15).descriptor();

    private static PagedWrite write(int[] srcPages, int[] dstPages, OptionalInt imm) {
        return new PagedWrite(64, SRC, srcPages, 128, 8, DST, dstPages, 256, 16, imm);
    }

    @Test
    void equalAndSameHashWhenThePagesHaveTheSameContent() {
        PagedWrite a = write(new int[] {3, 1, 2}, new int[] {0, 5, 9}, OptionalInt.of(7));
        PagedWrite b = write(new int[] {3, 1, 2}, new int[] {0, 5, 9}, OptionalInt.of(7));

        assertEquals(a, b);
        assertEquals(b, a);
        assertEquals(a.hashCode(), b.hashCode());
        assertTrue(new HashSet<>(Set.of(a)).contains(b), "found by content in a hash set");
    }

    @Test
    void anyDifferentComponentMakesItUnequal() {
        int[] s = {3, 1, 2};
        int[] d = {0, 5, 9};
        PagedWrite base = write(s, d, OptionalInt.of(7));
        OptionalInt i = OptionalInt.of(7);
        PagedWrite[] others = {
            write(new int[] {3, 1, 4}, d, i),
            write(s, new int[] {0, 5, 8}, i),
            write(new int[] {3, 1}, new int[] {0, 5}, i),
            write(s, d, OptionalInt.of(8)),
            write(s, d, OptionalInt.empty()),
            new PagedWrite(65, SRC, s, 128, 8, DST, d, 256, 16, i),
            new PagedWrite(64, OTHER_SRC, s, 128, 8, DST, d, 256, 16, i),
            new PagedWrite(64, SRC, s, 129, 8, DST, d, 256, 16, i),
            new PagedWrite(64, SRC, s, 128, 9, DST, d, 256, 16, i),
            new PagedWrite(64, SRC, s, 128, 8, OTHER_DST, d, 256, 16, i),
            new PagedWrite(64, SRC, s, 128, 8, DST, d, 257, 16, i),
            new PagedWrite(64, SRC, s, 128, 8, DST, d, 256, 17, i),
        };
        assertNotEquals(OTHER_SRC, SRC);
        assertNotEquals(OTHER_DST, DST);
        for (PagedWrite other : others) {
            assertNotEquals(base, other, other.toString());
        }
        assertFalse(base.equals(null));
        assertFalse(base.equals("PagedWrite"));
    }

    @Test
    void changingTheArraysPassedInChangesNothing() {
        int[] s = {0, 1, 2};
        int[] d = {4, 5, 6};
        PagedWrite w = write(s, d, OptionalInt.empty());
        int hash = w.hashCode();
        s[0] = 99;
        d[2] = 99;

        assertArrayEquals(new int[] {0, 1, 2}, w.srcPages());
        assertArrayEquals(new int[] {4, 5, 6}, w.dstPages());
        assertEquals(0, w.srcPage(0));
        assertEquals(6, w.dstPage(2));
        assertEquals(hash, w.hashCode());
    }

    @Test
    void changingTheArraysHandedOutChangesNothing() {
        PagedWrite w = write(new int[] {0, 1, 2}, new int[] {4, 5, 6}, OptionalInt.empty());
        int[] s = w.srcPages();
        int[] d = w.dstPages();
        s[1] = 99;
        d[1] = 99;

        assertNotSame(s, w.srcPages());
        assertArrayEquals(new int[] {0, 1, 2}, w.srcPages());
        assertArrayEquals(new int[] {4, 5, 6}, w.dstPages());
        assertEquals(write(new int[] {0, 1, 2}, new int[] {4, 5, 6}, OptionalInt.empty()), w);
    }

    @Test
    void oneArrayForBothSidesIsCopiedToo() {
        int[] pages = {2, 0, 1};
        PagedWrite w = write(pages, pages, OptionalInt.empty());
        pages[0] = 7;

        assertArrayEquals(new int[] {2, 0, 1}, w.srcPages());
        assertArrayEquals(new int[] {2, 0, 1}, w.dstPages());
    }

    @Test
    void perPageReadsFollowTheLayout() {
        PagedWrite w = write(new int[] {3, 0}, new int[] {1, 4}, OptionalInt.empty());

        assertEquals(3, w.srcPage(0));
        assertEquals(4, w.dstPage(1));
        assertEquals(8 + 128 * 3, w.srcOffsetOf(0));
        assertEquals(8, w.srcOffsetOf(1));
        assertEquals(16 + 256, w.dstOffsetOf(0));
        assertEquals(16 + 256 * 4, w.dstOffsetOf(1));
        for (int bad : new int[] {-1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertInvalid(() -> w.srcPage(bad));
            assertInvalid(() -> w.dstPage(bad));
            assertInvalid(() -> w.srcOffsetOf(bad));
            assertInvalid(() -> w.dstOffsetOf(bad));
        }
    }

    @Test
    void ofIsTheConstructorWithPageLengthStridesAndNoOffsets() {
        int[] s = {4, 2};
        int[] d = {0, 9};
        PagedWrite w = PagedWrite.of(512, SRC, s, DST, d);

        assertEquals(new PagedWrite(512, SRC, s, 512, 0, DST, d, 512, 0, OptionalInt.empty()), w);
        assertEquals(512 * 2, w.srcOffsetOf(1));
        assertEquals(512 * 9, w.dstOffsetOf(1));
    }

    @Test
    void stridedIsTheConstructorWithIdentityPages() {
        PagedWrite w = PagedWrite.strided(100, SRC, 40, 300, DST, 1000, 120, 4);

        int[] identity = {0, 1, 2, 3};
        assertEquals(new PagedWrite(100, SRC, identity, 300, 40, DST, identity, 120, 1000, OptionalInt.empty()), w);
        assertEquals(4, w.pageCount());
        assertEquals(40 + 3 * 300, w.srcOffsetOf(3));
        assertEquals(1000 + 2 * 120, w.dstOffsetOf(2));
        assertEquals(0, PagedWrite.strided(100, SRC, 0, 100, DST, 0, 100, 0).pageCount());
    }

    @Test
    void withImmSetsTheImmAndKeepsTheRest() {
        PagedWrite plain = PagedWrite.strided(64, SRC, 0, 64, DST, 64, 128, 3);
        PagedWrite tagged = plain.withImm(0xDEADBEEF);

        assertEquals(OptionalInt.of(0xDEADBEEF), tagged.imm());
        assertEquals(OptionalInt.empty(), plain.imm());
        assertEquals(new PagedWrite(64, SRC, plain.srcPages(), 64, 0, DST, plain.dstPages(), 128, 64,
                OptionalInt.of(0xDEADBEEF)), tagged);
        assertEquals(3, ImmAccounting.immsProduced(tagged, 4));
        assertEquals(0, ImmAccounting.immsProduced(plain, 4));
    }

    @Test
    void factoriesRejectBadInputWithTypedErrors() {
        int[] two = {0, 1};
        assertInvalid(() -> PagedWrite.of(-1, SRC, two, DST, two));
        assertInvalid(() -> PagedWrite.of(8, null, two, DST, two));
        assertInvalid(() -> PagedWrite.of(8, SRC, null, DST, two));
        assertInvalid(() -> PagedWrite.of(8, SRC, two, null, two));
        assertInvalid(() -> PagedWrite.of(8, SRC, two, DST, null));
        assertInvalid(() -> PagedWrite.of(8, SRC, two, DST, new int[] {0}));

        assertInvalid(() -> PagedWrite.strided(8, SRC, 0, 8, DST, 0, 8, -1));
        assertInvalid(() -> PagedWrite.strided(-8, SRC, 0, 8, DST, 0, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, null, 0, 8, DST, 0, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, SRC, -1, 8, DST, 0, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, SRC, 0, -8, DST, 0, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, SRC, 0, 8, null, 0, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, SRC, 0, 8, DST, -1, 8, 2));
        assertInvalid(() -> PagedWrite.strided(8, SRC, 0, 8, DST, 0, -8, 2));
    }

    @Test
    void toStringShowsThePagesAndTheImmUnsigned() {
        String s = write(new int[] {3, 1}, new int[] {0, 5}, OptionalInt.of(0xDEADBEEF)).toString();

        assertTrue(s.contains("srcPages=[3, 1]"), s);
        assertTrue(s.contains("dstPages=[0, 5]"), s);
        assertTrue(s.contains("imm=3735928559"), s);
        assertTrue(s.contains("srcStride=128") && s.contains("dstOffset=16"), s);
        assertTrue(write(new int[0], new int[0], OptionalInt.empty()).toString().contains("imm=none"));
    }

    @Test
    void toStringCutsLongPageArrays() {
        PagedWrite w = PagedWrite.strided(8, SRC, 0, 8, DST, 0, 8, 1000);

        String s = w.toString();
        assertTrue(s.contains("srcPages=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ... 984 more]"), s);
        assertFalse(s.contains("999"), s);
    }

    private static void assertInvalid(Executable e) {
        InvalidRequestException x = assertThrows(InvalidRequestException.class, e);
        assertEquals(ErrorCategory.INVALID_ARGUMENT, x.category());
    }
}
