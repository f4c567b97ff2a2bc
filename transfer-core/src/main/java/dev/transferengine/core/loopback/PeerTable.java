package dev.transferengine.core.loopback;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The peers one domain has resolved: handle {@code h} is an index into a table of (registry id, domain).
 * Resolving caches, so the same address always yields the same handle, and the data path finds its
 * target with an array load instead of a registry lookup. A peer that is not open, now or later, stays
 * unreachable: registry ids are never reused. Owned by one worker thread.
 */
final class PeerTable {
    private final Map<Long, Integer> handles = new HashMap<>();
    private long[] ids = new long[8];
    private LoopbackDomain[] targets = new LoopbackDomain[8];
    private int count;

    long resolve(DomainAddress address) {
        long id = LoopbackAddress.idOf(address);
        Integer known = handles.get(id);
        if (known != null) {
            return known;
        }
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
            targets = Arrays.copyOf(targets, count * 2);
        }
        ids[count] = id;
        targets[count] = LoopbackRegistry.find(id);
        handles.put(id, count);
        return count++;
    }

    /** The handle as an index; a handle this table never issued is rejected. */
    int check(long handle) {
        if (handle < 0 || handle >= count) {
            throw new InvalidRequestException("unknown peer handle " + handle + " (resolvePeer issued 0.."
                    + (count - 1) + ")");
        }
        return (int) handle;
    }

    /** The open domain behind {@code handle}, or null when it is closed or never existed. */
    LoopbackDomain target(int handle) {
        LoopbackDomain target = targets[handle];
        if (target != null && target.isClosed()) {
            targets[handle] = null; // let the closed domain's buffers be collected
            return null;
        }
        return target;
    }

    long id(int handle) {
        return ids[handle];
    }
}
