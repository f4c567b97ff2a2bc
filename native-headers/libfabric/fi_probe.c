/*
 * Layout probe for transfer-efa's hand-written FFM bindings.
 *
 * Prints one "name=value" line for every sizeof, offsetof and constant the Java binding uses:
 *   sizeof.<struct>=N   offsetof.<struct>.<field>=N   const.<NAME>=N (unsigned decimal)
 * LibfabricLayoutTest compiles this with gcc against the installed headers and compares every line
 * with the Java layouts in dev.transferengine.efa.internal.FiLayouts and the constants in FiConst.
 * Build by hand: gcc -o fi_probe fi_probe.c && ./fi_probe
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#define SIZE(type, name) printf("sizeof.%s=%zu\n", name, sizeof(type))
#define OFF(type, name, field) printf("offsetof.%s.%s=%zu\n", name, #field, offsetof(type, field))
#define CONST(c) printf("const.%s=%llu\n", #c, (unsigned long long) (c))

static void fid_structs(void)
{
    SIZE(struct fid, "fid");
    OFF(struct fid, "fid", fclass); OFF(struct fid, "fid", context); OFF(struct fid, "fid", ops);

    SIZE(struct fi_ops, "fi_ops");
    OFF(struct fi_ops, "fi_ops", size); OFF(struct fi_ops, "fi_ops", close); OFF(struct fi_ops, "fi_ops", bind);
    OFF(struct fi_ops, "fi_ops", control); OFF(struct fi_ops, "fi_ops", ops_open);
    OFF(struct fi_ops, "fi_ops", tostr); OFF(struct fi_ops, "fi_ops", ops_set);

    SIZE(struct fid_fabric, "fid_fabric");
    OFF(struct fid_fabric, "fid_fabric", fid); OFF(struct fid_fabric, "fid_fabric", ops);
    OFF(struct fid_fabric, "fid_fabric", api_version);

    SIZE(struct fi_ops_fabric, "fi_ops_fabric");
    OFF(struct fi_ops_fabric, "fi_ops_fabric", size); OFF(struct fi_ops_fabric, "fi_ops_fabric", domain);
    OFF(struct fi_ops_fabric, "fi_ops_fabric", passive_ep); OFF(struct fi_ops_fabric, "fi_ops_fabric", eq_open);
    OFF(struct fi_ops_fabric, "fi_ops_fabric", wait_open); OFF(struct fi_ops_fabric, "fi_ops_fabric", trywait);
    OFF(struct fi_ops_fabric, "fi_ops_fabric", domain2);

    SIZE(struct fid_domain, "fid_domain");
    OFF(struct fid_domain, "fid_domain", fid); OFF(struct fid_domain, "fid_domain", ops);
    OFF(struct fid_domain, "fid_domain", mr);

    SIZE(struct fi_ops_domain, "fi_ops_domain");
    OFF(struct fi_ops_domain, "fi_ops_domain", size); OFF(struct fi_ops_domain, "fi_ops_domain", av_open);
    OFF(struct fi_ops_domain, "fi_ops_domain", cq_open); OFF(struct fi_ops_domain, "fi_ops_domain", endpoint);
    OFF(struct fi_ops_domain, "fi_ops_domain", scalable_ep); OFF(struct fi_ops_domain, "fi_ops_domain", cntr_open);
    OFF(struct fi_ops_domain, "fi_ops_domain", poll_open); OFF(struct fi_ops_domain, "fi_ops_domain", stx_ctx);
    OFF(struct fi_ops_domain, "fi_ops_domain", srx_ctx); OFF(struct fi_ops_domain, "fi_ops_domain", query_atomic);
    OFF(struct fi_ops_domain, "fi_ops_domain", query_collective);
    OFF(struct fi_ops_domain, "fi_ops_domain", endpoint2);

    SIZE(struct fi_ops_mr, "fi_ops_mr");
    OFF(struct fi_ops_mr, "fi_ops_mr", size); OFF(struct fi_ops_mr, "fi_ops_mr", reg);
    OFF(struct fi_ops_mr, "fi_ops_mr", regv); OFF(struct fi_ops_mr, "fi_ops_mr", regattr);

    SIZE(struct fid_ep, "fid_ep");
    OFF(struct fid_ep, "fid_ep", fid); OFF(struct fid_ep, "fid_ep", ops); OFF(struct fid_ep, "fid_ep", cm);
    OFF(struct fid_ep, "fid_ep", msg); OFF(struct fid_ep, "fid_ep", rma); OFF(struct fid_ep, "fid_ep", tagged);
    OFF(struct fid_ep, "fid_ep", atomic); OFF(struct fid_ep, "fid_ep", collective);

    SIZE(struct fi_ops_cm, "fi_ops_cm");
    OFF(struct fi_ops_cm, "fi_ops_cm", size); OFF(struct fi_ops_cm, "fi_ops_cm", setname);
    OFF(struct fi_ops_cm, "fi_ops_cm", getname); OFF(struct fi_ops_cm, "fi_ops_cm", getpeer);
    OFF(struct fi_ops_cm, "fi_ops_cm", connect); OFF(struct fi_ops_cm, "fi_ops_cm", listen);
    OFF(struct fi_ops_cm, "fi_ops_cm", accept); OFF(struct fi_ops_cm, "fi_ops_cm", reject);
    OFF(struct fi_ops_cm, "fi_ops_cm", shutdown); OFF(struct fi_ops_cm, "fi_ops_cm", join);

    SIZE(struct fi_ops_msg, "fi_ops_msg");
    OFF(struct fi_ops_msg, "fi_ops_msg", size); OFF(struct fi_ops_msg, "fi_ops_msg", recv);
    OFF(struct fi_ops_msg, "fi_ops_msg", recvv); OFF(struct fi_ops_msg, "fi_ops_msg", recvmsg);
    OFF(struct fi_ops_msg, "fi_ops_msg", send); OFF(struct fi_ops_msg, "fi_ops_msg", sendv);
    OFF(struct fi_ops_msg, "fi_ops_msg", sendmsg); OFF(struct fi_ops_msg, "fi_ops_msg", inject);
    OFF(struct fi_ops_msg, "fi_ops_msg", senddata); OFF(struct fi_ops_msg, "fi_ops_msg", injectdata);

    SIZE(struct fi_ops_rma, "fi_ops_rma");
    OFF(struct fi_ops_rma, "fi_ops_rma", size); OFF(struct fi_ops_rma, "fi_ops_rma", read);
    OFF(struct fi_ops_rma, "fi_ops_rma", readv); OFF(struct fi_ops_rma, "fi_ops_rma", readmsg);
    OFF(struct fi_ops_rma, "fi_ops_rma", write); OFF(struct fi_ops_rma, "fi_ops_rma", writev);
    OFF(struct fi_ops_rma, "fi_ops_rma", writemsg); OFF(struct fi_ops_rma, "fi_ops_rma", inject);
    OFF(struct fi_ops_rma, "fi_ops_rma", writedata); OFF(struct fi_ops_rma, "fi_ops_rma", injectdata);

    SIZE(struct fid_mr, "fid_mr");
    OFF(struct fid_mr, "fid_mr", fid); OFF(struct fid_mr, "fid_mr", mem_desc); OFF(struct fid_mr, "fid_mr", key);

    SIZE(struct fid_av, "fid_av");
    OFF(struct fid_av, "fid_av", fid); OFF(struct fid_av, "fid_av", ops);

    SIZE(struct fi_ops_av, "fi_ops_av");
    OFF(struct fi_ops_av, "fi_ops_av", size); OFF(struct fi_ops_av, "fi_ops_av", insert);
    OFF(struct fi_ops_av, "fi_ops_av", insertsvc); OFF(struct fi_ops_av, "fi_ops_av", insertsym);
    OFF(struct fi_ops_av, "fi_ops_av", remove); OFF(struct fi_ops_av, "fi_ops_av", lookup);
    OFF(struct fi_ops_av, "fi_ops_av", straddr); OFF(struct fi_ops_av, "fi_ops_av", av_set);

    SIZE(struct fid_cq, "fid_cq");
    OFF(struct fid_cq, "fid_cq", fid); OFF(struct fid_cq, "fid_cq", ops);

    SIZE(struct fi_ops_cq, "fi_ops_cq");
    OFF(struct fi_ops_cq, "fi_ops_cq", size); OFF(struct fi_ops_cq, "fi_ops_cq", read);
    OFF(struct fi_ops_cq, "fi_ops_cq", readfrom); OFF(struct fi_ops_cq, "fi_ops_cq", readerr);
    OFF(struct fi_ops_cq, "fi_ops_cq", sread); OFF(struct fi_ops_cq, "fi_ops_cq", sreadfrom);
    OFF(struct fi_ops_cq, "fi_ops_cq", signal); OFF(struct fi_ops_cq, "fi_ops_cq", strerror);

    SIZE(struct fid_nic, "fid_nic");
    OFF(struct fid_nic, "fid_nic", fid); OFF(struct fid_nic, "fid_nic", device_attr);
    OFF(struct fid_nic, "fid_nic", bus_attr); OFF(struct fid_nic, "fid_nic", link_attr);
    OFF(struct fid_nic, "fid_nic", prov_attr);
}

static void attr_structs(void)
{
    SIZE(struct fi_info, "fi_info");
    OFF(struct fi_info, "fi_info", next); OFF(struct fi_info, "fi_info", caps); OFF(struct fi_info, "fi_info", mode);
    OFF(struct fi_info, "fi_info", addr_format); OFF(struct fi_info, "fi_info", src_addrlen);
    OFF(struct fi_info, "fi_info", dest_addrlen); OFF(struct fi_info, "fi_info", src_addr);
    OFF(struct fi_info, "fi_info", dest_addr); OFF(struct fi_info, "fi_info", handle);
    OFF(struct fi_info, "fi_info", tx_attr); OFF(struct fi_info, "fi_info", rx_attr);
    OFF(struct fi_info, "fi_info", ep_attr); OFF(struct fi_info, "fi_info", domain_attr);
    OFF(struct fi_info, "fi_info", fabric_attr); OFF(struct fi_info, "fi_info", nic);

    SIZE(struct fi_tx_attr, "fi_tx_attr");
    OFF(struct fi_tx_attr, "fi_tx_attr", caps); OFF(struct fi_tx_attr, "fi_tx_attr", mode);
    OFF(struct fi_tx_attr, "fi_tx_attr", op_flags); OFF(struct fi_tx_attr, "fi_tx_attr", msg_order);
    OFF(struct fi_tx_attr, "fi_tx_attr", comp_order); OFF(struct fi_tx_attr, "fi_tx_attr", inject_size);
    OFF(struct fi_tx_attr, "fi_tx_attr", size); OFF(struct fi_tx_attr, "fi_tx_attr", iov_limit);
    OFF(struct fi_tx_attr, "fi_tx_attr", rma_iov_limit); OFF(struct fi_tx_attr, "fi_tx_attr", tclass);

    SIZE(struct fi_rx_attr, "fi_rx_attr");
    OFF(struct fi_rx_attr, "fi_rx_attr", caps); OFF(struct fi_rx_attr, "fi_rx_attr", mode);
    OFF(struct fi_rx_attr, "fi_rx_attr", op_flags); OFF(struct fi_rx_attr, "fi_rx_attr", msg_order);
    OFF(struct fi_rx_attr, "fi_rx_attr", comp_order); OFF(struct fi_rx_attr, "fi_rx_attr", total_buffered_recv);
    OFF(struct fi_rx_attr, "fi_rx_attr", size); OFF(struct fi_rx_attr, "fi_rx_attr", iov_limit);

    SIZE(struct fi_ep_attr, "fi_ep_attr");
    OFF(struct fi_ep_attr, "fi_ep_attr", type); OFF(struct fi_ep_attr, "fi_ep_attr", protocol);
    OFF(struct fi_ep_attr, "fi_ep_attr", protocol_version); OFF(struct fi_ep_attr, "fi_ep_attr", max_msg_size);
    OFF(struct fi_ep_attr, "fi_ep_attr", msg_prefix_size); OFF(struct fi_ep_attr, "fi_ep_attr", max_order_raw_size);
    OFF(struct fi_ep_attr, "fi_ep_attr", max_order_war_size); OFF(struct fi_ep_attr, "fi_ep_attr", max_order_waw_size);
    OFF(struct fi_ep_attr, "fi_ep_attr", mem_tag_format); OFF(struct fi_ep_attr, "fi_ep_attr", tx_ctx_cnt);
    OFF(struct fi_ep_attr, "fi_ep_attr", rx_ctx_cnt); OFF(struct fi_ep_attr, "fi_ep_attr", auth_key_size);
    OFF(struct fi_ep_attr, "fi_ep_attr", auth_key);

    SIZE(struct fi_domain_attr, "fi_domain_attr");
    OFF(struct fi_domain_attr, "fi_domain_attr", domain); OFF(struct fi_domain_attr, "fi_domain_attr", name);
    OFF(struct fi_domain_attr, "fi_domain_attr", threading);
    OFF(struct fi_domain_attr, "fi_domain_attr", control_progress);
    OFF(struct fi_domain_attr, "fi_domain_attr", data_progress);
    OFF(struct fi_domain_attr, "fi_domain_attr", resource_mgmt); OFF(struct fi_domain_attr, "fi_domain_attr", av_type);
    OFF(struct fi_domain_attr, "fi_domain_attr", mr_mode); OFF(struct fi_domain_attr, "fi_domain_attr", mr_key_size);
    OFF(struct fi_domain_attr, "fi_domain_attr", cq_data_size); OFF(struct fi_domain_attr, "fi_domain_attr", cq_cnt);
    OFF(struct fi_domain_attr, "fi_domain_attr", ep_cnt); OFF(struct fi_domain_attr, "fi_domain_attr", tx_ctx_cnt);
    OFF(struct fi_domain_attr, "fi_domain_attr", rx_ctx_cnt);
    OFF(struct fi_domain_attr, "fi_domain_attr", max_ep_tx_ctx);
    OFF(struct fi_domain_attr, "fi_domain_attr", max_ep_rx_ctx);
    OFF(struct fi_domain_attr, "fi_domain_attr", max_ep_stx_ctx);
    OFF(struct fi_domain_attr, "fi_domain_attr", max_ep_srx_ctx);
    OFF(struct fi_domain_attr, "fi_domain_attr", cntr_cnt); OFF(struct fi_domain_attr, "fi_domain_attr", mr_iov_limit);
    OFF(struct fi_domain_attr, "fi_domain_attr", caps); OFF(struct fi_domain_attr, "fi_domain_attr", mode);
    OFF(struct fi_domain_attr, "fi_domain_attr", auth_key);
    OFF(struct fi_domain_attr, "fi_domain_attr", auth_key_size);
    OFF(struct fi_domain_attr, "fi_domain_attr", max_err_data); OFF(struct fi_domain_attr, "fi_domain_attr", mr_cnt);
    OFF(struct fi_domain_attr, "fi_domain_attr", tclass);

    SIZE(struct fi_fabric_attr, "fi_fabric_attr");
    OFF(struct fi_fabric_attr, "fi_fabric_attr", fabric); OFF(struct fi_fabric_attr, "fi_fabric_attr", name);
    OFF(struct fi_fabric_attr, "fi_fabric_attr", prov_name);
    OFF(struct fi_fabric_attr, "fi_fabric_attr", prov_version);
    OFF(struct fi_fabric_attr, "fi_fabric_attr", api_version);

    SIZE(struct fi_link_attr, "fi_link_attr");
    OFF(struct fi_link_attr, "fi_link_attr", address); OFF(struct fi_link_attr, "fi_link_attr", mtu);
    OFF(struct fi_link_attr, "fi_link_attr", speed); OFF(struct fi_link_attr, "fi_link_attr", state);
    OFF(struct fi_link_attr, "fi_link_attr", network_type);

    SIZE(struct fi_av_attr, "fi_av_attr");
    OFF(struct fi_av_attr, "fi_av_attr", type); OFF(struct fi_av_attr, "fi_av_attr", rx_ctx_bits);
    OFF(struct fi_av_attr, "fi_av_attr", count); OFF(struct fi_av_attr, "fi_av_attr", ep_per_node);
    OFF(struct fi_av_attr, "fi_av_attr", name); OFF(struct fi_av_attr, "fi_av_attr", map_addr);
    OFF(struct fi_av_attr, "fi_av_attr", flags);

    SIZE(struct fi_cq_attr, "fi_cq_attr");
    OFF(struct fi_cq_attr, "fi_cq_attr", size); OFF(struct fi_cq_attr, "fi_cq_attr", flags);
    OFF(struct fi_cq_attr, "fi_cq_attr", format); OFF(struct fi_cq_attr, "fi_cq_attr", wait_obj);
    OFF(struct fi_cq_attr, "fi_cq_attr", signaling_vector); OFF(struct fi_cq_attr, "fi_cq_attr", wait_cond);
    OFF(struct fi_cq_attr, "fi_cq_attr", wait_set);
}

static void message_structs(void)
{
    SIZE(struct fi_cq_data_entry, "fi_cq_data_entry");
    OFF(struct fi_cq_data_entry, "fi_cq_data_entry", op_context);
    OFF(struct fi_cq_data_entry, "fi_cq_data_entry", flags); OFF(struct fi_cq_data_entry, "fi_cq_data_entry", len);
    OFF(struct fi_cq_data_entry, "fi_cq_data_entry", buf); OFF(struct fi_cq_data_entry, "fi_cq_data_entry", data);

    SIZE(struct fi_cq_err_entry, "fi_cq_err_entry");
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", op_context); OFF(struct fi_cq_err_entry, "fi_cq_err_entry", flags);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", len); OFF(struct fi_cq_err_entry, "fi_cq_err_entry", buf);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", data); OFF(struct fi_cq_err_entry, "fi_cq_err_entry", tag);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", olen); OFF(struct fi_cq_err_entry, "fi_cq_err_entry", err);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", prov_errno);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", err_data);
    OFF(struct fi_cq_err_entry, "fi_cq_err_entry", err_data_size);

    SIZE(struct fi_msg, "fi_msg");
    OFF(struct fi_msg, "fi_msg", msg_iov); OFF(struct fi_msg, "fi_msg", desc); OFF(struct fi_msg, "fi_msg", iov_count);
    OFF(struct fi_msg, "fi_msg", addr); OFF(struct fi_msg, "fi_msg", context); OFF(struct fi_msg, "fi_msg", data);

    SIZE(struct fi_msg_rma, "fi_msg_rma");
    OFF(struct fi_msg_rma, "fi_msg_rma", msg_iov); OFF(struct fi_msg_rma, "fi_msg_rma", desc);
    OFF(struct fi_msg_rma, "fi_msg_rma", iov_count); OFF(struct fi_msg_rma, "fi_msg_rma", addr);
    OFF(struct fi_msg_rma, "fi_msg_rma", rma_iov); OFF(struct fi_msg_rma, "fi_msg_rma", rma_iov_count);
    OFF(struct fi_msg_rma, "fi_msg_rma", context); OFF(struct fi_msg_rma, "fi_msg_rma", data);

    SIZE(struct fi_rma_iov, "fi_rma_iov");
    OFF(struct fi_rma_iov, "fi_rma_iov", addr); OFF(struct fi_rma_iov, "fi_rma_iov", len);
    OFF(struct fi_rma_iov, "fi_rma_iov", key);

    SIZE(struct fi_mr_attr, "fi_mr_attr");
    OFF(struct fi_mr_attr, "fi_mr_attr", mr_iov); OFF(struct fi_mr_attr, "fi_mr_attr", iov_count);
    OFF(struct fi_mr_attr, "fi_mr_attr", access); OFF(struct fi_mr_attr, "fi_mr_attr", offset);
    OFF(struct fi_mr_attr, "fi_mr_attr", requested_key); OFF(struct fi_mr_attr, "fi_mr_attr", context);
    OFF(struct fi_mr_attr, "fi_mr_attr", auth_key_size); OFF(struct fi_mr_attr, "fi_mr_attr", auth_key);
    OFF(struct fi_mr_attr, "fi_mr_attr", iface); OFF(struct fi_mr_attr, "fi_mr_attr", device);
    /* the union's members all start at its first byte; the binding writes the CUDA ordinal there as an int */
    _Static_assert(offsetof(struct fi_mr_attr, device.cuda) == offsetof(struct fi_mr_attr, device),
                   "device.cuda at the start of the union");
    _Static_assert(sizeof(((struct fi_mr_attr *) 0)->device.cuda) == 4, "device.cuda is an int");
    _Static_assert(sizeof(((struct fi_mr_attr *) 0)->iface) == 4, "enum fi_hmem_iface is 4 bytes");

    SIZE(struct iovec, "iovec");
    OFF(struct iovec, "iovec", iov_base); OFF(struct iovec, "iovec", iov_len);

    SIZE(struct fi_context, "fi_context");
    SIZE(struct fi_context2, "fi_context2");
}

static void libc_structs(void)
{
    SIZE(struct sigaction, "sigaction");
    printf("offsetof.sigaction.sa_handler=%zu\n", offsetof(struct sigaction, sa_handler));
    OFF(struct sigaction, "sigaction", sa_mask); OFF(struct sigaction, "sigaction", sa_flags);
    OFF(struct sigaction, "sigaction", sa_restorer);

    SIZE(Dl_info, "Dl_info");
    OFF(Dl_info, "Dl_info", dli_fname); OFF(Dl_info, "Dl_info", dli_fbase);
    OFF(Dl_info, "Dl_info", dli_sname); OFF(Dl_info, "Dl_info", dli_saddr);
}

static void constants(void)
{
    CONST(FI_MAJOR_VERSION); CONST(FI_MINOR_VERSION);
    /* capability bits (fi_info.caps) */
    CONST(FI_MSG); CONST(FI_RMA); CONST(FI_READ); CONST(FI_WRITE); CONST(FI_RECV); CONST(FI_SEND);
    CONST(FI_TRANSMIT); CONST(FI_REMOTE_READ); CONST(FI_REMOTE_WRITE); CONST(FI_HMEM); CONST(FI_HMEM_DEVICE_ONLY); CONST(FI_SOURCE);
    CONST(FI_LOCAL_COMM); CONST(FI_REMOTE_COMM);
    /* completion and operation flags */
    CONST(FI_REMOTE_CQ_DATA); CONST(FI_COMPLETION); CONST(FI_DELIVERY_COMPLETE); CONST(FI_TRANSMIT_COMPLETE);
    CONST(FI_MULTI_RECV);
    /* mode bits */
    CONST(FI_CONTEXT); CONST(FI_CONTEXT2); CONST(FI_RX_CQ_DATA); CONST(FI_LOCAL_MR); CONST(FI_MSG_PREFIX);
    CONST(FI_ASYNC_IOV); CONST(FI_BUFFERED_RECV);
    /* mr_mode bits */
    CONST(FI_MR_LOCAL); CONST(FI_MR_RAW); CONST(FI_MR_VIRT_ADDR); CONST(FI_MR_ALLOCATED); CONST(FI_MR_PROV_KEY);
    CONST(FI_MR_MMU_NOTIFY); CONST(FI_MR_RMA_EVENT); CONST(FI_MR_ENDPOINT); CONST(FI_MR_HMEM);
    /* enums */
    CONST(FI_EP_RDM); CONST(FI_CQ_FORMAT_DATA); CONST(FI_AV_UNSPEC); CONST(FI_AV_MAP); CONST(FI_AV_TABLE);
    CONST(FI_PROGRESS_AUTO); CONST(FI_PROGRESS_MANUAL); CONST(FI_THREAD_DOMAIN); CONST(FI_THREAD_SAFE);
    CONST(FI_WAIT_NONE); CONST(FI_ENABLE);
    CONST(FI_SOCKADDR_IN); CONST(FI_SOCKADDR_IN6); CONST(FI_ADDR_STR); CONST(FI_ADDR_EFA);
    CONST(FI_ADDR_UNSPEC);
    CONST(FI_TYPE_INFO);
    CONST(FI_HMEM_SYSTEM); CONST(FI_HMEM_CUDA);
    /* errors (libfabric returns them negated) */
    CONST(FI_EPERM); CONST(FI_ENOENT); CONST(FI_EIO); CONST(FI_EAGAIN); CONST(FI_EACCES); CONST(FI_EFAULT);
    CONST(FI_EINVAL); CONST(FI_ENOSYS); CONST(FI_ENODATA); CONST(FI_EOPNOTSUPP); CONST(FI_ECONNABORTED);
    CONST(FI_ECONNRESET); CONST(FI_ENOTCONN); CONST(FI_ETIMEDOUT); CONST(FI_ECONNREFUSED); CONST(FI_EHOSTUNREACH);
    CONST(FI_ECANCELED); CONST(FI_EREMOTEIO); CONST(FI_EKEYREJECTED); CONST(FI_EAVAIL); CONST(FI_ETRUNC);
    CONST(FI_ENOKEY); CONST(FI_EOVERRUN);
    /* libc */
    CONST(SIGSEGV); CONST(SIGBUS); CONST(SIGILL); CONST(SIGFPE); CONST(SIGABRT); CONST(SIGINT); CONST(SIGTERM);
    CONST(SIGHUP); CONST(SIGQUIT);
}

int main(void)
{
    fid_structs();
    attr_structs();
    message_structs();
    libc_structs();
    constants();
    return 0;
}
