/* config.json parsing and validation (libctr/spec*.c).
 *
 * Configs are written with single quotes, which dq() turns into double quotes, so that the JSON
 * reads as JSON here. Bad configs are either a whole document or a patch merged into a minimal
 * valid one; each must fail with exactly the expected one-line message, JSON path included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include <seccomp.h>

#include "spec.h"

#define BASE "{'ociVersion': '1.2.0', 'root': {'path': 'rootfs'}}"

/* ---- helpers ------------------------------------------------------------------------------------- */

static char *dq(const char *json)
{
    char *text = strdup(json);
    assert_non_null(text);
    for (char *p = text; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    return text;
}

static struct ctr_spec *load_ok(const char *json)
{
    char *text = dq(json);
    struct ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    if (ctr_spec_load_data(text, strlen(text), "config.json", &spec, &err) < 0) {
        print_error("unexpected error: %s\n", ctr_error_message(err));
        ctr_error_free(err);
        free(text);
        fail();
    }
    free(text);
    return spec;
}

/* The base document with `patch` merged in (objects merge, everything else is replaced). */
static char *patched(const char *patch)
{
    char *base_text = dq(BASE), *patch_text = dq(patch);
    json_error_t jerr;
    json_t *base = json_loads(base_text, 0, &jerr), *extra = json_loads(patch_text, 0, &jerr);
    if (extra == NULL)
        fail_msg("bad patch in the test: %s: %s", patch, jerr.text);
    assert_non_null(base);
    assert_int_equal(json_object_update_recursive(base, extra), 0);
    char *text = json_dumps(base, 0);
    assert_non_null(text);
    json_decref(base);
    json_decref(extra);
    free(base_text);
    free(patch_text);
    return text;
}

/* ---- (a) a config that sets every field ---------------------------------------------------------- */

static const char full_config[] =
    "{"
    " 'ociVersion': '1.2.0',"
    " 'root': {'path': 'rootfs', 'readonly': true},"
    " 'hostname': 'box', 'domainname': 'example.test',"
    " 'process': {"
    "  'terminal': true,"
    "  'consoleSize': {'height': 25, 'width': 80},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6]},"
    "  'args': ['sh', '-c', 'true'],"
    "  'env': ['PATH=/bin', 'TERM=xterm', 'EMPTY='],"
    "  'cwd': '/root',"
    "  'capabilities': {"
    "   'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
    "   'effective': ['CAP_KILL'],"
    "   'inheritable': ['CAP_CHOWN'],"
    "   'permitted': ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHECKPOINT_RESTORE'],"
    "   'ambient': ['CAP_NET_BIND_SERVICE']"
    "  },"
    "  'rlimits': ["
    "   {'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 4096},"
    "   {'type': 'RLIMIT_MEMLOCK', 'soft': 18446744073709551615, 'hard': 18446744073709551615}"
    "  ],"
    "  'noNewPrivileges': true,"
    "  'oomScoreAdj': -500,"
    "  'apparmorProfile': 'acme',"
    "  'selinuxLabel': 'system_u:system_r:container_t:s0',"
    "  'scheduler': {'policy': 'SCHED_DEADLINE', 'nice': -5, 'priority': 3,"
    "                'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM'],"
    "                'runtime': 10000, 'deadline': 20000, 'period': 30000},"
    "  'ioPriority': {'class': 'IOPRIO_CLASS_IDLE', 'priority': 4},"
    "  'execCPUAffinity': {'initial': '7', 'final': '0-3,7'}"
    " },"
    " 'mounts': ["
    "  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    "  {'destination': 'tmp//./../data/', 'type': 'none', 'source': '/volumes/data',"
    "   'options': ['rbind', 'rro', 'rprivate', 'idmap'],"
    "   'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "   'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 1000}]},"
    "  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k', 'tmpcopyup']}"
    " ],"
    " 'hooks': {"
    "  'prestart': [{'path': '/usr/bin/prestart'}],"
    "  'createRuntime': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'arg1'],"
    "                     'env': ['key1=value1'], 'timeout': 5}],"
    "  'createContainer': [{'path': '/usr/bin/mount-hook'}],"
    "  'startContainer': [{'path': '/usr/bin/refresh-ldcache'}],"
    "  'poststart': [{'path': '/usr/bin/notify-start', 'timeout': 1}],"
    "  'poststop': [{'path': '/usr/sbin/cleanup.sh', 'args': ['cleanup.sh', '-f']},"
    "               {'path': '/bin/true'}]"
    " },"
    " 'annotations': {'com.example.key': 'value', 'org.opencontainers.image.os': 'linux'},"
    " 'linux': {"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},"
    "                 {'type': 'mount'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'},"
    "                 {'type': 'cgroup'}, {'type': 'time'}],"
    "  'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 32000}],"
    "  'gidMappings': [{'containerID': 0, 'hostID': 2000, 'size': 16000},"
    "                  {'containerID': 16000, 'hostID': 50000, 'size': 10}],"
    "  'timeOffsets': {'monotonic': {'secs': 172800, 'nanosecs': 0},"
    "                  'boottime': {'secs': -86400, 'nanosecs': 999999999}},"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
    "               'fileMode': 438, 'uid': 0, 'gid': 5},"
    "              {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},"
    "              {'path': '/dev/pipe', 'type': 'p'},"
    "              {'path': '/dev/u', 'type': 'u', 'major': 1, 'minor': 3}],"
    "  'netDevices': {'eth0': {'name': 'ctr0'}, 'eth1': {}},"
    "  'cgroupsPath': '/myRuntime/myContainer',"
    "  'resources': {"
    "   'devices': [{'allow': false, 'access': 'rwm'},"
    "               {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'wr'},"
    "               {'allow': true, 'type': 'b', 'major': -1, 'minor': 0, 'access': 'm'}],"
    "   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': -1, 'kernel': 0,"
    "              'kernelTCP': 1024, 'swappiness': 60, 'disableOOMKiller': true,"
    "              'useHierarchy': false, 'checkBeforeUpdate': true},"
    "   'cpu': {'shares': 1024, 'quota': 1000000, 'burst': 500000, 'period': 500000,"
    "           'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '2-3',"
    "           'mems': '0-7', 'idle': 1},"
    "   'blockIO': {'weight': 10, 'leafWeight': 20,"
    "               'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 300},"
    "                                {'major': 8, 'minor': 16, 'weight': 500}],"
    "               'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],"
    "               'throttleWriteBpsDevice': [{'major': 8, 'minor': 1, 'rate': 700}],"
    "               'throttleReadIOPSDevice': [{'major': 8, 'minor': 2, 'rate': 800}],"
    "               'throttleWriteIOPSDevice': [{'major': 8, 'minor': 16, 'rate': 300}]},"
    "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200},"
    "                      {'pageSize': '64KB', 'limit': 1000000}],"
    "   'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},"
    "                                                  {'name': 'eth1', 'priority': 1000}]},"
    "   'pids': {'limit': 32771},"
    "   'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000}, 'mlx4_0': {'hcaObjects': 1000}},"
    "   'unified': {'io.max': '259:0 rbps=2097152 wiops=120', 'hugetlb.1GB.max': '1073741824'}"
    "  },"
    "  'rootfsPropagation': 'rslave',"
    "  'maskedPaths': ['/proc/kcore', '/proc/keys'],"
    "  'readonlyPaths': ['/proc/sys'],"
    "  'mountLabel': 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811',"
    "  'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.shmmax': '4096',"
    "             'kernel.hostname': 'h', 'fs.mqueue.queues_max': '256'},"
    "  'seccomp': {"
    "   'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
    "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],"
    "   'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG',"
    "             'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
    "   'listenerPath': '/run/seccomp.sock', 'listenerMetadata': 'MKNOD=/dev/null',"
    "   'syscalls': ["
    "    {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
    "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
    "              {'index': 5, 'value': 18446744073709551615, 'valueTwo': 255,"
    "               'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "    {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
    "    {'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE'},"
    "    {'names': ['mknod'], 'action': 'SCMP_ACT_NOTIFY'},"
    "    {'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
    "    {'names': ['brk'], 'action': 'SCMP_ACT_LOG'},"
    "    {'names': ['bpf'], 'action': 'SCMP_ACT_KILL'},"
    "    {'names': ['clone3'], 'action': 'SCMP_ACT_TRAP'},"
    "    {'names': ['open_tree'], 'action': 'SCMP_ACT_KILL_THREAD'}"
    "   ]"
    "  },"
    "  'personality': {'domain': 'LINUX32', 'flags': []},"
    "  'intelRdt': {'closID': 'guaranteed_group', 'l3CacheSchema': 'L3:0=7f0;1=1f',"
    "               'memBwSchema': 'MB:0=20;1=70', 'schemata': ['L2:0=f;1=f', 'L3:0=ff'],"
    "               'enableMonitoring': true},"
    "  'memoryPolicy': {'mode': 'MPOL_INTERLEAVE', 'nodes': '2-3',"
    "                   'flags': ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING']}"
    " }"
    "}";

#define CAP(n) (UINT64_C(1) << (n))

static void assert_strings(const struct string_list *list, size_t count, const char *const *expected)
{
    assert_int_equal(list->count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(list->items[i], expected[i]);
    assert_null(list->items[count]);
}

static void check_full_process(const struct spec_process *p)
{
    assert_true(p->terminal);
    assert_true(p->has_console_size);
    assert_int_equal(p->console_height, 25);
    assert_int_equal(p->console_width, 80);
    assert_int_equal(p->user.uid, 1000);
    assert_int_equal(p->user.gid, 1001);
    assert_true(p->user.umask.set);
    assert_int_equal(p->user.umask.value, 022);
    assert_int_equal(p->user.additional_gids_count, 2);
    assert_int_equal(p->user.additional_gids[0], 5);
    assert_int_equal(p->user.additional_gids[1], 6);
    assert_strings(&p->args, 3, (const char *const[]){"sh", "-c", "true"});
    assert_strings(&p->env, 3, (const char *const[]){"PATH=/bin", "TERM=xterm", "EMPTY="});
    assert_string_equal(p->cwd, "/root");

    const struct spec_capabilities *c = &p->capabilities;
    assert_true(p->has_capabilities);
    assert_true(c->has_bounding && c->has_effective && c->has_inheritable && c->has_permitted &&
                c->has_ambient);
    assert_int_equal(c->bounding, CAP(29) | CAP(5) | CAP(10)); /* AUDIT_WRITE, KILL, NET_BIND_SERVICE */
    assert_int_equal(c->effective, CAP(5));
    assert_int_equal(c->inheritable, CAP(0));
    assert_int_equal(c->permitted, CAP(5) | CAP(10) | CAP(40));
    assert_int_equal(c->ambient, CAP(10));

    assert_int_equal(p->rlimits_count, 2);
    assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(p->rlimits[0].soft, 1024);
    assert_int_equal(p->rlimits[0].hard, 4096);
    assert_int_equal(p->rlimits[1].resource, RLIMIT_MEMLOCK);
    assert_true(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX);
    assert_true(p->no_new_privileges);
    assert_true(p->oom_score_adj.set);
    assert_int_equal(p->oom_score_adj.value, -500);
    assert_string_equal(p->apparmor_profile, "acme");
    assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");

    assert_true(p->scheduler.set);
    assert_int_equal(p->scheduler.policy, SCHED_DEADLINE);
    assert_int_equal(p->scheduler.nice, -5);
    assert_int_equal(p->scheduler.priority, 3);
    assert_int_equal(p->scheduler.flags, SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_RECLAIM);
    assert_int_equal(p->scheduler.runtime, 10000);
    assert_int_equal(p->scheduler.deadline, 20000);
    assert_int_equal(p->scheduler.period, 30000);
    assert_true(p->io_priority.set);
    assert_int_equal(p->io_priority.class, IOPRIO_CLASS_IDLE);
    assert_int_equal(p->io_priority.priority, 4);
    assert_string_equal(p->exec_cpu_affinity.initial, "7");
    assert_string_equal(p->exec_cpu_affinity.final, "0-3,7");
}

static void check_full_mounts_hooks(const struct ctr_spec *spec)
{
    assert_int_equal(spec->mounts_count, 3);
    const struct spec_mount *m = &spec->mounts[0];
    assert_string_equal(m->destination, "/proc");
    assert_string_equal(m->type, "proc");
    assert_string_equal(m->source, "proc");
    assert_int_equal(m->options.count, 0);
    assert_int_equal(m->flags, 0);
    assert_null(m->data);

    m = &spec->mounts[1];
    assert_string_equal(m->destination, "/data");
    assert_string_equal(m->type, "none");
    assert_string_equal(m->source, "/volumes/data");
    assert_strings(&m->options, 4, (const char *const[]){"rbind", "rro", "rprivate", "idmap"});
    assert_true(m->is_bind);
    assert_int_equal(m->flags, MS_BIND | MS_REC);
    assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
    assert_int_equal(m->recursive.propagation, MS_PRIVATE);
    assert_int_equal(m->recursive.set, MOUNT_ATTR_RDONLY);
    assert_int_equal(m->recursive.clear, 0);
    assert_true(m->idmap);
    assert_false(m->recursive_idmap);
    assert_int_equal(m->uid_mappings_count, 1);
    assert_int_equal(m->uid_mappings[0].container_id, 0);
    assert_int_equal(m->uid_mappings[0].host_id, 100000);
    assert_int_equal(m->uid_mappings[0].size, 65536);
    assert_int_equal(m->gid_mappings_count, 1);
    assert_int_equal(m->gid_mappings[0].host_id, 200000);
    assert_int_equal(m->gid_mappings[0].size, 1000);

    m = &spec->mounts[2];
    assert_string_equal(m->destination, "/dev");
    assert_int_equal(m->flags, MS_NOSUID | MS_STRICTATIME);
    assert_string_equal(m->data, "mode=755,size=65536k");
    assert_true(m->tmpcopyup);
    assert_false(m->is_bind);

    const struct spec_hooks *h = &spec->hooks;
    assert_int_equal(h->prestart.count, 1);
    assert_string_equal(h->prestart.items[0].path, "/usr/bin/prestart");
    assert_int_equal(h->prestart.items[0].args.count, 0);
    assert_false(h->prestart.items[0].timeout.set);
    assert_int_equal(h->create_runtime.count, 1);
    const struct spec_hook *hook = &h->create_runtime.items[0];
    assert_string_equal(hook->path, "/usr/bin/fix-mounts");
    assert_strings(&hook->args, 2, (const char *const[]){"fix-mounts", "arg1"});
    assert_strings(&hook->env, 1, (const char *const[]){"key1=value1"});
    assert_true(hook->timeout.set);
    assert_int_equal(hook->timeout.value, 5);
    assert_string_equal(h->create_container.items[0].path, "/usr/bin/mount-hook");
    assert_string_equal(h->start_container.items[0].path, "/usr/bin/refresh-ldcache");
    assert_int_equal(h->poststart.items[0].timeout.value, 1);
    assert_int_equal(h->poststop.count, 2);
    assert_strings(&h->poststop.items[0].args, 2, (const char *const[]){"cleanup.sh", "-f"});
    assert_string_equal(h->poststop.items[1].path, "/bin/true");

    assert_int_equal(spec->annotations_count, 2);
    assert_string_equal(spec->annotations[0].key, "com.example.key");
    assert_string_equal(spec->annotations[0].value, "value");
    assert_string_equal(spec->annotations[1].key, "org.opencontainers.image.os");
    assert_string_equal(spec->annotations[1].value, "linux");
}

static void check_full_resources(const struct spec_resources *r)
{
    assert_int_equal(r->devices_count, 3);
    assert_false(r->devices[0].allow);
    assert_int_equal(r->devices[0].type, 'a');
    assert_false(r->devices[0].major.set || r->devices[0].minor.set);
    assert_string_equal(r->devices[0].access, "rwm");
    assert_true(r->devices[1].allow);
    assert_int_equal(r->devices[1].type, 'c');
    assert_int_equal(r->devices[1].major.value, 10);
    assert_int_equal(r->devices[1].minor.value, 229);
    assert_string_equal(r->devices[1].access, "rw");
    assert_int_equal(r->devices[2].type, 'b');
    assert_false(r->devices[2].major.set); /* -1 is the wildcard */
    assert_true(r->devices[2].minor.set);
    assert_int_equal(r->devices[2].minor.value, 0);
    assert_string_equal(r->devices[2].access, "m");

    const struct spec_memory *m = &r->memory;
    assert_true(r->has_memory);
    assert_int_equal(m->limit.value, 536870912);
    assert_int_equal(m->reservation.value, 268435456);
    assert_true(m->swap.set);
    assert_int_equal(m->swap.value, -1);
    assert_false(m->kernel.set); /* 0 is "not set", as runc and docker read it */
    assert_int_equal(m->kernel_tcp.value, 1024);
    assert_int_equal(m->swappiness.value, 60);
    assert_true(m->disable_oom_killer.set && m->disable_oom_killer.value);
    assert_true(m->use_hierarchy.set && !m->use_hierarchy.value);
    assert_true(m->check_before_update.set && m->check_before_update.value);

    const struct spec_cpu *c = &r->cpu;
    assert_true(r->has_cpu);
    assert_int_equal(c->shares.value, 1024);
    assert_int_equal(c->quota.value, 1000000);
    assert_int_equal(c->burst.value, 500000);
    assert_int_equal(c->period.value, 500000);
    assert_int_equal(c->realtime_runtime.value, 950000);
    assert_int_equal(c->realtime_period.value, 1000000);
    assert_string_equal(c->cpus, "2-3");
    assert_string_equal(c->mems, "0-7");
    assert_true(c->idle.set);
    assert_int_equal(c->idle.value, 1);

    const struct spec_block_io *b = &r->block_io;
    assert_true(r->has_block_io);
    assert_int_equal(b->weight.value, 10);
    assert_int_equal(b->leaf_weight.value, 20);
    assert_int_equal(b->weight_devices_count, 2);
    assert_int_equal(b->weight_devices[0].major, 8);
    assert_int_equal(b->weight_devices[0].minor, 0);
    assert_int_equal(b->weight_devices[0].weight.value, 500);
    assert_int_equal(b->weight_devices[0].leaf_weight.value, 300);
    assert_int_equal(b->weight_devices[1].minor, 16);
    assert_false(b->weight_devices[1].leaf_weight.set);
    assert_int_equal(b->throttle_read_bps_count, 1);
    assert_int_equal(b->throttle_read_bps[0].rate, 600);
    assert_int_equal(b->throttle_write_bps_count, 1);
    assert_int_equal(b->throttle_write_bps[0].minor, 1);
    assert_int_equal(b->throttle_write_bps[0].rate, 700);
    assert_int_equal(b->throttle_read_iops_count, 1);
    assert_int_equal(b->throttle_read_iops[0].rate, 800);
    assert_int_equal(b->throttle_write_iops_count, 1);
    assert_int_equal(b->throttle_write_iops[0].major, 8);
    assert_int_equal(b->throttle_write_iops[0].rate, 300);

    assert_int_equal(r->hugepage_limits_count, 2);
    assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
    assert_int_equal(r->hugepage_limits[0].limit, 209715200);
    assert_string_equal(r->hugepage_limits[1].page_size, "64KB");
    assert_true(r->has_network);
    assert_int_equal(r->net_class_id.value, 1048577);
    assert_int_equal(r->net_priorities_count, 2);
    assert_string_equal(r->net_priorities[1].name, "eth1");
    assert_int_equal(r->net_priorities[1].priority, 1000);
    assert_true(r->has_pids && r->pids_limit.set);
    assert_int_equal(r->pids_limit.value, 32771);
    assert_int_equal(r->rdma_count, 2);
    assert_string_equal(r->rdma[0].device, "mlx5_1");
    assert_int_equal(r->rdma[0].hca_handles.value, 3);
    assert_int_equal(r->rdma[0].hca_objects.value, 10000);
    assert_string_equal(r->rdma[1].device, "mlx4_0");
    assert_false(r->rdma[1].hca_handles.set);
    assert_int_equal(r->unified_count, 2);
    assert_string_equal(r->unified[0].key, "io.max");
    assert_string_equal(r->unified[0].value, "259:0 rbps=2097152 wiops=120");
    assert_string_equal(r->unified[1].key, "hugetlb.1GB.max");
}

static void check_full_seccomp(const struct spec_seccomp *s)
{
    assert_int_equal(s->default_action, SCMP_ACT_ERRNO(38));
    assert_int_equal(s->architectures_count, 3);
    assert_int_equal(s->architectures[0], SCMP_ARCH_X86_64);
    assert_int_equal(s->architectures[1], SCMP_ARCH_X86);
    assert_int_equal(s->architectures[2], SCMP_ARCH_AARCH64);
    assert_true(s->flag_tsync && s->flag_log && s->flag_spec_allow && s->flag_wait_killable_recv);
    assert_string_equal(s->listener_path, "/run/seccomp.sock");
    assert_string_equal(s->listener_metadata, "MKNOD=/dev/null");
    assert_true(s->uses_notify);
    assert_int_equal(s->syscalls_count, 10);
    assert_strings(&s->syscalls[0].names, 2, (const char *const[]){"read", "write"});
    assert_int_equal(s->syscalls[0].action, SCMP_ACT_ALLOW);
    assert_int_equal(s->syscalls[0].args_count, 0);
    const struct spec_seccomp_rule *rule = &s->syscalls[1];
    assert_int_equal(rule->args_count, 2);
    assert_int_equal(rule->args[0].index, 0);
    assert_int_equal(rule->args[0].value, 0);
    assert_int_equal(rule->args[0].op, SCMP_CMP_EQ);
    assert_int_equal(rule->args[1].index, 5);
    assert_true(rule->args[1].value == UINT64_MAX);
    assert_int_equal(rule->args[1].value_two, 255);
    assert_int_equal(rule->args[1].op, SCMP_CMP_MASKED_EQ);
    assert_int_equal(s->syscalls[2].action, SCMP_ACT_ERRNO(1));
    assert_int_equal(s->syscalls[3].action, SCMP_ACT_TRACE(EPERM));
    assert_int_equal(s->syscalls[4].action, SCMP_ACT_NOTIFY);
    assert_int_equal(s->syscalls[5].action, SCMP_ACT_KILL_PROCESS);
    assert_int_equal(s->syscalls[6].action, SCMP_ACT_LOG);
    assert_int_equal(s->syscalls[7].action, SCMP_ACT_KILL);
    assert_int_equal(s->syscalls[8].action, SCMP_ACT_TRAP);
    assert_int_equal(s->syscalls[9].action, SCMP_ACT_KILL_THREAD);
}

static void check_full_linux(const struct spec_linux *l)
{
    for (int t = 0; t < NS_TYPE_COUNT; t++)
        assert_true(l->namespaces[t].present);
    assert_string_equal(l->namespaces[NS_NETWORK].path, "/var/run/netns/x");
    assert_null(l->namespaces[NS_PID].path);
    assert_int_equal(l->uid_mappings_count, 1);
    assert_int_equal(l->uid_mappings[0].host_id, 1000);
    assert_int_equal(l->uid_mappings[0].size, 32000);
    assert_int_equal(l->gid_mappings_count, 2);
    assert_int_equal(l->gid_mappings[1].container_id, 16000);
    assert_int_equal(l->gid_mappings[1].host_id, 50000);
    assert_int_equal(l->gid_mappings[1].size, 10);
    assert_true(l->time_monotonic.set);
    assert_int_equal(l->time_monotonic.secs, 172800);
    assert_int_equal(l->time_monotonic.nanosecs, 0);
    assert_true(l->time_boottime.set);
    assert_int_equal(l->time_boottime.secs, -86400);
    assert_int_equal(l->time_boottime.nanosecs, 999999999);

    assert_int_equal(l->devices_count, 4);
    assert_string_equal(l->devices[0].path, "/dev/fuse");
    assert_int_equal(l->devices[0].type, 'c');
    assert_int_equal(l->devices[0].major, 10);
    assert_int_equal(l->devices[0].minor, 229);
    assert_true(l->devices[0].file_mode.set);
    assert_int_equal(l->devices[0].file_mode.value, 0666);
    assert_int_equal(l->devices[0].uid.value, 0);
    assert_int_equal(l->devices[0].gid.value, 5);
    assert_int_equal(l->devices[1].type, 'b');
    assert_false(l->devices[1].file_mode.set || l->devices[1].uid.set || l->devices[1].gid.set);
    assert_int_equal(l->devices[2].type, 'p');
    assert_int_equal(l->devices[3].type, 'u');
    assert_int_equal(l->devices[3].minor, 3);

    assert_int_equal(l->net_devices_count, 2);
    assert_string_equal(l->net_devices[0].host_name, "eth0");
    assert_string_equal(l->net_devices[0].name, "ctr0");
    assert_string_equal(l->net_devices[1].host_name, "eth1");
    assert_string_equal(l->net_devices[1].name, "eth1");
    assert_string_equal(l->cgroups_path, "/myRuntime/myContainer");
    assert_true(l->has_resources);
    check_full_resources(&l->resources);
    assert_int_equal(l->rootfs_propagation, MS_SLAVE | MS_REC);
    assert_strings(&l->masked_paths, 2, (const char *const[]){"/proc/kcore", "/proc/keys"});
    assert_strings(&l->readonly_paths, 1, (const char *const[]){"/proc/sys"});
    assert_string_equal(l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");
    assert_int_equal(l->sysctl_count, 4);
    assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
    assert_string_equal(l->sysctl[0].value, "1");
    assert_string_equal(l->sysctl[3].key, "fs.mqueue.queues_max");
    assert_string_equal(l->sysctl[3].value, "256");
    assert_true(l->has_seccomp);
    check_full_seccomp(&l->seccomp);
    assert_true(l->personality.set);
    assert_int_equal(l->personality.domain, PER_LINUX32);
    assert_true(l->intel_rdt.set);
    assert_string_equal(l->intel_rdt.clos_id, "guaranteed_group");
    assert_string_equal(l->intel_rdt.l3_cache_schema, "L3:0=7f0;1=1f");
    assert_string_equal(l->intel_rdt.mem_bw_schema, "MB:0=20;1=70");
    assert_strings(&l->intel_rdt.schemata, 2, (const char *const[]){"L2:0=f;1=f", "L3:0=ff"});
    assert_true(l->intel_rdt.enable_monitoring);
    assert_true(l->memory_policy.set);
    assert_int_equal(l->memory_policy.mode, MPOL_INTERLEAVE);
    assert_string_equal(l->memory_policy.nodes, "2-3");
    assert_int_equal(l->memory_policy.flags, MPOL_F_STATIC_NODES | MPOL_F_NUMA_BALANCING);
}

/* docker sends every field of `update --resources -` and 0 for those not asked for: they must
 * mean "leave alone", or the update would zero the memory limit and the pids limit. */
static void test_docker_zeros_mean_unset(void **state)
{
    (void)state;
    struct ctr_spec scratch = {.arena = arena_new()};
    json_t *json = json_loads("{\"memory\":{\"limit\":33554432,\"reservation\":0,\"swap\":67108864,"
                              "\"kernel\":0,\"kernelTCP\":0},\"cpu\":{\"shares\":0,\"quota\":0,"
                              "\"period\":0},\"blockIO\":{\"weight\":0},\"pids\":{\"limit\":0}}",
                              0, NULL);
    assert_non_null(json);
    struct spec_resources res;
    ctr_error *err = NULL;
    assert_int_equal(spec_parse_resources(&scratch, json, "resources", &res, &err), 0);
    assert_true(res.memory.limit.set);
    assert_int_equal(res.memory.limit.value, 33554432);
    assert_true(res.memory.swap.set);
    assert_false(res.memory.reservation.set);
    assert_false(res.memory.kernel.set);
    assert_false(res.memory.kernel_tcp.set);
    assert_false(res.block_io.weight.set);
    assert_false(res.pids_limit.set);
    json_decref(json);
    arena_free(scratch.arena);
}

static void test_full_config(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(full_config);
    assert_non_null(spec->json);
    assert_string_equal(spec->oci_version, "1.2.0");
    assert_string_equal(spec->root_path, "rootfs");
    assert_true(spec->root_readonly);
    assert_string_equal(spec->hostname, "box");
    assert_string_equal(spec->domainname, "example.test");
    assert_true(spec->has_process);
    check_full_process(&spec->process);
    check_full_mounts_hooks(spec);
    assert_true(spec->has_linux);
    check_full_linux(&spec->linux_);
    ctr_spec_free(spec);
}

/* The smallest valid config leaves everything else unset. */
static void test_minimal_config(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(BASE);
    assert_string_equal(spec->root_path, "rootfs");
    assert_false(spec->root_readonly || spec->has_process || spec->has_linux);
    assert_null(spec->hostname);
    assert_int_equal(spec->mounts_count, 0);
    assert_int_equal(spec->hooks.poststop.count, 0);
    assert_int_equal(spec->annotations_count, 0);
    ctr_spec_free(spec);
}

/* Go's encoding/json writes null and "" for unset values: both read as absent. */
static void test_null_and_empty_mean_unset(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(
        "{'ociVersion': '1.0.2-dev', 'root': {'path': 'rootfs', 'readonly': null}, 'hostname': '',"
        " 'process': {'args': ['sh'], 'cwd': '/', 'env': null, 'user': {'uid': 0, 'gid': 0},"
        "             'execCPUAffinity': {'initial': '', 'final': null}},"
        " 'mounts': null, 'linux': {'resources': {'devices': [{'allow': true, 'access': ''}],"
        "                           'memory': {'swappiness': 18446744073709551615},"
        "                           'cpu': {'cpus': ''}},"
        "                           'memoryPolicy': {'mode': 'MPOL_PREFERRED', 'nodes': ''},"
        "                           'intelRdt': {'enableCMT': true,"
        "                                        'schemata': 'L3:0=ff\\nMB:0=50\\n'}}}");
    assert_null(spec->hostname);
    assert_int_equal(spec->process.env.count, 0);
    assert_null(spec->process.exec_cpu_affinity.initial);
    assert_null(spec->process.exec_cpu_affinity.final);
    assert_false(spec->process.user.umask.set);
    assert_string_equal(spec->linux_.resources.devices[0].access, "rwm");
    assert_false(spec->linux_.resources.memory.swappiness.set);
    assert_null(spec->linux_.resources.cpu.cpus);
    assert_null(spec->linux_.memory_policy.nodes);
    assert_true(spec->linux_.intel_rdt.enable_monitoring);
    assert_strings(&spec->linux_.intel_rdt.schemata, 2,
                   (const char *const[]){"L3:0=ff", "MB:0=50"});
    ctr_spec_free(spec);
}

/* ---- (d) unknown properties are ignored (config.md, "Extensibility") ---------------------------- */

static void test_unknown_properties_ignored(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(
        "{'ociVersion': '1.2.0', 'x-vendor': {'anything': [1, 2.5, null]},"
        " 'root': {'path': 'rootfs', 'future': true},"
        " 'process': {'args': ['sh'], 'cwd': '/', 'commandLine': 'ignored on Linux',"
        "             'user': {'uid': 0, 'gid': 0, 'username': 'windows-only'},"
        "             'capabilities': {'bounding': [], 'newset': ['CAP_FOO']}},"
        " 'mounts': [{'destination': '/x', 'unknown': 1}],"
        " 'hooks': {'someday': [{'path': 'relative'}], 'poststop': [{'path': '/a', 'extra': 0}]},"
        " 'windows': {'layerFolders': []}, 'solaris': 7, 'vm': null,"
        " 'linux': {'resources': {'memory': {'limit': 1, 'newKnob': 'x'}, 'oomScoreAdj': 100},"
        "           'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'newField': true},"
        "           'namespaces': [{'type': 'mount', 'extra': 'x'}], 'somethingElse': {}}}");
    assert_true(spec->has_process);
    assert_true(spec->process.capabilities.has_bounding);
    assert_int_equal(spec->process.capabilities.bounding, 0);
    assert_false(spec->process.capabilities.has_effective);
    assert_int_equal(spec->mounts_count, 1);
    assert_int_equal(spec->hooks.poststop.count, 1);
    assert_true(spec->linux_.namespaces[NS_MOUNT].present);
    assert_int_equal(spec->linux_.resources.memory.limit.value, 1);
    ctr_spec_free(spec);
}

/* ---- (b) bad configs ----------------------------------------------------------------------------- */

struct bad_case {
    const char *doc;   /* a whole document, or */
    const char *patch; /* merged into BASE */
    const char *message;
};

#define PROCESS(extra) "{'process': {'args': ['sh'], 'cwd': '/'" extra "}}"
#define LINUX(extra) "{'linux': {" extra "}}"
#define RESOURCES(extra) LINUX("'resources': {" extra "}")
#define SECCOMP(extra) LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW'" extra "}")
#define USERNS "'namespaces': [{'type': 'user'}], " \
               "'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], " \
               "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"

static const struct bad_case bad_cases[] = {
    /* the document */
    {.doc = "{\n  'ociVersion': '1.2.0',\n  'root' {}\n}",
     .message = "config.json: line 3, column 10: ':' expected near '{'"},
    {.doc = "", .message = "config.json: line 1, column 0: '[' or '{' expected near end of file"},
    {.doc = "[]", .message = "config.json: expected an object, got array"},
    {.doc = "{'ociVersion': '1.2.0', 'ociVersion': '1.1.0', 'root': {'path': 'r'}}",
     .message = "config.json: line 1, column 36: duplicate object key near '\"ociVersion\"'"},
    /* above UINT64_MAX: jansson's error stands (below, it is kept for the uint64 fields) */
    {.doc = "{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'process': {'args': ['sh'], 'cwd': '/',\n"
            " 'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 18446744073709551616, 'hard': 0}]}}",
     .message = "config.json: line 2, column 65: too big integer near '18446744073709551616'"},
    /* a leading zero makes no JSON number, also where a big integer earlier in the document sends
     * it through the second pass, which used to read this one as 9223372036854775808 */
    {.doc = "{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'process': {'args': ['sh'], 'cwd': '/',\n"
            " 'rlimits': [{'type': 'RLIMIT_CORE', 'hard': 18446744073709551615,\n"
            " 'soft': 09223372036854775808}]}}",
     .message = "config.json: line 3, column 10: invalid token near '0'"},
    /* a syntax error after big integers on its line is placed in the document as written, not in
     * the second pass's rewriting of it, which makes each big integer 12 characters longer */
    {.doc = "{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'process': {'args': ['sh'], 'cwd': '/',\n"
            " 'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 18446744073709551615,"
            " 'hard': 18446744073709551615}]}, 'hostname': tru}",
     .message = "config.json: line 2, column 115: invalid token near 'tru'"},
    {.doc = "{'root': {'path': 'rootfs'}}", .message = "config.json: ociVersion: required field missing"},
    {.patch = "{'ociVersion': 1}", .message = "config.json: ociVersion: expected a string, got integer"},
    {.patch = "{'ociVersion': '2.0.0'}",
     .message = "config.json: ociVersion: unsupported major version in \"2.0.0\" (this runtime "
                "implements 1.x)"},
    {.patch = "{'ociVersion': '1.2'}",
     .message = "config.json: ociVersion: expected a SemVer version such as \"1.2.0\", got \"1.2\""},
    {.doc = "{'ociVersion': '1.2.0'}", .message = "config.json: root: required field missing"},
    {.patch = "{'root': 'rootfs'}", .message = "config.json: root: expected an object, got string"},
    {.doc = "{'ociVersion': '1.2.0', 'root': {'readonly': true}}",
     .message = "config.json: root.path: required field missing"},
    {.patch = "{'root': {'path': ''}}", .message = "config.json: root.path: must not be empty"},
    {.patch = "{'root': {'readonly': 'yes'}}",
     .message = "config.json: root.readonly: expected a boolean, got string"},
    {.patch = "{'hostname': 7}", .message = "config.json: hostname: expected a string, got integer"},

    /* process */
    {.patch = "{'process': []}", .message = "config.json: process: expected an object, got array"},
    {.patch = "{'process': {'args': ['sh'], 'cwd': 'tmp'}}",
     .message = "config.json: process.cwd: must be an absolute path, got \"tmp\""},
    {.patch = "{'process': {'args': ['sh']}}",
     .message = "config.json: process.cwd: required field missing"},
    {.patch = "{'process': {'cwd': '/'}}", .message = "config.json: process.args: required field missing"},
    {.patch = "{'process': {'cwd': '/', 'args': []}}",
     .message = "config.json: process.args: must have at least one entry"},
    {.patch = "{'process': {'cwd': '/', 'args': ['sh', 1]}}",
     .message = "config.json: process.args[1]: expected a string, got integer"},
    {.patch = PROCESS(", 'env': ['FOO']"),
     .message = "config.json: process.env[0]: expected \"KEY=value\", got \"FOO\""},
    {.patch = PROCESS(", 'env': ['A=1', '=x']"),
     .message = "config.json: process.env[1]: expected \"KEY=value\", got \"=x\""},
    {.patch = PROCESS(", 'terminal': 1"),
     .message = "config.json: process.terminal: expected a boolean, got integer"},
    {.patch = PROCESS(", 'consoleSize': {'height': 25, 'width': 70000}"),
     .message = "config.json: process.consoleSize.width: must be between 0 and 65535, got 70000"},
    {.patch = PROCESS(", 'consoleSize': {'width': 80}"),
     .message = "config.json: process.consoleSize.height: required field missing"},
    {.patch = PROCESS(", 'user': {'uid': 'root', 'gid': 0}"),
     .message = "config.json: process.user.uid: expected an integer, got string"},
    {.patch = PROCESS(", 'user': {'uid': 1.5, 'gid': 0}"),
     .message = "config.json: process.user.uid: expected an integer, got real number"},
    {.patch = PROCESS(", 'user': {'uid': -1, 'gid': 0}"),
     .message = "config.json: process.user.uid: must be between 0 and 4294967294, got -1"},
    {.patch = PROCESS(", 'user': {'uid': 0, 'gid': 4294967295}"),
     .message = "config.json: process.user.gid: must be between 0 and 4294967294, got 4294967295"},
    {.patch = PROCESS(", 'user': {'uid': 0}"),
     .message = "config.json: process.user.gid: required field missing"},
    {.patch = PROCESS(", 'user': {'uid': 0, 'gid': 0, 'umask': 512}"),
     .message = "config.json: process.user.umask: must be between 0 and 511, got 512"},
    {.patch = PROCESS(", 'user': {'uid': 0, 'gid': 0, 'additionalGids': [1, 'wheel']}"),
     .message = "config.json: process.user.additionalGids[1]: expected an integer, got string"},
    {.patch = PROCESS(", 'capabilities': ['CAP_KILL']"),
     .message = "config.json: process.capabilities: expected an object, got array"},
    {.patch = PROCESS(", 'capabilities': {'bounding': ['CAP_KILL', 'CAP_FOO']}"),
     .message = "config.json: process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""},
    {.patch = PROCESS(", 'capabilities': {'ambient': ['chown']}"),
     .message = "config.json: process.capabilities.ambient[0]: unknown capability \"chown\""},
    {.patch = PROCESS(", 'capabilities': {'effective': ['CAP_12']}"),
     .message = "config.json: process.capabilities.effective[0]: unknown capability \"CAP_12\""},
    {.patch = PROCESS(", 'rlimits': [{'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 1}]"),
     .message = "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {.patch = PROCESS(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},"
                      " {'type': 'RLIMIT_NOFILE', 'soft': 2, 'hard': 2}]"),
     .message = "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\" (also "
                "at index 0)"},
    {.patch = PROCESS(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1}]"),
     .message = "config.json: process.rlimits[0].hard: required field missing"},
    {.patch = PROCESS(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': -1, 'hard': 1}]"),
     .message = "config.json: process.rlimits[0].soft: must be between 0 and 18446744073709551615, "
                "got -1"},
    {.patch = PROCESS(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 2048, 'hard': 1024}]"),
     .message = "config.json: process.rlimits[0].soft: must not be above hard (1024), got 2048"},
    {.patch = PROCESS(", 'oomScoreAdj': 1001"),
     .message = "config.json: process.oomScoreAdj: must be between -1000 and 1000, got 1001"},
    {.doc = "{'ociVersion': '1.2.0', 'root': {'path': 'r'},"
            " 'process': {'args': ['sh'], 'cwd': '/', 'oomScoreAdj': 18446744073709551615}}",
     .message = "config.json: process.oomScoreAdj: must be between -1000 and 1000, got "
                "18446744073709551615"},
    {.patch = PROCESS(", 'scheduler': {'policy': 'SCHED_ISO'}"),
     .message = "config.json: process.scheduler.policy: \"SCHED_ISO\" is not implemented by Linux"},
    {.patch = PROCESS(", 'scheduler': {'policy': 'SCHED_FAST'}"),
     .message = "config.json: process.scheduler.policy: unknown scheduling policy \"SCHED_FAST\""},
    {.patch = PROCESS(", 'scheduler': {'nice': 1}"),
     .message = "config.json: process.scheduler.policy: required field missing"},
    {.patch = PROCESS(", 'scheduler': {'policy': 'SCHED_OTHER', 'nice': 20}"),
     .message = "config.json: process.scheduler.nice: must be between -20 and 19, got 20"},
    {.patch = PROCESS(", 'scheduler': {'policy': 'SCHED_OTHER', 'flags': ['SCHED_FLAG_FOO']}"),
     .message = "config.json: process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_FOO\""},
    {.patch = PROCESS(", 'ioPriority': {'class': 'IOPRIO_CLASS_NONE', 'priority': 0}"),
     .message = "config.json: process.ioPriority.class: unknown I/O priority class "
                "\"IOPRIO_CLASS_NONE\""},
    {.patch = PROCESS(", 'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 8}"),
     .message = "config.json: process.ioPriority.priority: must be between 0 and 7, got 8"},
    {.patch = PROCESS(", 'execCPUAffinity': {'initial': '3-1'}"),
     .message = "config.json: process.execCPUAffinity.initial: expected a CPU list such as "
                "\"0-3,7\", got \"3-1\""},
    {.patch = PROCESS(", 'execCPUAffinity': {'final': '0,,1'}"),
     .message = "config.json: process.execCPUAffinity.final: expected a CPU list such as "
                "\"0-3,7\", got \"0,,1\""},
    /* The process set-up could not apply it: refused here, where the field is known. */
    {.patch = PROCESS(", 'execCPUAffinity': {'initial': '0-100000'}"),
     .message = "config.json: process.execCPUAffinity.initial: ids must be below 65536, got "
                "\"0-100000\""},
    {.patch = RESOURCES("'cpu': {'mems': '0,65536'}"),
     .message = "config.json: linux.resources.cpu.mems: ids must be below 65536, got \"0,65536\""},
    {.patch = PROCESS(", 'apparmorProfile': ['x']"),
     .message = "config.json: process.apparmorProfile: expected a string, got array"},
    {.doc = "{'ociVersion': '1.2.0', 'root': {'path': 'a\\u0000b'}}",
     .message = "config.json: line 1, column 51: \\u0000 is not allowed without JSON_ALLOW_NUL "
                "near '\"a\\u0000b\"'"},
    /* with a big integer in the document, the second pass allows \u0000: the getter refuses it */
    {.doc = "{'ociVersion': '1.2.0', 'process': {'args': ['sh'], 'cwd': '/',"
            " 'rlimits': [{'type': 'RLIMIT_AS', 'soft': 9223372036854775808,"
            " 'hard': 18446744073709551615}]}, 'root': {'path': 'a\\u0000b'}}",
     .message = "config.json: root.path: must not contain a NUL character"},

    /* mounts */
    {.patch = "{'mounts': {}}", .message = "config.json: mounts: expected an array, got object"},
    {.patch = "{'mounts': [{'type': 'tmpfs'}]}",
     .message = "config.json: mounts[0].destination: required field missing"},
    {.patch = "{'mounts': [{'destination': '/a'}, {'destination': ''}]}",
     .message = "config.json: mounts[1].destination: must not be empty"},
    {.patch = "{'mounts': [{'destination': '/a', 'options': 'ro'}]}",
     .message = "config.json: mounts[0].options: expected an array, got string"},
    {.patch = "{'mounts': [{'destination': '/a', 'options': ['ro', 'context=\\'abc']}]}",
     .message = "config.json: mounts[0].options[1]: cannot parse mount option \"context=\"abc\""},
    {.patch = "{'mounts': [{'destination': '/a', 'options': ['bind'],"
              " 'uidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]}]}",
     .message = "config.json: mounts[0].gidMappings: required field missing (uidMappings is set)"},
    {.patch = "{'mounts': [{'destination': '/a', 'options': ['rbind', 'ridmap']}]}",
     .message = "config.json: mounts[0].options: \"ridmap\" needs uidMappings and gidMappings or "
                "a user namespace"},
    {.patch = "{'mounts': [{'destination': '/a', 'uidMappings': [{'containerID': 0, 'hostID': 1}]}]}",
     .message = "config.json: mounts[0].uidMappings[0].size: required field missing"},

    /* hooks and annotations */
    {.patch = "{'hooks': {'prestart': [{'path': 'hook'}]}}",
     .message = "config.json: hooks.prestart[0].path: must be an absolute path, got \"hook\""},
    {.patch = "{'hooks': {'createRuntime': [{'args': ['x']}]}}",
     .message = "config.json: hooks.createRuntime[0].path: required field missing"},
    {.patch = "{'hooks': {'poststop': [{'path': '/a'}, {'path': '/b', 'timeout': 0}]}}",
     .message = "config.json: hooks.poststop[1].timeout: must be between 1 and 2147483647, got 0"},
    {.patch = "{'hooks': {'startContainer': {'path': '/a'}}}",
     .message = "config.json: hooks.startContainer: expected an array, got object"},
    {.patch = "{'annotations': {'x': 1}}",
     .message = "config.json: annotations[\"x\"]: expected a string, got integer"},
    {.patch = "{'annotations': {'': 'v'}}",
     .message = "config.json: annotations[\"\"]: keys must not be empty"},
    {.patch = "{'annotations': {'a\\'b\\nc': true}}",
     .message = "config.json: annotations[\"a\\\"b\\nc\"]: expected a string, got boolean"},

    /* linux: namespaces, mappings, devices... */
    {.patch = "{'linux': []}", .message = "config.json: linux: expected an object, got array"},
    {.patch = LINUX("'namespaces': [{'type': 'pid'}, {'type': 'uts'}, {'type': 'foo'}]"),
     .message = "config.json: linux.namespaces[2].type: unknown namespace \"foo\""},
    {.patch = LINUX("'namespaces': [{'type': 'pid'}, {'type': 'pid'}]"),
     .message = "config.json: linux.namespaces[1].type: duplicate namespace \"pid\" (also at "
                "index 0)"},
    {.patch = LINUX("'namespaces': [{'path': '/proc/1/ns/pid'}]"),
     .message = "config.json: linux.namespaces[0].type: required field missing"},
    {.patch = LINUX("'namespaces': [{'type': 'network', 'path': 'netns/x'}]"),
     .message = "config.json: linux.namespaces[0].path: must be an absolute path, got \"netns/x\""},
    {.patch = LINUX("'namespaces': [{'type': 'user'}],"
                    " 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 0}]"),
     .message = "config.json: linux.uidMappings[0].size: must be greater than 0"},
    {.patch = LINUX("'namespaces': [{'type': 'user'}],"
                    " 'gidMappings': [{'containerID': 0, 'hostID': 4294967295, 'size': 1}]"),
     .message = "config.json: linux.gidMappings[0].size: the range must end below 4294967295, got "
                "1 ids from containerID 0 and hostID 4294967295"},
    {.patch = LINUX("'uidMappings': [{'containerID': -1, 'hostID': 0, 'size': 1}]"),
     .message = "config.json: linux.uidMappings[0].containerID: must be between 0 and 4294967295, "
                "got -1"},
    {.patch = LINUX("'timeOffsets': {'realtime': {'secs': 1}}"),
     .message = "config.json: linux.timeOffsets[\"realtime\"]: unknown clock (only \"monotonic\" "
                "and \"boottime\" have offsets)"},
    {.patch = LINUX("'timeOffsets': {'boottime': {'nanosecs': 1000000000}}"),
     .message = "config.json: linux.timeOffsets[\"boottime\"].nanosecs: must be between 0 and "
                "999999999, got 1000000000"},
    {.patch = LINUX("'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': 1}]"),
     .message = "config.json: linux.devices[0].type: unknown device type \"x\""},
    {.patch = LINUX("'devices': [{'path': 'dev/x', 'type': 'c', 'major': 1, 'minor': 1}]"),
     .message = "config.json: linux.devices[0].path: must be an absolute path, got \"dev/x\""},
    {.patch = LINUX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]"),
     .message = "config.json: linux.devices[0].minor: required field missing"},
    {.patch = LINUX("'devices': [{'path': '/dev/x', 'type': 'b', 'major': -8, 'minor': 0}]"),
     .message = "config.json: linux.devices[0].major: must be between 0 and 4294967295, got -8"},
    {.patch = LINUX("'namespaces': [{'type': 'network'}], 'netDevices': {'eth/0': {}}"),
     .message = "config.json: linux.netDevices[\"eth/0\"]: not a valid network interface name"},
    {.patch = LINUX("'namespaces': [{'type': 'network'}],"
                    " 'netDevices': {'eth0': {'name': 'a-very-long-name0'}}"),
     .message = "config.json: linux.netDevices[\"eth0\"].name: not a valid network interface "
                "name: \"a-very-long-name0\""},
    {.patch = LINUX("'rootfsPropagation': 'bogus'"),
     .message = "config.json: linux.rootfsPropagation: unknown rootfs propagation \"bogus\""},
    {.patch = LINUX("'maskedPaths': ['/proc/kcore', 'proc/keys']"),
     .message = "config.json: linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\""},
    {.patch = LINUX("'readonlyPaths': '/proc/sys'"),
     .message = "config.json: linux.readonlyPaths: expected an array, got string"},
    {.patch = LINUX("'namespaces': [{'type': 'network'}], 'sysctl': {'net.core.somaxconn': 256}"),
     .message = "config.json: linux.sysctl[\"net.core.somaxconn\"]: expected a string, got integer"},
    {.patch = LINUX("'namespaces': [{'type': 'network'}],"
                    " 'sysctl': {'net./../../kernel/core_pattern': '|x'}"),
     .message = "config.json: linux.sysctl[\"net./../../kernel/core_pattern\"]: expected a dotted "
                "name such as \"net.ipv4.ip_forward\""},
    {.patch = LINUX("'personality': {'domain': 'LINUX64'}"),
     .message = "config.json: linux.personality.domain: unknown personality domain \"LINUX64\""},
    {.patch = LINUX("'personality': {'domain': 'LINUX', 'flags': ['ADDR_NO_RANDOMIZE']}"),
     .message = "config.json: linux.personality.flags[0]: unknown personality flag "
                "\"ADDR_NO_RANDOMIZE\" (the spec defines none)"},
    {.patch = LINUX("'intelRdt': {'closID': '../escape'}"),
     .message = "config.json: linux.intelRdt.closID: expected \"/\" or a directory name, got "
                "\"../escape\""},
    {.patch = LINUX("'intelRdt': {'memBwSchema': 'L3:0=20'}"),
     .message = "config.json: linux.intelRdt.memBwSchema: must start with \"MB:\", got \"L3:0=20\""},
    {.patch = LINUX("'intelRdt': {'schemata': ['L3:0=f', 'MB:0=1\\nL2:0=1']}"),
     .message = "config.json: linux.intelRdt.schemata[1]: must not contain a newline"},
    {.patch = LINUX("'memoryPolicy': {'mode': 'MPOL_RANDOM'}"),
     .message = "config.json: linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_RANDOM\""},
    {.patch = LINUX("'memoryPolicy': {'mode': 'MPOL_BIND'}"),
     .message = "config.json: linux.memoryPolicy.nodes: required with MPOL_BIND"},
    {.patch = LINUX("'memoryPolicy': {'mode': 'MPOL_LOCAL', 'nodes': '0'}"),
     .message = "config.json: linux.memoryPolicy.nodes: must be empty with MPOL_LOCAL"},
    {.patch = LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0-1',"
                    " 'flags': ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES']}"),
     .message = "config.json: linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and "
                "MPOL_F_RELATIVE_NODES exclude each other"},
    {.patch = LINUX("'memoryPolicy': {'mode': 'MPOL_BIND', 'nodes': '0', 'flags': ['MPOL_F_X']}"),
     .message = "config.json: linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\""},

    /* linux.resources */
    {.patch = RESOURCES("'devices': [{'access': 'rwm'}]"),
     .message = "config.json: linux.resources.devices[0].allow: required field missing"},
    {.patch = RESOURCES("'devices': [{'allow': true, 'type': 'p'}]"),
     .message = "config.json: linux.resources.devices[0].type: unknown device type \"p\""},
    {.patch = RESOURCES("'devices': [{'allow': true, 'access': 'rwx'}]"),
     .message = "config.json: linux.resources.devices[0].access: expected a combination of r, w "
                "and m, got \"rwx\""},
    {.patch = RESOURCES("'memory': {'limit': -2}"),
     .message = "config.json: linux.resources.memory.limit: must be between -1 and "
                "9223372036854775807, got -2"},
    {.patch = RESOURCES("'memory': {'swappiness': 101}"),
     .message = "config.json: linux.resources.memory.swappiness: must be between 0 and 100, got 101"},
    {.patch = RESOURCES("'cpu': {'cpus': 'all'}"),
     .message = "config.json: linux.resources.cpu.cpus: expected a list such as \"0-3,7\", got \"all\""},
    {.patch = RESOURCES("'cpu': {'quota': 1000, 'burst': 2000}"),
     .message = "config.json: linux.resources.cpu.burst: must not be larger than quota (1000), got "
                "2000"},
    {.patch = RESOURCES("'blockIO': {'weight': 5}"),
     .message = "config.json: linux.resources.blockIO.weight: must be between 10 and 1000, got 5"},
    {.patch = RESOURCES("'blockIO': {'weightDevice': [{'major': 8, 'minor': 0}]}"),
     .message = "config.json: linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight"},
    {.patch = RESOURCES("'blockIO': {'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0}]}"),
     .message = "config.json: linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: required "
                "field missing"},
    {.patch = RESOURCES("'hugepageLimits': [{'pageSize': '../2MB', 'limit': 1}]"),
     .message = "config.json: linux.resources.hugepageLimits[0].pageSize: expected a size such as "
                "\"2MB\", got \"../2MB\""},
    {.patch = RESOURCES("'network': {'priorities': [{'name': 'eth0 1\\nlo', 'priority': 1}]}"),
     .message = "config.json: linux.resources.network.priorities[0].name: not a valid network "
                "interface name: \"eth0 1\\nlo\""},
    {.patch = RESOURCES("'network': {'classID': 4294967296}"),
     .message = "config.json: linux.resources.network.classID: must be between 0 and 4294967295, "
                "got 4294967296"},
    {.patch = RESOURCES("'pids': {}"),
     .message = "config.json: linux.resources.pids.limit: required field missing"},
    {.patch = RESOURCES("'rdma': {'mlx5_1': {}}"),
     .message = "config.json: linux.resources.rdma[\"mlx5_1\"]: needs hcaHandles or hcaObjects"},
    {.patch = RESOURCES("'unified': {'../../cgroup.procs': '1'}"),
     .message = "config.json: linux.resources.unified[\"../../cgroup.procs\"]: expected the name "
                "of a cgroup file such as \"memory.max\""},

    /* linux.seccomp */
    {.patch = LINUX("'seccomp': {'architectures': ['SCMP_ARCH_X86_64']}"),
     .message = "config.json: linux.seccomp.defaultAction: required field missing"},
    {.patch = LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_PANIC'}"),
     .message = "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_PANIC\""},
    {.patch = SECCOMP(", 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80']"),
     .message = "config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "
                "\"SCMP_ARCH_Z80\""},
    {.patch = SECCOMP(", 'architectures': ['x86_64']"),
     .message = "config.json: linux.seccomp.architectures[0]: unknown seccomp architecture "
                "\"x86_64\""},
    {.patch = SECCOMP(", 'flags': ['SECCOMP_FILTER_FLAG_NEW_LISTENER']"),
     .message = "config.json: linux.seccomp.flags[0]: unknown seccomp flag "
                "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'errnoRet': 1}]"),
     .message = "config.json: linux.seccomp.syscalls[0].errnoRet: not allowed with SCMP_ACT_ALLOW "
                "(only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return a value)"},
    {.patch = LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_KILL', 'defaultErrnoRet': 1}"),
     .message = "config.json: linux.seccomp.defaultErrnoRet: not allowed with SCMP_ACT_KILL (only "
                "SCMP_ACT_ERRNO and SCMP_ACT_TRACE return a value)"},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 65536}]"),
     .message = "config.json: linux.seccomp.syscalls[0].errnoRet: must be between 0 and 65535, got "
                "65536"},
    {.patch = SECCOMP(", 'syscalls': [{'names': [], 'action': 'SCMP_ACT_ALLOW'}]"),
     .message = "config.json: linux.seccomp.syscalls[0].names: must have at least one entry"},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['read']}]"),
     .message = "config.json: linux.seccomp.syscalls[0].action: required field missing"},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW',"
                      " 'args': [{'index': 6, 'value': 0, 'op': 'SCMP_CMP_EQ'}]}]"),
     .message = "config.json: linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 6"},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW',"
                      " 'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_LIKE'}]}]"),
     .message = "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
                "\"SCMP_CMP_LIKE\""},
    {.patch = SECCOMP(", 'listenerPath': 'agent.sock'"),
     .message = "config.json: linux.seccomp.listenerPath: must be an absolute path, got \"agent.sock\""},
    {.patch = SECCOMP(", 'syscalls': [{'names': ['mount'], 'action': 'SCMP_ACT_NOTIFY'}]"),
     .message = "config.json: linux.seccomp.listenerPath: required field missing (SCMP_ACT_NOTIFY "
                "is used)"},
    {.patch = LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_NOTIFY', 'listenerPath': '/a'}"),
     .message = "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
                "action"},
    {.patch = SECCOMP(", 'listenerMetadata': 'x'"),
     .message = "config.json: linux.seccomp.listenerMetadata: must not be set without listenerPath"},

    /* cross-field rules (spec_validate) */
    {.patch = "{'hostname': 'box'}",
     .message = "config.json: hostname: needs a new uts namespace in linux.namespaces"},
    {.patch = "{'hostname': 'box', 'linux': {'namespaces': [{'type': 'uts', 'path': '/proc/1/ns/uts'}]}}",
     .message = "config.json: hostname: needs a new uts namespace, not the joined one at "
                "\"/proc/1/ns/uts\""},
    {.patch = "{'domainname': 'example.test', 'linux': {'namespaces': [{'type': 'pid'}]}}",
     .message = "config.json: domainname: needs a new uts namespace in linux.namespaces"},
    {.patch = LINUX("'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     .message = "config.json: linux.uidMappings: needs a new user namespace in linux.namespaces"},
    {.patch = LINUX("'namespaces': [{'type': 'user', 'path': '/proc/1/ns/user'}],"
                    " 'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     .message = "config.json: linux.gidMappings: needs a new user namespace, not the joined one at "
                "\"/proc/1/ns/user\""},
    {.patch = LINUX("'namespaces': [{'type': 'user'}],"
                    " 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     .message = "config.json: linux.gidMappings: required field missing (a new user namespace needs "
                "uid and gid mappings)"},
    {.patch = LINUX("'namespaces': [{'type': 'user'}]"),
     .message = "config.json: linux.uidMappings: required field missing (a new user namespace needs "
                "uid and gid mappings)"},
    {.patch = LINUX("'timeOffsets': {'monotonic': {'secs': 1}}"),
     .message = "config.json: linux.timeOffsets: needs a new time namespace in linux.namespaces"},
    {.patch = LINUX("'namespaces': [{'type': 'time', 'path': '/proc/1/ns/time'}],"
                    " 'timeOffsets': {'boottime': {'secs': 1}}"),
     .message = "config.json: linux.timeOffsets: needs a new time namespace, not the joined one at "
                "\"/proc/1/ns/time\""},
    {.patch = LINUX("'namespaces': [{'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}],"
                    " 'sysctl': {'net.ipv4.ip_forward': '1', 'vm.swappiness': '0'}"),
     .message = "config.json: linux.sysctl[\"vm.swappiness\"]: not namespaced, refusing to change "
                "the host"},
    {.patch = LINUX("'sysctl': {'net.ipv4.ip_forward': '1'}"),
     .message = "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: needs a network namespace in "
                "linux.namespaces"},
    {.patch = LINUX("'namespaces': [{'type': 'network'}], 'sysctl': {'kernel.shmmax': '1'}"),
     .message = "config.json: linux.sysctl[\"kernel.shmmax\"]: needs a ipc namespace in "
                "linux.namespaces"},
    {.patch = LINUX("'namespaces': [{'type': 'ipc'}], 'sysctl': {'fs.mqueue.msg_max': '10',"
                    " 'kernel.domainname': 'x'}"),
     .message = "config.json: linux.sysctl[\"kernel.domainname\"]: needs a uts namespace in "
                "linux.namespaces"},
    {.patch = LINUX("'namespaces': [{'type': 'ipc'}], 'sysctl': {'kernel.msgmax_x': '10'}"),
     .message = "config.json: linux.sysctl[\"kernel.msgmax_x\"]: not namespaced, refusing to change "
                "the host"},
    {.patch = LINUX("'cgroupsPath': 'pods/../../escape'"),
     .message = "config.json: linux.cgroupsPath: `..` is not allowed, got \"pods/../../escape\""},
    {.patch = LINUX("'cgroupsPath': '/ctr/..'"),
     .message = "config.json: linux.cgroupsPath: `..` is not allowed, got \"/ctr/..\""},
    {.patch = LINUX("'netDevices': {'eth0': {}}"),
     .message = "config.json: linux.netDevices: needs a network namespace in linux.namespaces"},
    {.patch = LINUX(USERNS ", 'namespaces': [{'type': 'user'}, {'type': 'user'}]"),
     .message = "config.json: linux.namespaces[1].type: duplicate namespace \"user\" (also at "
                "index 0)"},
};

static void test_bad_config(void **state)
{
    const struct bad_case *c = *state;
    char *text = c->doc ? dq(c->doc) : patched(c->patch);
    struct ctr_spec *spec = (void *)1;
    ctr_error *err = NULL;
    int r = ctr_spec_load_data(text, strlen(text), "config.json", &spec, &err);
    if (r == 0) {
        ctr_spec_free(spec);
        fail_msg("loaded although it should fail with: %s\n(document: %s)", c->message, text);
    }
    assert_null(spec);
    assert_int_equal(ctr_error_code(err), EINVAL); /* a refused config, whatever the field */
    if (strcmp(ctr_error_message(err), c->message) != 0) {
        print_error("document: %s\nexpected: %s\n     got: %s\n", text, c->message,
                    ctr_error_message(err));
        ctr_error_free(err);
        free(text);
        fail();
    }
    assert_null(strchr(ctr_error_message(err), '\n'));
    ctr_error_free(err);
    free(text);
}

/* ---- (c) mount options --------------------------------------------------------------------------- */

struct mount_case {
    const char *type;
    const char *options[6];
    unsigned long flags, clear_flags, propagation;
    const char *data;
    uint64_t rec_set, rec_clear, rec_propagation;
    bool is_bind, tmpcopyup, idmap, ridmap;
};

static const struct mount_case mount_cases[] = {
    {.type = "tmpfs", .options = {"ro", "nosuid", "mode=755"}, .flags = MS_RDONLY | MS_NOSUID,
     .data = "mode=755"},
    {.type = "none", .options = {"rbind", "rro"}, .flags = MS_BIND | MS_REC,
     .rec_set = MOUNT_ATTR_RDONLY, .is_bind = true},
    {.type = "bind", .options = {"rw"}, .flags = MS_BIND, .clear_flags = MS_RDONLY, .is_bind = true},
    {.options = {"ro", "rw", "nodev", "dev", "noexec"}, .flags = MS_NOEXEC,
     .clear_flags = MS_RDONLY | MS_NODEV},
    {.options = {"suid", "exec", "atime", "diratime", "async", "loud"},
     .clear_flags = MS_NOSUID | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_SYNCHRONOUS | MS_SILENT},
    {.options = {"noatime", "nodiratime", "relatime", "sync", "dirsync", "lazytime"},
     .flags = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME},
    {.options = {"nosymfollow", "iversion", "remount", "defaults"},
     .flags = MS_NOSYMFOLLOW | MS_I_VERSION | MS_REMOUNT},
    {.options = {"bind", "rshared"}, .flags = MS_BIND, .propagation = MS_SHARED | MS_REC,
     .rec_propagation = MS_SHARED, .is_bind = true},
    {.options = {"rslave", "private"}, .propagation = MS_PRIVATE},
    {.options = {"unbindable"}, .propagation = MS_UNBINDABLE},
    {.options = {"runbindable"}, .propagation = MS_UNBINDABLE | MS_REC,
     .rec_propagation = MS_UNBINDABLE},
    {.type = "tmpfs", .options = {"tmpcopyup", "size=1m"}, .data = "size=1m", .tmpcopyup = true},
    {.type = "bind", .options = {"idmap"}, .flags = MS_BIND, .is_bind = true, .idmap = true},
    {.options = {"rbind", "ridmap"}, .flags = MS_BIND | MS_REC, .is_bind = true, .ridmap = true},
    {.options = {"rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow", "rro"},
     .rec_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
                MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_RDONLY},
    {.options = {"rro", "rrw", "rsuid", "rdev", "rexec", "rsymfollow"},
     .rec_clear = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                  MOUNT_ATTR_NOSYMFOLLOW},
    {.options = {"rnodiratime", "rdiratime"}, .rec_clear = MOUNT_ATTR_NODIRATIME},
    {.options = {"rnoatime"}, .rec_set = MOUNT_ATTR_NOATIME, .rec_clear = MOUNT_ATTR__ATIME},
    {.options = {"rstrictatime"}, .rec_set = MOUNT_ATTR_STRICTATIME, .rec_clear = MOUNT_ATTR__ATIME},
    {.options = {"rnoatime", "rrelatime"}, .rec_set = MOUNT_ATTR_RELATIME,
     .rec_clear = MOUNT_ATTR__ATIME},
    {.options = {"rstrictatime", "ratime"}, .rec_clear = MOUNT_ATTR__ATIME},
    {.options = {"rnoatime", "rnostrictatime"}, .rec_clear = MOUNT_ATTR__ATIME},
    {.options = {"rnorelatime", "rnodev"}, .rec_set = MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_NODEV,
     .rec_clear = MOUNT_ATTR__ATIME},
    {.type = "devpts", .options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                   "gid=5"},
     .flags = MS_NOSUID | MS_NOEXEC, .data = "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {.type = "overlay", .options = {"ro,nosuid", "lowerdir=/a:/b,upperdir=/u", ""},
     .flags = MS_RDONLY | MS_NOSUID, .data = "lowerdir=/a:/b,upperdir=/u"},
    {.type = "ext4", .options = {"context=\"system_u:object_r:foo_t:s0:c1,c2\"", "ro"},
     .flags = MS_RDONLY, .data = "context=\"system_u:object_r:foo_t:s0:c1,c2\""},
    {.type = "proc", .options = {"ro=1", "x-foo"}, .data = "ro=1,x-foo"},
};

static void test_mount_options(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(BASE);
    for (size_t i = 0; i < sizeof(mount_cases) / sizeof(mount_cases[0]); i++) {
        const struct mount_case *c = &mount_cases[i];
        struct spec_mount m = {.destination = "/m", .type = (char *)c->type};
        char *items[7] = {0};
        size_t n = 0;
        while (n < 6 && c->options[n])
            items[n] = (char *)c->options[n], n++;
        m.options = (struct string_list){.items = items, .count = n};
        ctr_error *err = NULL;
        if (spec_parse_mount_options(spec, &m, "mounts[0]", &err) < 0)
            fail_msg("case %zu: %s", i, ctr_error_message(err));
        print_message("case %zu: %s ...\n", i, c->options[0]);
        assert_int_equal(m.flags, c->flags);
        assert_int_equal(m.clear_flags, c->clear_flags);
        assert_int_equal(m.propagation, c->propagation);
        if (c->data)
            assert_string_equal(m.data, c->data);
        else
            assert_null(m.data);
        assert_int_equal(m.recursive.set, c->rec_set);
        assert_int_equal(m.recursive.clear, c->rec_clear);
        assert_int_equal(m.recursive.propagation, c->rec_propagation);
        assert_int_equal(m.is_bind, c->is_bind);
        assert_int_equal(m.tmpcopyup, c->tmpcopyup);
        assert_int_equal(m.idmap, c->idmap);
        assert_int_equal(m.recursive_idmap, c->ridmap);
    }
    ctr_spec_free(spec);
}

static void test_mount_option_error(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(BASE);
    char *items[] = {"ro", "context=\"unterminated", NULL};
    struct spec_mount m = {.destination = "/m", .options = {.items = items, .count = 2}};
    ctr_error *err = NULL;
    assert_int_equal(spec_parse_mount_options(spec, &m, "mounts[3]", &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "mounts[3].options[1]: cannot parse mount option \"context=\"unterminated\"");
    ctr_error_free(err);
    ctr_spec_free(spec);
}

/* Relative destinations are "interpreted as relative to /" and stored clean. */
static void test_mount_destinations(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/", "/"},        {"data", "/data"},     {"./a/./b/", "/a/b"}, {"a//b", "/a/b"},
        {"../../etc", "/etc"}, {"/a/../../b", "/b"}, {"/a/b/..", "/a"}, {"..", "/"},
        {"/proc", "/proc"}, {"a/.../b", "/a/.../b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json),
                 "{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'mounts': [{'destination': '%s'}]}",
                 cases[i][0]);
        struct ctr_spec *spec = load_ok(json);
        assert_string_equal(spec->mounts[0].destination, cases[i][1]);
        ctr_spec_free(spec);
    }
}

/* ---- the other entry points ---------------------------------------------------------------------- */

/* exec's process.json goes through spec_parse_process with its own path prefix. */
static void test_parse_process_alone(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(BASE);
    char *text = dq("{'args': ['ls', '-l'], 'cwd': '/tmp', 'env': ['A=b'], 'terminal': true,"
                    " 'capabilities': {'bounding': ['CAP_SYS_ADMIN']}}");
    json_t *json = json_loads(text, 0, NULL);
    struct spec_process process = {0};
    ctr_error *err = NULL;
    assert_int_equal(spec_parse_process(spec, json, "process", &process, &err), 0);
    json_decref(json); /* the parsed strings live in the spec's arena */
    assert_strings(&process.args, 2, (const char *const[]){"ls", "-l"});
    assert_string_equal(process.cwd, "/tmp");
    assert_int_equal(process.capabilities.bounding, CAP(21));
    free(text);

    text = dq("{'args': ['ls'], 'cwd': '/', 'user': {'uid': 0, 'gid': '0'}}");
    json = json_loads(text, 0, NULL);
    memset(&process, 0, sizeof(process));
    assert_int_equal(spec_parse_process(spec, json, "process", &process, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "process.user.gid: expected an integer, got string");
    ctr_error_free(err);
    err = NULL;
    assert_int_equal(spec_parse_process(spec, json, NULL, &process, &err), -1);
    assert_string_equal(ctr_error_message(err), "user.gid: expected an integer, got string");
    ctr_error_free(err);
    json_decref(json);
    free(text);
    ctr_spec_free(spec);
}

/* `update --resources` goes through spec_parse_resources. */
static void test_parse_resources_alone(void **state)
{
    (void)state;
    struct ctr_spec *spec = load_ok(BASE);
    char *text = dq("{'memory': {'limit': 1048576}, 'pids': {'limit': 10},"
                    " 'cpu': {'quota': -1, 'cpus': '0'}}");
    json_t *json = json_loads(text, 0, NULL);
    struct spec_resources res = {0};
    ctr_error *err = NULL;
    assert_int_equal(spec_parse_resources(spec, json, "resources", &res, &err), 0);
    assert_true(res.has_memory && res.has_pids && res.has_cpu);
    assert_false(res.has_block_io || res.has_network);
    assert_int_equal(res.memory.limit.value, 1048576);
    assert_int_equal(res.pids_limit.value, 10);
    assert_int_equal(res.cpu.quota.value, -1);
    json_decref(json);
    free(text);

    json = json_loads("{\"blockIO\": {\"weight\": \"high\"}}", 0, NULL);
    memset(&res, 0, sizeof(res));
    assert_int_equal(spec_parse_resources(spec, json, "resources", &res, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "resources.blockIO.weight: expected an integer, got string");
    ctr_error_free(err);
    json_decref(json);
    ctr_spec_free(spec);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_spec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *text = dq("{'ociVersion': '1.2.0', 'root': {'path': '/abs/rootfs'},\n"
                    " 'process': {'args': ['sh'], 'cwd': '/'}}");
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(text);

    struct ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    assert_int_equal(ctr_spec_load_file(path, &spec, &err), 0);
    assert_string_equal(spec->root_path, "/abs/rootfs");
    ctr_spec_free(spec);

    /* errors name the file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"ociVersion\": \"1.2.0\"}", 23), 23);
    close(fd);
    assert_int_equal(ctr_spec_load_file(path, &spec, &err), -1);
    char expected[128];
    snprintf(expected, sizeof(expected), "%s: root: required field missing", path);
    assert_string_equal(ctr_error_message(err), expected);
    ctr_error_free(err);
    err = NULL;
    unlink(path);

    assert_int_equal(ctr_spec_load_file(path, &spec, &err), -1);
    assert_null(spec);
    assert_int_equal(ctr_error_code(err), ENOENT);
    snprintf(expected, sizeof(expected), "open `%s`: No such file or directory", path);
    assert_string_equal(ctr_error_message(err), expected);
    ctr_error_free(err);
}

/* ctr_spec_load_data names the document as told, "config.json" by default. */
static void test_load_data_name(void **state)
{
    (void)state;
    struct ctr_spec *spec = NULL;
    ctr_error *err = NULL;
    assert_int_equal(ctr_spec_load_data("{}", 2, "bundle/config.json", &spec, &err), -1);
    assert_string_equal(ctr_error_message(err), "bundle/config.json: ociVersion: required field missing");
    ctr_error_free(err);
    err = NULL;
    assert_int_equal(ctr_spec_load_data("{} trailing", 11, NULL, &spec, &err), -1);
    assert_string_equal(ctr_error_message(err),
                        "config.json: line 1, column 11: end of file expected near 'trailing'");
    ctr_error_free(err);
    /* a NULL err is allowed */
    assert_int_equal(ctr_spec_load_data("[", 1, NULL, &spec, NULL), -1);
}

static void test_namespace_names(void **state)
{
    (void)state;
    static const char *const names[NS_TYPE_COUNT] = {"pid", "network", "mount", "ipc",
                                                     "uts", "user",    "cgroup", "time"};
    for (int t = 0; t < NS_TYPE_COUNT; t++)
        assert_string_equal(spec_namespace_name((enum spec_namespace_type)t), names[t]);
    assert_string_equal(spec_namespace_name(NS_TYPE_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_docker_zeros_mean_unset),
        cmocka_unit_test(test_minimal_config),
        cmocka_unit_test(test_null_and_empty_mean_unset),
        cmocka_unit_test(test_unknown_properties_ignored),
        cmocka_unit_test(test_mount_options),
        cmocka_unit_test(test_mount_option_error),
        cmocka_unit_test(test_mount_destinations),
        cmocka_unit_test(test_parse_process_alone),
        cmocka_unit_test(test_parse_resources_alone),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_data_name),
        cmocka_unit_test(test_namespace_names),
    };
    enum { FIXED = sizeof(fixed) / sizeof(fixed[0]), BAD = sizeof(bad_cases) / sizeof(bad_cases[0]) };
    /* One test per bad config, named after the message it expects. */
    struct CMUnitTest tests[FIXED + BAD];
    memcpy(tests, fixed, sizeof(fixed));
    for (size_t i = 0; i < BAD; i++) {
        tests[FIXED + i] = (struct CMUnitTest){
            .name = bad_cases[i].message,
            .test_func = test_bad_config,
            .initial_state = (void *)&bad_cases[i],
        };
    }
    return _cmocka_run_group_tests("spec", tests, FIXED + BAD, NULL, NULL);
}
