#include "netdev.h"

#include <errno.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util.h"

/* ---- a small rtnetlink client ---------------------------------------------------------------- */

/* Big enough for any reply of a dump: the kernel fills one skb of at most 32 KiB per recv(). */
enum { NL_BUFFER_SIZE = 64 * 1024 };

struct rtnl {
    int fd;
    uint32_t seq;
};

/* One request: netlink header, family header (ifinfomsg or ifaddrmsg), attributes. */
struct nl_request {
    union {
        struct nlmsghdr hdr;
        char bytes[512];
    };
};

static void nl_init(struct nl_request *req, uint16_t type, uint16_t flags, const void *family,
                    size_t family_len)
{
    memset(req, 0, sizeof(*req));
    req->hdr.nlmsg_len = NLMSG_LENGTH(family_len);
    req->hdr.nlmsg_type = type;
    req->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
    memcpy(NLMSG_DATA(&req->hdr), family, family_len);
}

static void nl_put(struct nl_request *req, uint16_t type, const void *data, size_t len)
{
    /* Never full: the attributes are a name (< IFNAMSIZ), an fd, flags, and at most six
     * addresses of <= 16 bytes (keep_address()), 200 bytes at most in all. */
    size_t at = NLMSG_ALIGN(req->hdr.nlmsg_len);
    if (at + RTA_SPACE(len) > sizeof(req->bytes))
        return;
    struct rtattr *rta = (struct rtattr *)(req->bytes + at);
    rta->rta_type = type;
    rta->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    req->hdr.nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
}

/* The kernel's explanation of a failed request (extended ack, NLMSGERR_ATTR_MSG), if any. */
static void nl_ack_message(const struct nlmsghdr *h, char *text, size_t size)
{
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return;
    const struct nlmsgerr *e = NLMSG_DATA(h);
    size_t offset = sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        offset += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
    if (NLMSG_LENGTH(offset) > h->nlmsg_len)
        return;
    int len = (int)(h->nlmsg_len - NLMSG_LENGTH(offset));
    for (struct rtattr *a = (struct rtattr *)((char *)e + NLMSG_ALIGN(offset)); RTA_OK(a, len);
         a = RTA_NEXT(a, len))
        if (a->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(a) > 0)
            snprintf(text, size, "%.*s", (int)RTA_PAYLOAD(a) - 1, (const char *)RTA_DATA(a));
}

typedef int (*nl_reply_fn)(struct nlmsghdr *h, void *data);

/* NLMSG_OK without its signed/unsigned comparison (clang's -Wsign-compare): a whole header, and
 * a message length that stays within the `len` bytes left. */
static bool message_fits(const struct nlmsghdr *h, int len)
{
    return len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= (unsigned)len;
}

/* Sends `req` and reads its replies (to `on_reply`, may be NULL) up to the ack, or NLMSG_DONE for
 * a dump. Returns 0 or a negative errno, the kernel's own message (if it gave one) in `why`. */
static int nl_transact(struct rtnl *nl, struct nl_request *req, nl_reply_fn on_reply, void *data,
                       char *why, size_t why_size)
{
    why[0] = '\0';
    req->hdr.nlmsg_seq = ++nl->seq;
    /* NLM_F_DUMP's bits mean NLM_F_EXCL and NLM_F_CREATE in a new-object request: only a GET
     * is a dump. Everything else asks for the ack that ends its replies. */
    bool get = req->hdr.nlmsg_type == RTM_GETLINK || req->hdr.nlmsg_type == RTM_GETADDR;
    if (!get || (req->hdr.nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
        req->hdr.nlmsg_flags |= NLM_F_ACK;
    ssize_t n;
    do
        n = send(nl->fd, &req->hdr, req->hdr.nlmsg_len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    _cleanup_free_ char *buf = malloc(NL_BUFFER_SIZE);
    if (buf == NULL)
        return -ENOMEM;
    for (;;) {
        do
            n = recv(nl->fd, buf, NL_BUFFER_SIZE, MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return -errno;
        if (n == 0 || n > NL_BUFFER_SIZE)
            return n == 0 ? -EPIPE : -EMSGSIZE;
        int len = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; message_fits(h, len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_seq != nl->seq)
                continue; /* a late reply to an earlier request */
            if (h->nlmsg_type == NLMSG_DONE) {
                int status = 0;
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                    memcpy(&status, NLMSG_DATA(h), sizeof(int));
                return status < 0 ? status : 0;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                    return -EPROTO;
                if (e->error < 0)
                    nl_ack_message(h, why, why_size);
                return e->error;
            }
            int rc = on_reply ? on_reply(h, data) : 0;
            if (rc < 0)
                return rc;
        }
    }
}

/* Extended acks carry the kernel's reason for a refusal; capped acks keep them small. The kernel
 * answers at once: a reply that never comes fails the create instead of hanging it. */
static void nl_configure(int fd)
{
    int on = 1;
    struct timeval timeout = {.tv_sec = 10};
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

/* " (kernel: why)" for messages, or "". */
static const char *because(const char *why, char *buf, size_t size)
{
    if (why[0] == '\0')
        return "";
    snprintf(buf, size, " (%s)", why);
    return buf;
}

/* ---- links ----------------------------------------------------------------------------------- */

struct link_info {
    int index;
    char name[IF_NAMESIZE];
};

static int take_link(struct nlmsghdr *h, void *data)
{
    struct link_info *info = data;
    if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return 0;
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    info->index = ifi->ifi_index;
    int len = IFLA_PAYLOAD(h);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_IFNAME)
            snprintf(info->name, sizeof(info->name), "%.*s", (int)RTA_PAYLOAD(a),
                     (const char *)RTA_DATA(a));
    return 0;
}

/* The link named `name` (or numbered `index` when name is NULL) in the socket's namespace. */
static int get_link(struct rtnl *nl, int index, const char *name, struct link_info *out, char *why,
                    size_t why_size)
{
    struct nl_request req;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = name ? 0 : index};
    nl_init(&req, RTM_GETLINK, 0, &ifi, sizeof(ifi));
    if (name)
        nl_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
    *out = (struct link_info){.index = 0};
    int rc = nl_transact(nl, &req, take_link, out, why, why_size);
    if (rc == 0 && out->index <= 0)
        rc = -ENODEV;
    return rc;
}

/* RTM_NEWLINK on an existing link: any of a new namespace, a new name, the up flag. */
static int set_link(struct rtnl *nl, int index, int netns_fd, const char *name, bool up, char *why,
                    size_t why_size)
{
    struct nl_request req;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = index,
                            .ifi_flags = up ? IFF_UP : 0,
                            .ifi_change = up ? IFF_UP : 0};
    nl_init(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    if (netns_fd >= 0) {
        uint32_t fd = (uint32_t)netns_fd;
        nl_put(&req, IFLA_NET_NS_FD, &fd, sizeof(fd));
    }
    if (name)
        nl_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
    return nl_transact(nl, &req, NULL, NULL, why, why_size);
}

/* ---- addresses ------------------------------------------------------------------------------- */

/* Flags a new address may be given; the others are the kernel's record of its state (tentative,
 * deprecated, secondary...). IFA_F_PERMANENT comes back by itself: no lifetime is given. */
#define ADDRESS_FLAGS_KEPT                                                                         \
    (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE |                \
     IFA_F_MCAUTOJOIN)

/* The RTM_NEWADDR requests that recreate a device's addresses in its new namespace. */
struct address_list {
    int ifindex;
    struct nl_request *items;
    size_t count;
};

/* config-linux.md: "The runtime MUST preserve ... all permanent IP addresses (IFA_F_PERMANENT
 * flag) of any family with global scope (RT_SCOPE_UNIVERSE)". A move to another namespace drops
 * every address of the device, so each is turned into the request that adds it again. */
static int keep_address(struct nlmsghdr *h, void *data)
{
    struct address_list *list = data;
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        return 0;
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if ((int)ifa->ifa_index != list->ifindex || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
        return 0;
    struct rtattr *attrs[IFA_MAX + 1] = {0};
    int len = IFA_PAYLOAD(h);
    for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type <= IFA_MAX)
            attrs[a->rta_type] = a;
    uint32_t flags = ifa->ifa_flags;
    if (attrs[IFA_FLAGS] && RTA_PAYLOAD(attrs[IFA_FLAGS]) >= sizeof(flags))
        memcpy(&flags, RTA_DATA(attrs[IFA_FLAGS]), sizeof(flags));
    if (!(flags & IFA_F_PERMANENT))
        return 0;

    struct nl_request *grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
    if (grown == NULL)
        return -ENOMEM;
    list->items = grown;
    struct nl_request *req = &list->items[list->count++];
    flags &= ADDRESS_FLAGS_KEPT;
    struct ifaddrmsg add = {.ifa_family = ifa->ifa_family,
                            .ifa_prefixlen = ifa->ifa_prefixlen,
                            .ifa_flags = (unsigned char)flags,
                            .ifa_scope = ifa->ifa_scope};
    nl_init(req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &add, sizeof(add));
    /* IFA_LABEL is left out: it must start with the device's name, which may change. */
    static const unsigned short copied[] = {IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_ANYCAST,
                                            IFA_RT_PRIORITY,
#ifdef IFA_PROTO
                                            IFA_PROTO,
#endif
    };
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
        struct rtattr *a = attrs[copied[i]];
        if (a && RTA_PAYLOAD(a) <= 16)
            nl_put(req, a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
    }
    nl_put(req, IFA_FLAGS, &flags, sizeof(flags));
    return 0;
}

static int dump_addresses(struct rtnl *nl, struct address_list *list, char *why, size_t why_size)
{
    struct nl_request req;
    struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
    nl_init(&req, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
    return nl_transact(nl, &req, keep_address, list, why, why_size);
}

/* ---- moving one device ----------------------------------------------------------------------- */

int netdev_check(const struct spec_linux *linux_, ctr_error **err)
{
    for (size_t i = 0; i < linux_->net_devices_count; i++) {
        const char *name = linux_->net_devices[i].host_name;
        if (if_nametoindex(name) == 0)
            return error_set(err, ENODEV,
                             "linux.netDevices[\"%s\"]: no such network interface on the host",
                             name);
    }
    return 0;
}

static int move_one(struct rtnl *host, struct rtnl *target, int netns_fd,
                    const struct spec_net_device *dev, ctr_error **err)
{
    char why[256], text[300];
    const char *label = dev->host_name;
    int index = (int)if_nametoindex(dev->host_name);
    if (index == 0)
        return error_set(err, ENODEV,
                         "linux.netDevices[\"%s\"]: no such network interface on the host", label);
    _cleanup_free_ struct nl_request *items = NULL;
    struct address_list addresses = {.ifindex = index};
    int rc = dump_addresses(host, &addresses, why, sizeof(why));
    items = addresses.items;
    if (rc < 0)
        return error_set(err, -rc, "linux.netDevices[\"%s\"]: list its addresses%s", label,
                         because(why, text, sizeof(text)));

    /* A "%d" template leaves the final name to the kernel, so the device is moved under a name
     * of ours first, found by it in the container's namespace, then renamed to the template. A
     * plain name is given with the move itself: taken there already, the move fails (EEXIST), as
     * the spec wants. */
    bool template = strchr(dev->name, '%') != NULL;
    char temporary[IF_NAMESIZE];
    if (template) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            return error_set(err, errno, "linux.netDevices[\"%s\"]: getrandom", label);
        snprintf(temporary, sizeof(temporary), "ctrmv%08x", r);
    }
    const char *moved_as = template ? temporary : dev->name;
    /* "The runtime MUST check if moving the network interface to the container namespace is
     * possible": the kernel renames a device after moving it, and a name taken there would fail
     * that rename with the device already gone from the host (a virtual one for good). */
    struct link_info link;
    if (!template && get_link(target, 0, dev->name, &link, why, sizeof(why)) == 0)
        return error_set(err, EEXIST,
                         "linux.netDevices[\"%s\"]: the container's network namespace has a `%s` "
                         "already",
                         label, dev->name);
    rc = set_link(host, index, netns_fd, moved_as, false, why, sizeof(why));
    if (rc < 0)
        return error_set(err, -rc,
                         "linux.netDevices[\"%s\"]: move into the container's network namespace "
                         "as `%s`%s",
                         label, dev->name, because(why, text, sizeof(text)));
    rc = get_link(target, 0, moved_as, &link, why, sizeof(why));
    if (rc < 0)
        return error_set(err, -rc, "linux.netDevices[\"%s\"]: find `%s` in the container%s", label,
                         moved_as, because(why, text, sizeof(text)));
    if (template && (rc = set_link(target, link.index, -1, dev->name, false, why, sizeof(why))) < 0)
        return error_set(err, -rc, "linux.netDevices[\"%s\"]: rename it `%s` in the container%s",
                         label, dev->name, because(why, text, sizeof(text)));

    for (size_t i = 0; i < addresses.count; i++) {
        struct ifaddrmsg *ifa = NLMSG_DATA(&items[i].hdr);
        ifa->ifa_index = (uint32_t)link.index;
        rc = nl_transact(target, &items[i], NULL, NULL, why, sizeof(why));
        if (rc < 0)
            return error_set(err, -rc, "linux.netDevices[\"%s\"]: add back its address %zu%s",
                             label, i, because(why, text, sizeof(text)));
    }
    /* "The runtime MUST set the network device state to "up" after moving it". */
    rc = set_link(target, link.index, -1, NULL, true, why, sizeof(why));
    if (rc < 0)
        return error_set(err, -rc, "linux.netDevices[\"%s\"]: set it up in the container%s", label,
                         because(why, text, sizeof(text)));
    return 0;
}

int netdev_move_all(const struct spec_linux *linux_, int netns_fd, int target_rtnl,
                    ctr_error **err)
{
    /* What the init handed over must be what it says: a network namespace, a route socket. */
    int domain = 0, protocol = 0;
    socklen_t len = sizeof(int);
    if (ioctl(netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET)
        return error_set(err, EPROTO, "linux.netDevices: the init sent no network namespace");
    if (getsockopt(target_rtnl, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        getsockopt(target_rtnl, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) < 0 ||
        domain != AF_NETLINK || protocol != NETLINK_ROUTE)
        return error_set(err, EPROTO, "linux.netDevices: the init sent no rtnetlink socket");
    struct rtnl target = {.fd = target_rtnl};
    _cleanup_close_ int host_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (host_fd < 0)
        return error_set(err, errno, "linux.netDevices: rtnetlink socket");
    struct rtnl host = {.fd = host_fd};
    nl_configure(host.fd);
    nl_configure(target.fd);
    for (size_t i = 0; i < linux_->net_devices_count; i++)
        if (move_one(&host, &target, netns_fd, &linux_->net_devices[i], err) < 0)
            return -1;
    return 0;
}
