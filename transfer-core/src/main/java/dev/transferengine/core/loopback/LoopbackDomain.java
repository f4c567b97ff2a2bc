package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One in-process virtual NIC endpoint. Posts are validated here and queued; {@link #poll} applies this
 * domain's queued operations to their targets and delivers the events other domains queued for it.
 *
 * <p>Threading: as {@link ProviderDomain} requires, one worker thread calls every method. Other domains'
 * worker threads reach into this one only through thread-safe parts: {@link #registrations()} (key
 * lookups), {@link #inbound()} (offering events), {@link #receives()} (taking posted receives) and
 * {@link #isClosed()}.
 *
 * <p>At most {@code loopback.queueDepth} operations (writes, sends and receives) are outstanding at once;
 * posts beyond that return {@link #RETRY}.
 */
public final class LoopbackDomain implements ProviderDomain {
    private static final SecureRandom KEY_SEEDS = new SecureRandom();

    private final long id;
    private final DomainAddress address;
    private final DomainInfo info;
    private final DomainCapabilities capabilities;
    private final int queueDepth;
    private final long failEveryNth;
    private final RegistrationTable registrations;
    private final PeerTable peers = new PeerTable();
    private final Inbound inbound;
    /** Posted receives as (context, buffer key, address, length); taken by senders' worker threads. */
    private final EventQueue receives;
    private final Outbound outbound;
    /** Copy queues for writes that touch device memory; opened on this domain's worker thread when needed. */
    private final DeviceCopies deviceCopies;
    private int receivesOutstanding;
    private long writesPosted;
    private volatile boolean closed;

    private LoopbackDomain(DomainInfo info, LoopbackSettings options, long reorderSeed) {
        this.id = LoopbackRegistry.newId();
        this.address = LoopbackAddress.of(id);
        this.info = info;
        this.capabilities = new DomainCapabilities(options.maxMessageBytes(), true, !options.deviceMemory(),
                info.linkSpeedBitsPerSec());
        this.queueDepth = options.queueDepth();
        this.deviceCopies = new DeviceCopies(options.copyStreams(), options.coalesceCopies());
        this.failEveryNth = options.failEveryNth();
        this.registrations = new RegistrationTable(KEY_SEEDS.nextLong());
        RandomGenerator reorder = options.reorder() ? new SplittableRandom(reorderSeed) : null;
        this.inbound = new Inbound(queueDepth, reorder);
        this.receives = new EventQueue(queueDepth);
        this.outbound = new Outbound(queueDepth, options.delayNanos(), reorder,
                new OperationApplier(peers, failEveryNth, deviceCopies, options.unkeyedZeroLength(),
                        options.silentPeers()));
    }

    /** Creates a domain with a fresh id and makes it reachable through the process-wide registry. */
    static LoopbackDomain open(DomainInfo info, LoopbackSettings options, long reorderSeed) {
        LoopbackDomain domain = new LoopbackDomain(info, options, reorderSeed);
        LoopbackRegistry.add(domain.id, domain);
        return domain;
    }

    @Override
    public void setWakeup(Runnable wakeup) {
        inbound.setWakeup(wakeup);
    }

    /** The registry id inside {@link #address()}. */
    public long id() {
        return id;
    }

    @Override
    public DomainAddress address() {
        return address;
    }

    @Override
    public DomainCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public RegisteredMemory register(MemorySegment segment, boolean remoteWrite) {
        ensureOpen();
        if (segment == null) {
            throw new InvalidRequestException("cannot register a null segment");
        }
        if (!segment.isNative()) {
            throw new InvalidRequestException("loopback registers native memory only, got a heap segment");
        }
        if (segment.byteSize() == 0) {
            throw new InvalidRequestException("cannot register an empty segment");
        }
        if (!segment.scope().isAlive()) {
            throw new ClosedException("cannot register a segment whose arena is closed");
        }
        if (remoteWrite && segment.isReadOnly()) {
            throw new InvalidRequestException("cannot register a read-only segment for remote writes");
        }
        MemorySegment view = LoopbackRegistration.viewFromAnyThread(segment);
        LoopbackRegistration registration =
                new LoopbackRegistration(this, segment, view, registrations.newKey(), remoteWrite);
        registrations.publish(registration);
        return registration;
    }

    /**
     * Registers device memory: writes from or into it are device copies on the writer's copy queue, and
     * their imm is published only after the copy's event completed.
     */
    @Override
    public RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        ensureOpen();
        if (capabilities.hostMemoryOnly()) {
            throw new dev.transferengine.api.TransferException(dev.transferengine.api.ErrorCategory.UNAVAILABLE,
                    "loopback domain #" + id + " is host-only (" + LoopbackOptions.DEVICE_MEMORY + "=false)");
        }
        if (memory == null || memory.backend() == null) {
            throw new InvalidRequestException("device memory needs its device backend");
        }
        LoopbackRegistration registration =
                new LoopbackRegistration(this, memory, registrations.newKey(), remoteWrite);
        registrations.publish(registration);
        return registration;
    }

    @Override
    public void deregister(RegisteredMemory memory) {
        LoopbackRegistration registration = own(memory, "memory to deregister");
        if (registrations.remove(registration)) {
            registration.markDeregistered();
        }
    }

    @Override
    public long resolvePeer(DomainAddress peer) {
        ensureOpen();
        return peers.resolve(peer);
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        ensureOpen();
        int handle = peers.check(peer);
        LoopbackRegistration source = checkSource(src, srcAddress, length, "WRITE source");
        if (isFull()) {
            return RETRY;
        }
        Operation op = outbound.claim();
        op.kind = Operation.WRITE;
        op.peer = handle;
        op.source = source;
        op.sourceAddress = srcAddress;
        op.length = length;
        op.remoteAddress = remoteAddress;
        op.remoteKey = remoteKey;
        op.withImm = withImm;
        op.imm = imm;
        op.context = context;
        op.writeOrdinal = ++writesPosted;
        op.injectFailure = failEveryNth > 0 && writesPosted % failEveryNth == 0;
        outbound.post(op);
        return POSTED;
    }

    @Override
    public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
        ensureOpen();
        int handle = peers.check(peer);
        LoopbackRegistration source = checkSource(src, address, length, "SEND source");
        if (isFull()) {
            return RETRY;
        }
        Operation op = outbound.claim();
        op.kind = Operation.SEND;
        op.peer = handle;
        op.source = source;
        op.sourceAddress = address;
        op.length = length;
        op.context = context;
        outbound.post(op);
        return POSTED;
    }

    @Override
    public int postReceive(RegisteredMemory dst, long address, long length, long context) {
        ensureOpen();
        LoopbackRegistration buffer = own(dst, "receive buffer");
        checkRange(buffer, address, length, "receive buffer");
        if (buffer.isReadOnly()) {
            throw new InvalidRequestException("receive buffer " + buffer.describe() + " is read-only");
        }
        if (isFull()) {
            return RETRY;
        }
        if (!receives.offer(context, buffer.remoteKey(), address, length)) {
            // Cannot happen: the queue holds at least queueDepth entries and isFull() bounds them.
            throw new IllegalStateException("loopback receive queue overflow on domain #" + id);
        }
        receivesOutstanding++;
        return POSTED;
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        if (closed || maxEntries <= 0) {
            return 0;
        }
        int delivered = inbound.deliver(sink, maxEntries);
        receivesOutstanding -= inbound.takeReceivesFinished();
        return delivered + outbound.progress(sink, maxEntries - delivered);
    }

    /**
     * Drops every pending operation without reporting it (the engine fails its own transfers), releases
     * every registration and leaves the registry, so peers writing here get PEER_UNREACHABLE. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LoopbackRegistry.remove(id, this);
        registrations.clear(LoopbackRegistration::markDeregistered);
        outbound.dropAll();
        deviceCopies.close();
    }

    boolean isClosed() {
        return closed;
    }

    RegistrationTable registrations() {
        return registrations;
    }

    Inbound inbound() {
        return inbound;
    }

    EventQueue receives() {
        return receives;
    }

    private boolean isFull() {
        return outbound.inFlight() + receivesOutstanding >= queueDepth;
    }

    private void ensureOpen() {
        if (closed) {
            throw new ClosedException("loopback domain #" + id + " (" + info.name() + ") is closed");
        }
    }

    /**
     * A zero-length operation needs no source; any other needs a range inside one of ours. {@code role} is
     * a constant: messages are only built on failure, so the data path allocates nothing.
     */
    private LoopbackRegistration checkSource(RegisteredMemory src, long address, long length, String role) {
        if (length < 0) {
            throw new InvalidRequestException(role + ": length must be >= 0, got " + length);
        }
        if (length > capabilities.maxMessageBytes()) {
            throw new InvalidRequestException(role + ": " + length + " bytes exceed this domain's limit of "
                    + capabilities.maxMessageBytes() + " bytes per operation");
        }
        if (src == null) {
            if (length > 0) {
                throw new InvalidRequestException(role + " is null but " + length + " bytes are to be sent");
            }
            return null;
        }
        LoopbackRegistration source = own(src, role);
        checkRange(source, address, length, role);
        return source;
    }

    private LoopbackRegistration own(RegisteredMemory memory, String role) {
        if (!(memory instanceof LoopbackRegistration registration) || registration.owner() != this) {
            throw new InvalidRequestException(role + " is not a registration of loopback domain #" + id
                    + ": " + memory);
        }
        return registration;
    }

    private static void checkRange(LoopbackRegistration registration, long address, long length, String role) {
        if (!registration.isRegistered()) {
            throw new ClosedException(role + " " + registration.describe() + " was deregistered");
        }
        if (!registration.contains(address, length)) {
            throw new InvalidRequestException(role + " range [0x" + Long.toHexString(address) + ", +" + length
                    + " bytes) is outside registration " + registration.describe());
        }
    }

    @Override
    public String toString() {
        return "LoopbackDomain#" + id + "(" + info.name() + (closed ? ", closed)" : ")");
    }
}
