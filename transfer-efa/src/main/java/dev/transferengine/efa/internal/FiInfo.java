package dev.transferengine.efa.internal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What one {@code fi_info} entry (one NIC) says, read once. {@link #pointer()} stays valid while the
 * {@link InfoList} that owns it is open. Immutable.
 *
 * @param pointer          the fi_info itself, for fi_fabric / fi_domain / fi_endpoint
 * @param providerName     {@code fabric_attr->prov_name}, e.g. {@code "tcp;ofi_rxm"}
 * @param fabricName       {@code fabric_attr->name}, e.g. {@code "127.0.0.1/32"}
 * @param domainName       {@code domain_attr->name}, e.g. {@code "lo"}, {@code "shm"}, {@code "rdmap0s6-rdm"}
 * @param caps             {@code caps}
 * @param mode             {@code mode | rx_attr->mode | tx_attr->mode}: what the provider requires of us
 * @param mrMode           {@code domain_attr->mr_mode}
 * @param addrFormat       {@code addr_format}
 * @param txSize           {@code tx_attr->size}
 * @param rxSize           {@code rx_attr->size}
 * @param maxMsgSize       {@code ep_attr->max_msg_size} (unsigned)
 * @param cqDataSize       {@code domain_attr->cq_data_size}: bytes of remote CQ data
 * @param dataProgress     {@code domain_attr->data_progress}
 * @param linkSpeed        {@code nic->link_attr->speed} in bit/s, 0 when not reported
 */
record FiInfo(MemorySegment pointer, String providerName, String fabricName, String domainName, long caps, long mode,
              int mrMode, int addrFormat, long txSize, long rxSize, long maxMsgSize, long cqDataSize,
              int dataProgress, long linkSpeed) {

    static FiInfo read(long address) {
        MemorySegment info = Native.view(address, FiLayouts.FI_INFO.byteSize());
        MemorySegment tx = attr(info, FiLayouts.INFO_TX_ATTR, FiLayouts.FI_TX_ATTR.byteSize());
        MemorySegment rx = attr(info, FiLayouts.INFO_RX_ATTR, FiLayouts.FI_RX_ATTR.byteSize());
        MemorySegment ep = attr(info, FiLayouts.INFO_EP_ATTR, FiLayouts.FI_EP_ATTR.byteSize());
        MemorySegment domain = attr(info, FiLayouts.INFO_DOMAIN_ATTR, FiLayouts.FI_DOMAIN_ATTR.byteSize());
        MemorySegment fabric = attr(info, FiLayouts.INFO_FABRIC_ATTR, FiLayouts.FI_FABRIC_ATTR.byteSize());
        long mode = info.get(JAVA_LONG, FiLayouts.INFO_MODE)
                | (tx == null ? 0 : tx.get(JAVA_LONG, FiLayouts.TX_MODE))
                | (rx == null ? 0 : rx.get(JAVA_LONG, FiLayouts.RX_MODE));
        return new FiInfo(info,
                fabric == null ? null : Native.string(fabric.get(JAVA_LONG, FiLayouts.FABRIC_ATTR_PROV_NAME)),
                fabric == null ? null : Native.string(fabric.get(JAVA_LONG, FiLayouts.FABRIC_ATTR_NAME)),
                domain == null ? null : Native.string(domain.get(JAVA_LONG, FiLayouts.DOMAIN_ATTR_NAME)),
                info.get(JAVA_LONG, FiLayouts.INFO_CAPS),
                mode,
                domain == null ? 0 : domain.get(JAVA_INT, FiLayouts.DOMAIN_ATTR_MR_MODE),
                info.get(JAVA_INT, FiLayouts.INFO_ADDR_FORMAT),
                tx == null ? 0 : tx.get(JAVA_LONG, FiLayouts.TX_SIZE),
                rx == null ? 0 : rx.get(JAVA_LONG, FiLayouts.RX_SIZE),
                ep == null ? 0 : ep.get(JAVA_LONG, FiLayouts.EP_ATTR_MAX_MSG_SIZE),
                domain == null ? 0 : domain.get(JAVA_LONG, FiLayouts.DOMAIN_ATTR_CQ_DATA_SIZE),
                domain == null ? 0 : domain.get(JAVA_INT, FiLayouts.DOMAIN_ATTR_DATA_PROGRESS),
                linkSpeed(info));
    }

    private static MemorySegment attr(MemorySegment info, long field, long size) {
        long p = info.get(JAVA_LONG, field);
        return p == 0 ? null : Native.view(p, size);
    }

    private static long linkSpeed(MemorySegment info) {
        MemorySegment nic = attr(info, FiLayouts.INFO_NIC, FiLayouts.FID_NIC.byteSize());
        if (nic == null) {
            return 0;
        }
        MemorySegment link = attr(nic, FiLayouts.NIC_LINK_ATTR, FiLayouts.FI_LINK_ATTR.byteSize());
        return link == null ? 0 : Math.max(0, link.get(JAVA_LONG, FiLayouts.LINK_SPEED));
    }

    boolean hasMode(long bit) {
        return (mode & bit) != 0;
    }

    boolean hasMrMode(int bit) {
        return (mrMode & bit) != 0;
    }

    /** One line for logs and DomainInfo.description(). */
    String describe() {
        return "provider=" + providerName + " fabric=" + fabricName + " domain=" + domainName
                + " mr_mode=0x" + Integer.toHexString(mrMode) + " mode=0x" + Long.toHexString(mode)
                + " caps=0x" + Long.toHexString(caps) + " addr_format=" + addrFormat + " tx=" + txSize
                + " rx=" + rxSize + " progress=" + (dataProgress == FiConst.Enum.FI_PROGRESS_MANUAL ? "manual" : "auto");
    }
}
