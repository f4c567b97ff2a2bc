package dev.transferengine.verbs.internal;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.verbs.internal.PortDiscovery.VerbsPort;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One verbs domain: its own device context, protection domain, completion queue, two shared receive queues
 * (SEND/RECV messages; zero-length receives for WRITE_WITH_IMM), a UD handshake queue pair, and per peer a
 * {@link QueuePairSet} managed by {@link ConnectionManager}. Implements the SPI's contract:
 * <b>single-threaded</b> after construction, posts return POSTED, RETRY_PEER (a peer's queue pairs are its own:
 * one peer connecting, draining or with a full ring does not stop the others) or RETRY (the domain's send budget,
 * which the shared completion queue sets, is used up), exactly one completion or error
 * per posted context, no heap allocation on the posting and polling paths.
 *
 * <p>Writes and sends are appended to their queue pair's ring and handed to the NIC in chains at the next
 * {@link #poll} (or when a chain reaches {@link #CHAIN_LIMIT}).
 */
final class VerbsDomain implements ProviderDomain {
    /** A ring with this many unposted requests is flushed right away instead of at the next poll. */
    private static final int CHAIN_LIMIT = 32;
    private static final int HANDSHAKE_COMPLETIONS = 64 + 16; // the UD queue pair's receive + send depth

    private final VerbsPort port;
    private final VerbsSettings options;
    private final Arena arena = Arena.ofShared();
    private final List<AutoCloseable> teardown = new ArrayList<>(); // in reverse order of creation
    private final DeviceContext context;
    private final ProtectionDomain pd;
    private final MemorySegment cq;
    private final CompletionRouter completions;
    private final HandshakeChannel handshake;
    private final MessageReceives messageReceives;
    private final ImmReceives immReceives;
    private final SendQueueRegistry registry = new SendQueueRegistry();
    private final ConnectionManager connections;
    private final DomainAddress address;
    private final DomainCapabilities capabilities;
    private final Map<VerbsMemory, Boolean> registrations = new IdentityHashMap<>();
    private SendQueue[] toFlush = new SendQueue[16];
    private int toFlushCount;
    private boolean closed;

    VerbsDomain(VerbsPort port, VerbsSettings options) {
        this.port = port;
        this.options = options;
        DeviceContext ctx = DeviceContext.open(port.device());
        teardown.add(ctx);
        try {
            this.context = ctx;
            this.pd = ctx.allocateProtectionDomain();
            teardown.add(pd);
            var limits = port.limits();
            if (options.sendQueueDepth() > limits.maxQpWr()) {
                throw new InvalidRequestException("verbs.sendQueueDepth=" + options.sendQueueDepth() + " exceeds "
                        + port.device().name() + "'s max_qp_wr " + limits.maxQpWr());
            }
            int cqDepth = Math.min(options.completionQueueDepth(), limits.maxCqe());
            int messageDepth = Math.min(options.messageReceiveDepth(), limits.maxSrqWr());
            int immDepth = Math.min(options.immReceiveDepth(), limits.maxSrqWr());
            int sendLimit = cqDepth - messageDepth - immDepth - HANDSHAKE_COMPLETIONS;
            if (sendLimit < options.sendQueueDepth()) {
                throw new InvalidRequestException("verbs.completionQueueDepth=" + cqDepth + " leaves " + sendLimit
                        + " completions for sends, fewer than verbs.sendQueueDepth=" + options.sendQueueDepth());
            }
            this.cq = ctx.createCompletionQueue(cqDepth);
            teardown.add(() -> DeviceContext.destroyCompletionQueue(cq));
            MemorySegment messageSrq = pd.createSharedReceiveQueue(messageDepth);
            teardown.add(() -> ProtectionDomain.destroySharedReceiveQueue(messageSrq));
            MemorySegment immSrq = pd.createSharedReceiveQueue(immDepth);
            teardown.add(() -> ProtectionDomain.destroySharedReceiveQueue(immSrq));
            this.messageReceives = new MessageReceives(messageSrq, ctx.postSrqRecvFunction(), messageDepth);
            teardown.add(messageReceives);
            this.immReceives = new ImmReceives(immSrq, ctx.postSrqRecvFunction(), immDepth);
            teardown.add(immReceives);
            int rc = immReceives.refill();
            if (rc != 0) {
                throw NativeErrors.call("ibv_post_srq_recv(immediate receives)", rc);
            }
            SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());
            int qkey = 1 + random.nextInt(0x7fff_fffe); // QKeys with the top bit set are privileged
            this.handshake = new HandshakeChannel(pd, cq, port.port(), qkey, random.nextInt(1 << 24));
            teardown.add(handshake);
            VerbsAddress self = new VerbsAddress(port.linkLayer() == Ibv.IBV_LINK_LAYER_ETHERNET, port.lid(),
                    handshake.queuePairNumber(), qkey, port.gid().gid());
            this.address = self.toDomainAddress();
            var factory = new QueuePairSet.Factory(pd, cq, messageSrq, immSrq, port.port(), options, registry,
                    new SendBudget(sendLimit), random);
            this.connections = new ConnectionManager(factory, handshake, self, port.activeMtu(), port.gid().index(),
                    options, this::queued);
            teardown.add(() -> connections.closeAll(registry));
            this.completions = new CompletionRouter(ctx, cq, arena, registry, messageReceives, immReceives, handshake,
                    connections);
            long maxMessage = Math.min(port.maxMessageBytes(), Integer.MAX_VALUE);
            // hostMemoryOnly = false: registerDevice may be tried (dma-buf, then the device pointer); where neither
            // works it answers UNAVAILABLE and the engine stages device memory through host memory
            this.capabilities = new DomainCapabilities(maxMessage, true, false, port.linkSpeedBitsPerSec());
        } catch (RuntimeException e) {
            closeAll(e);
            throw e;
        }
    }

    @Override
    public DomainAddress address() {
        return address;
    }

    @Override
    public DomainCapabilities capabilities() {
        return capabilities;
    }

    String description() {
        return port.description();
    }

    @Override
    public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
        checkOpen();
        if (segment == null || !segment.isNative() || segment.byteSize() == 0) {
            throw new InvalidRequestException("verbs: only a non-empty native segment can be registered, got " + segment);
        }
        ProtectionDomain.Registration r = pd.register(segment.address(), segment.byteSize(), access(remoteWrite));
        VerbsMemory m = new VerbsMemory(this, r.mr(), r.lkey(), r.rkey(), segment.address(), segment.byteSize(), null);
        registrations.put(m, Boolean.TRUE);
        return m;
    }

    private int access(boolean remoteWrite) {
        return Ibv.IBV_ACCESS_LOCAL_WRITE | (remoteWrite ? Ibv.IBV_ACCESS_REMOTE_WRITE : 0)
                | (options.relaxedOrdering() ? Ibv.IBV_ACCESS_RELAXED_ORDERING : 0);
    }

    /**
     * Device (GPU) memory: {@code ibv_reg_dmabuf_mr} on a dma-buf the device backend exports, else
     * {@code ibv_reg_mr} on the device pointer (nvidia-peermem), else UNAVAILABLE with both causes; see
     * {@link DeviceRegistration}. Same access flags, keys and virtual addressing as host memory. The registration
     * is released by {@link #deregister} and at close like any other; nothing here looks at host-memory lifetimes
     * (a device range has no arena), so device registrations are never touched by such checks.
     */
    @Override
    public RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        checkOpen();
        DeviceRegistration.Result r = DeviceRegistration.register(memory, access(remoteWrite),
                VerbsLibrary.pageSize(), DeviceRegistration.of(pd), port.name());
        ProtectionDomain.Registration reg = r.registration();
        VerbsMemory m = new VerbsMemory(this, reg.mr(), reg.lkey(), reg.rkey(), memory.address(),
                memory.lengthBytes(), r.path());
        registrations.put(m, Boolean.TRUE);
        return m;
    }

    @Override
    public void deregister(RegisteredMemory memory) {
        checkOpen();
        VerbsMemory m = own(memory, "deregister");
        if (m.deregistered) {
            return;
        }
        m.deregistered = true;
        registrations.remove(m);
        int rc = ProtectionDomain.deregister(m.mr);
        if (rc != 0) {
            throw NativeErrors.call("ibv_dereg_mr", rc);
        }
    }

    private VerbsMemory own(RegisteredMemory memory, String what) {
        if (memory instanceof VerbsMemory m && m.owner == this) {
            return m;
        }
        throw new InvalidRequestException("verbs: cannot " + what + " memory not registered with this domain: " + memory);
    }

    /** The lkey to send {@code length} bytes at {@code from} out of {@code memory}; validates first. */
    private int sourceKey(RegisteredMemory memory, long from, long length) {
        if (length < 0 || length > capabilities.maxMessageBytes()) {
            throw new InvalidRequestException("verbs: length " + length + " outside 0.." + capabilities.maxMessageBytes());
        }
        if (length == 0) {
            return 0;
        }
        VerbsMemory m = own(memory, "use");
        if (m.deregistered) {
            throw new InvalidRequestException("verbs: memory was deregistered: " + m);
        }
        if (!m.contains(from, length)) {
            throw new InvalidRequestException("verbs: [0x" + Long.toHexString(from) + ", +" + length + ") is outside " + m);
        }
        return m.lkey;
    }

    @Override
    public long resolvePeer(DomainAddress peer) {
        checkOpen();
        return connections.resolve(peer).handle;
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        checkOpen();
        int lkey = sourceKey(src, srcAddress, length);
        if (remoteKey < 0 || remoteKey > 0xffff_ffffL) {
            // a key from a (forged or foreign) descriptor that no verbs registration can have: the remote side
            // would reject it, so report what the NIC would, before anything is posted
            throw new TransferException(ErrorCategory.REMOTE_ACCESS, "verbs: remote key 0x"
                    + Long.toHexString(remoteKey) + " is wider than 32 bits: no verbs registration has it");
        }
        PeerConnection p = connections.peer(peer);
        if (!connections.usable(p)) {
            return RETRY_PEER; // connecting or draining: other peers' queue pairs are unaffected
        }
        SendQueue q = p.current.nextRmaQueue();
        if (!q.hasRoom()) {
            return q.ringFull() ? RETRY_PEER : RETRY; // this queue pair's ring, or the domain's send budget
        }
        q.appendWrite(context, lkey, srcAddress, (int) length, remoteAddress, (int) remoteKey, withImm, imm);
        queued(q);
        return POSTED;
    }

    @Override
    public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
        checkOpen();
        int lkey = sourceKey(src, address, length);
        PeerConnection p = connections.peer(peer);
        if (!connections.usable(p)) {
            return RETRY_PEER;
        }
        SendQueue q = p.current.messageQueue();
        if (!q.hasRoom()) {
            return q.ringFull() ? RETRY_PEER : RETRY;
        }
        q.appendSend(context, lkey, address, (int) length);
        queued(q);
        return POSTED;
    }

    private void queued(SendQueue q) {
        if (!q.flushPending()) {
            q.flushPending(true);
            if (toFlushCount == toFlush.length) {
                toFlush = java.util.Arrays.copyOf(toFlush, toFlushCount * 2);
            }
            toFlush[toFlushCount++] = q;
        }
        if (q.unposted() >= CHAIN_LIMIT) {
            q.flush(); // a failure stays unposted; the next poll retries it or reports it
        }
    }

    @Override
    public int postReceive(RegisteredMemory dst, long address, long length, long context) {
        checkOpen();
        int lkey = sourceKey(dst, address, length);
        int rc = messageReceives.post(context, lkey, address, (int) length);
        if (rc == 0) {
            return POSTED;
        }
        if (rc == NativeErrors.EAGAIN || rc == NativeErrors.ENOMEM) {
            return RETRY;
        }
        throw NativeErrors.call("ibv_post_srq_recv", rc);
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        checkOpen();
        if (toFlushCount > 0) {
            flushQueued(sink);
        }
        int delivered = completions.poll(sink, maxEntries);
        if (immReceives.deficit() > 0) {
            immReceives.refill(); // a failure is retried on the next poll
        }
        connections.tick(sink);
        if (connections.hasRetired()) {
            connections.reapRetired(registry);
        }
        return delivered;
    }

    private void flushQueued(CompletionSink sink) {
        int kept = 0;
        for (int i = 0; i < toFlushCount; i++) {
            SendQueue q = toFlush[i];
            toFlush[i] = null;
            int rc = q.flush();
            if (rc != 0 && rc != NativeErrors.ENOMEM && rc != NativeErrors.EAGAIN) {
                TransferException e = NativeErrors.call("ibv_post_send(" + port.name() + ")", rc);
                q.failUnposted(e, sink);
                connections.onSendQueueError(q, -1, e, sink);
            }
            if (q.hasUnposted()) {
                toFlush[kept++] = q;
            } else {
                q.flushPending(false);
            }
        }
        toFlushCount = kept;
    }

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("verbs domain " + port.name() + " is closed");
        }
    }

    /** Destroys queue pairs first, then queues, registrations, the PD and the context. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        TransferException failure = closeAll(null);
        if (failure != null) {
            throw failure;
        }
    }

    private TransferException closeAll(RuntimeException pending) {
        TransferException first = null;
        for (VerbsMemory m : registrations.keySet()) {
            m.deregistered = true;
        }
        // queue pairs (and their rings) go first: they reference the SRQs, CQ and MRs
        for (int i = teardown.size() - 1; i >= 0; i--) {
            AutoCloseable c = teardown.get(i);
            if (c == pd) {
                for (VerbsMemory m : registrations.keySet()) {
                    ProtectionDomain.deregister(m.mr);
                }
                registrations.clear();
            }
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof TransferException te ? te
                            : new TransferException(ErrorCategory.PROVIDER, "verbs: closing " + port.name() + ": " + e, e);
                }
                if (pending != null) {
                    pending.addSuppressed(e);
                }
            }
        }
        teardown.clear();
        arena.close();
        return first;
    }
}
