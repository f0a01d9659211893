#!/bin/sh
# linux.resources on a pure cgroup v2 host, run by tests/vm/init inside the test VM, where
# /sys/fs/cgroup is cgroup2 with every controller. Each `check NAME` line below runs check_NAME
# and prints one line on the console:
#
#     RESULT NAME PASS|FAIL|SKIP detail
#
# which tests/integration/test_cgroup_v2_vm.py parses (it also reads the `check` lines of this
# file to know which results to expect). A check is a function that ends with `pass`, `skip WHY`
# or `fail WHY`; the containers it starts are named after it and deleted after it.

CTR="/ctr/ctr-run --root /run/ctr"
CG=/sys/fs/cgroup
MiB=1048576

fail() { echo "$*"; exit 1; }
skip() { echo "$*"; exit 77; }
pass() { exit 0; }

# The container's cgroup directory (ctr-run's default parent is /ctr).
cgdir() { echo "$CG/ctr/$1"; }

# expect_file FILE VALUE: the first line of FILE is VALUE.
expect_file() {
    [ -e "$1" ] || fail "$1 does not exist"
    got=$(head -n 1 "$1")
    [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
    tries=$(($1 * 10))
    shift
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] || fail "timed out waiting for: $*"
        usleep 100000
    done
}

# mkbundle NAME RESOURCES ARGS: /b/NAME/config.json with linux.resources RESOURCES and
# process.args ARGS (both JSON), default-deny devices first as runtimes' configs have them.
mkbundle() {
    mkdir -p "/b/$1"
    cat > "/b/$1/config.json" <<JSON
{
  "ociVersion": "1.2.0",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": $3,
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID",
                   "CAP_SETUID", "CAP_KILL"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID",
                    "CAP_SETUID", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_MKNOD", "CAP_SETGID",
                    "CAP_SETUID", "CAP_KILL"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "/rootfs", "readonly": true},
  "hostname": "vm",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "nodev", "mode=1777", "size=16m"]}
  ],
  "linux": {
    "resources": $2,
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "cgroup"}]
  }
}
JSON
}

DENY_ALL='{"allow": false, "access": "rwm"}'

# start NAME RESOURCES ARGS: a detached container; its output goes to /tmp/NAME.out.
start() {
    mkbundle "$1" "$2" "$3"
    $CTR run --detach --bundle "/b/$1" "$1" </dev/null >"/tmp/$1.out" 2>&1 ||
        fail "run $1: $(cat "/tmp/$1.out")"
}

# run_fg NAME RESOURCES ARGS: runs to the end; output (both streams) in $OUT, status in $RC.
run_fg() {
    mkbundle "$1" "$2" "$3"
    OUT=$($CTR run --bundle "/b/$1" "$1" </dev/null 2>&1)
    RC=$?
}

# refused NAME RESOURCES PART...: the runtime refuses the resources, naming every PART.
refused() {
    name=$1 resources=$2
    shift 2
    run_fg "$name" "$resources" '["true"]'
    [ "$RC" != 0 ] || fail "accepted: $resources"
    for part in "$@"; do
        case $OUT in *"$part"*) ;; *) fail "error does not name '$part': $OUT" ;; esac
    done
    [ ! -e "$(cgdir "$name")" ] || fail "$(cgdir "$name") left behind"
    pass
}

check() {
    name=$1
    detail=$( (check_"$name") 2>&1)
    status=$?
    $CTR delete --force "$name" >/dev/null 2>&1
    detail=$(echo "$detail" | tail -n 3 | tr '\n' ' ')
    case $status in
        0) echo "RESULT $name PASS $detail" ;;
        77) echo "RESULT $name SKIP $detail" ;;
        *) echo "RESULT $name FAIL $detail" ;;
    esac
}

# ---- the checks ---------------------------------------------------------------------------------

check_controllers() {
    enabled=$(cat "$CG/cgroup.subtree_control")
    for c in cpuset cpu io memory hugetlb pids; do
        case " $enabled " in *" $c "*) ;; *) fail "controller $c not enabled: $enabled" ;; esac
    done
    echo "$enabled"
    pass
}

check_memory_max() {
    start memory_max '{"memory": {"limit": 33554432, "reservation": 16777216, "swap": 50331648}}' \
        '["sleep", "1000"]'
    d=$(cgdir memory_max)
    expect_file "$d/memory.max" 33554432
    expect_file "$d/memory.low" 16777216
    # memory+swap 48 MiB with 32 MiB of memory: 16 MiB of swap on v2.
    [ ! -e "$d/memory.swap.max" ] || expect_file "$d/memory.swap.max" 16777216
    pass
}

oom_killed() { grep -q '^oom_kill [1-9]' "$(cgdir oom_kill)/memory.events"; }

check_oom_kill() {
    start oom_kill '{"memory": {"limit": 16777216}}' \
        '["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000"]'
    wait_for 60 oom_killed
    pass
}

pids_refused() { ! grep -q '^max 0' "$(cgdir pids_max)/pids.events"; }

check_pids_max() {
    start pids_max '{"pids": {"limit": 8}}' \
        '["sh", "-c", "i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i+1)); done; sleep 1000"]'
    d=$(cgdir pids_max)
    expect_file "$d/pids.max" 8
    wait_for 60 pids_refused
    [ "$(cat "$d/pids.current")" -le 8 ] || fail "pids.current $(cat "$d/pids.current") > 8"
    pass
}

check_cpu_weight_max() {
    start cpu_weight_max \
        '{"cpu": {"shares": 512, "quota": 50000, "period": 100000, "burst": 10000}}' \
        '["sleep", "1000"]'
    d=$(cgdir cpu_weight_max)
    expect_file "$d/cpu.weight" 20 # 1 + (512 - 2) * 9999 / 262142
    expect_file "$d/cpu.max" "50000 100000"
    [ ! -e "$d/cpu.max.burst" ] || expect_file "$d/cpu.max.burst" 10000
    pass
}

check_cpu_idle() {
    start cpu_idle '{"cpu": {"idle": 1}}' '["sleep", "1000"]'
    expect_file "$(cgdir cpu_idle)/cpu.idle" 1
    pass
}

check_cpuset() {
    [ "$(nproc)" -ge 2 ] || skip "one CPU only"
    start cpuset '{"cpu": {"cpus": "1", "mems": "0"}}' '["sleep", "1000"]'
    d=$(cgdir cpuset)
    expect_file "$d/cpuset.cpus" 1
    expect_file "$d/cpuset.mems" 0
    pid=$(head -n 1 "$d/cgroup.procs")
    grep -q '^Cpus_allowed_list:[[:space:]]*1$' "/proc/$pid/status" ||
        fail "the process may run on: $(grep Cpus_allowed_list "/proc/$pid/status")"
    pass
}

check_io_weight() {
    start io_weight '{"blockIO": {"weight": 500}}' '["sleep", "1000"]'
    d=$(cgdir io_weight)
    if [ -e "$d/io.bfq.weight" ]; then
        expect_file "$d/io.bfq.weight" "default 500"
    elif [ -e "$d/io.weight" ]; then
        expect_file "$d/io.weight" "default 4950" # 1 + (500 - 10) * 9999 / 990
    else
        skip "no io.weight (neither iocost nor BFQ)"
    fi
    pass
}

check_io_max() {
    [ -b /dev/ram0 ] || skip "no /dev/ram0 (brd module)"
    # 2 MiB read with O_DIRECT at 1 MiB/s: the first second's budget comes at once, then a second.
    run_fg io_max "{\"devices\": [$DENY_ALL, {\"allow\": true, \"type\": \"b\", \"major\": 1,
        \"minor\": 0, \"access\": \"rw\"}], \"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 1,
        \"minor\": 0, \"rate\": 1048576}], \"throttleWriteIOPSDevice\": [{\"major\": 1, \"minor\": 0,
        \"rate\": 100}]}}" \
        '["sh", "-c", "head -n 1 /proc/self/cgroup; mknod /dev/ram0 b 1 0; read a b < /proc/uptime; dd if=/dev/ram0 of=/dev/null bs=256k count=8 iflag=direct 2>/dev/null; read c d < /proc/uptime; echo elapsed $a $c"]'
    [ "$RC" = 0 ] || fail "exit $RC: $OUT"
    set -- $(echo "$OUT" | grep '^elapsed')
    centis=$(( (${3%.*} * 100 + 1${3#*.} - 100) - (${2%.*} * 100 + 1${2#*.} - 100) ))
    [ "$centis" -ge 90 ] || fail "2 MiB at 1 MiB/s took only ${centis}0 ms"
    echo "2 MiB in ${centis}0 ms"
    pass
}

check_io_max_file() {
    [ -b /dev/ram0 ] || skip "no /dev/ram0 (brd module)"
    start io_max_file '{"blockIO": {"throttleReadBpsDevice": [{"major": 1, "minor": 0,
        "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 1, "minor": 0, "rate": 100}]}}' \
        '["sleep", "1000"]'
    expect_file "$(cgdir io_max_file)/io.max" "1:0 rbps=1048576 wbps=max riops=max wiops=100"
    pass
}

check_hugetlb() {
    [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2 MB huge pages"
    start hugetlb '{"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}' '["sleep", "1000"]'
    d=$(cgdir hugetlb)
    expect_file "$d/hugetlb.2MB.max" 2097152
    [ ! -e "$d/hugetlb.2MB.rsvd.max" ] || expect_file "$d/hugetlb.2MB.rsvd.max" 2097152
    pass
}

# ram0 (b 1:0) has no default rule: the eBPF filter decides. Each open in a subshell: a failed
# redirection ends the shell that makes it.
OPEN_RAM0='mknod /dev/x b 1 0; if (: < /dev/x); then echo read-ok; else echo read-denied; fi; if (: > /dev/x); then echo write-ok; else echo write-denied; fi; if (: > /dev/null); then echo null-ok; fi'

check_devices_default_deny() {
    [ -b /dev/ram0 ] || skip "no /dev/ram0 (brd module)"
    run_fg devices_default_deny "{\"devices\": [$DENY_ALL]}" "[\"sh\", \"-c\", \"$OPEN_RAM0\"]"
    case $OUT in
        *read-denied*write-denied*null-ok*) ;;
        *) fail "expected ram0 denied and /dev/null allowed: $OUT" ;;
    esac
    case $OUT in *"Operation not permitted"*) ;; *) fail "not EPERM: $OUT" ;; esac
    pass
}

check_devices_last_match_wins() {
    [ -b /dev/ram0 ] || skip "no /dev/ram0 (brd module)"
    run_fg devices_last_match_wins "{\"devices\": [$DENY_ALL,
        {\"allow\": true, \"type\": \"b\", \"major\": 1, \"minor\": 0, \"access\": \"rwm\"},
        {\"allow\": false, \"type\": \"b\", \"major\": 1, \"access\": \"w\"}]}" \
        "[\"sh\", \"-c\", \"$OPEN_RAM0\"]"
    case $OUT in
        *read-ok*write-denied*) ;;
        *) fail "expected read allowed, write denied: $OUT" ;;
    esac
    pass
}

is_frozen() { grep -q '^frozen 1' "$(cgdir pause_resume)/cgroup.events"; }
is_thawed() { grep -q '^frozen 0' "$(cgdir pause_resume)/cgroup.events"; }

check_pause_resume() {
    start pause_resume '{}' '["sleep", "1000"]'
    $CTR pause pause_resume || fail "pause failed"
    expect_file "$(cgdir pause_resume)/cgroup.freeze" 1
    is_frozen || fail "cgroup.events: $(cat "$(cgdir pause_resume)/cgroup.events")"
    $CTR state pause_resume | grep -q '"status": *"paused"' || fail "state: not paused"
    $CTR resume pause_resume || fail "resume failed"
    is_thawed || fail "still frozen after resume"
    pass
}

check_update() {
    start update '{"memory": {"limit": 33554432}, "pids": {"limit": 20}}' '["sleep", "1000"]'
    d=$(cgdir update)
    echo '{"memory": {"limit": 67108864}, "pids": {"limit": 30}}' |
        $CTR update --resources - update || fail "update refused"
    expect_file "$d/memory.max" 67108864
    expect_file "$d/pids.max" 30
    # cpuset is written after memory and pids: refused, and both are put back.
    out=$(echo '{"memory": {"limit": 50331648}, "pids": {"limit": 40}, "cpu": {"cpus": "99"}}' |
        $CTR update --resources - update 2>&1) && fail "a CPU the VM lacks was accepted"
    case $out in *cpuset.cpus*restored*) ;; *) fail "error: $out" ;; esac
    expect_file "$d/memory.max" 67108864
    expect_file "$d/pids.max" 30
    pass
}

check_events_stats() {
    start events_stats '{"memory": {"limit": 33554432}, "pids": {"limit": 20}}' \
        '["sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=2; sleep 1000"]'
    stats=$($CTR events --stats events_stats) || fail "events --stats failed"
    for part in '"type":"stats"' '"cpu":{"usage":{"total":' '"throttling":{' '"memory":{' \
        '"limit":33554432' '"pids":{"current":' '"limit":20}' '"blkio":{' \
        '"ioServiceBytesRecursive":' '"raw":{'; do
        case $stats in *"$part"*) ;; *) fail "no $part in $stats" ;; esac
    done
    pass
}

procs_gone() { [ -z "$(cat "$(cgdir kill_all)/cgroup.procs" 2>/dev/null)" ]; }
three_procs() { [ "$(wc -l < "$(cgdir kill_all)/cgroup.procs")" -ge 3 ]; }

check_kill_all() {
    start kill_all '{}' '["sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000"]'
    wait_for 10 three_procs
    $CTR kill --all kill_all 9 || fail "kill --all failed"
    wait_for 10 procs_gone
    pass
}

check_unified() {
    start unified '{"pids": {"limit": 20}, "unified": {"memory.high": "50331648", "pids.max": "7"}}' \
        '["sleep", "1000"]'
    d=$(cgdir unified)
    expect_file "$d/memory.high" 50331648
    expect_file "$d/pids.max" 7 # unified wins over the typed field
    pass
}

check_rdma_refused() {
    grep -qw rdma "$CG/cgroup.controllers" || skip "no rdma controller"
    refused rdma_refused '{"rdma": {"mlx5_0": {"hcaHandles": 2}}}' "linux.resources.rdma" "rdma.max"
}

check_net_cls_refused() {
    refused net_cls_refused '{"network": {"classID": 1048577}}' "linux.resources.network.classID" \
        "cgroup v2 has no"
}

check_swappiness_refused() {
    refused swappiness_refused '{"memory": {"swappiness": 10}}' \
        "linux.resources.memory.swappiness" "swappiness"
}

check_realtime_refused() {
    refused realtime_refused '{"cpu": {"realtimeRuntime": 1000}}' \
        "linux.resources.cpu.realtimeRuntime" "realtime"
}

# The unit tests of the cgroup operations (tests/unit/test_cgroup_ops.c), whose real_v2_host
# test needs a host like this one: freezer, stats, update and its undo, kill, OOM events on v2.
check_unit_cgroup_ops() {
    [ -x /ctr/test_cgroup_ops ] || skip "test_cgroup_ops was not put in the initramfs"
    out=$(/ctr/test_cgroup_ops 2>&1) ||
        fail "$(echo "$out" | grep -E '^line [0-9]+:|ERROR|^\[  FAILED  \] [a-z]' | tr '\n' ' ')"
    case $out in *"[       OK ] real_v2_host"*) ;; *) fail "real_v2_host did not run: $out" ;; esac
    case $out in *"SKIP real v2 host"*) fail "real_v2_host skipped" ;; esac
    pass
}

check_no_leftovers() {
    left=$(find "$CG/ctr" -mindepth 1 -type d 2>/dev/null)
    [ -z "$left" ] || fail "left behind: $left"
    pass
}

check controllers
check memory_max
check oom_kill
check pids_max
check cpu_weight_max
check cpu_idle
check cpuset
check io_weight
check io_max_file
check io_max
check hugetlb
check devices_default_deny
check devices_last_match_wins
check pause_resume
check update
check events_stats
check kill_all
check unified
check rdma_refused
check net_cls_refused
check swappiness_refused
check realtime_refused
check unit_cgroup_ops
check no_leftovers
