package dev.transferengine.api.topology;

import dev.transferengine.api.InvalidRequestException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuListTest {
    @Test
    void parsesNumbersAndRangesAscendingWithoutDuplicates() {
        assertEquals(List.of(0, 1, 2, 3, 8, 10, 11), CpuList.parse("8,0-3,10-11,2\n"));
        assertEquals(List.of(5), CpuList.parse("5"));
        assertEquals(List.of(), CpuList.parse("  \n"));
    }

    @Test
    void formatCollapsesRangesAndRoundTrips() {
        assertEquals("0-2,5,7-8", CpuList.format(List.of(8, 0, 1, 2, 5, 7)));
        assertEquals("", CpuList.format(List.of()));
        String node = "0-47,96-143";
        assertEquals(node, CpuList.format(CpuList.parse(node)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "1-", "-1", "3-1", "1,,2", "1 2", "0x3", "99999999"})
    void rejectsWhatTheKernelDoesNotWrite(String text) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> CpuList.parse(text));
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }
}
