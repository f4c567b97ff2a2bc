package dev.transferengine.kits.moe;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;

import java.util.List;

/** MoE dispatch/combine on the loopback provider with reordered delivery; also the largest shape, 8 ranks x 64 experts. */
class LoopbackMoeTest extends MoeContract {
    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .groups(1, nics);
    }

    @Test
    void eightRanksSixtyFourExperts() throws Exception {
        MoeConfig c = new MoeConfig(8, 64, 32, 8, 128, 8, nics(), 0x3E35_0000);
        List<MoeRank> ranks = layer(c);
        runRounds(c, ranks, 2);
    }
}
