package dev.transferengine.core;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

/**
 * A {@link ProviderDomain} that passes every call to the domain it wraps: the base of the engine's NIC
 * decorators ({@link SplittingDomain}, {@link StagingDomain}), which override only what they change. Same
 * threading contract as the wrapped domain (one worker thread).
 */
abstract class ForwardingDomain implements ProviderDomain {
    protected final ProviderDomain inner;

    ForwardingDomain(ProviderDomain inner) {
        this.inner = inner;
    }

    /** The domain underneath. */
    ProviderDomain inner() {
        return inner;
    }

    @Override
    public DomainAddress address() {
        return inner.address();
    }

    @Override
    public DomainCapabilities capabilities() {
        return inner.capabilities();
    }

    @Override
    public void setWakeup(Runnable wakeup) {
        inner.setWakeup(wakeup);
    }

    @Override
    public RegisteredMemory register(java.lang.foreign.MemorySegment segment, boolean remoteWrite) {
        return inner.register(segment, remoteWrite);
    }

    @Override
    public RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        return inner.registerDevice(memory, remoteWrite);
    }

    @Override
    public void deregister(RegisteredMemory memory) {
        inner.deregister(memory);
    }

    @Override
    public long resolvePeer(DomainAddress peer) {
        return inner.resolvePeer(peer);
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
    }

    @Override
    public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
        return inner.postSend(peer, src, address, length, context);
    }

    @Override
    public int postReceive(RegisteredMemory dst, long address, long length, long context) {
        return inner.postReceive(dst, address, length, context);
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        return inner.poll(sink, maxEntries);
    }

    @Override
    public void close() {
        inner.close();
    }

    /**
     * A sink that hands the wrapped domain's completions for contexts with {@code flag} set to the decorator and
     * everything else to the worker's sink ({@link #target}, set before each poll). Allocation-free.
     */
    abstract static class Interceptor implements CompletionSink {
        private final long flag;
        CompletionSink target;

        Interceptor(long flag) {
            this.flag = flag;
        }

        /** A completion of one of the decorator's own posts. */
        abstract void ownComplete(long context);

        /** An error of one of the decorator's own posts. */
        abstract void ownError(long context, dev.transferengine.api.TransferException error);

        @Override
        public final void onComplete(long context) {
            if ((context & flag) == flag) {
                ownComplete(context);
            } else {
                target.onComplete(context);
            }
        }

        @Override
        public final void onError(long context, dev.transferengine.api.TransferException error) {
            if ((context & flag) == flag) {
                ownError(context, error);
            } else {
                target.onError(context, error);
            }
        }

        @Override
        public final void onImm(int imm) {
            target.onImm(imm);
        }

        @Override
        public final void onReceive(long context, long lengthBytes) {
            target.onReceive(context, lengthBytes);
        }
    }
}
