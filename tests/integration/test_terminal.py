"""process.terminal: a pty from the container's devpts, its master sent over --console-socket
(SCM_RIGHTS), consoleSize applied, /dev/console bound; without a console socket a foreground
`run` relays the pty itself."""

import os
import pty

import ctrtest
from ctrtest import ConsoleSocket, terminal_bundle


def test_console_socket_receives_a_working_pty(ctr, bundle, test_dir):
    b = terminal_bundle(bundle, "tty; stty size; ls -l /dev/console | cut -c1; echo done")
    out = ctrtest.console_lines(ctr, b, ConsoleSocket(test_dir / "console.sock"))
    assert out[0].startswith("/dev/pts/")
    assert out[1] == "33 101"  # consoleSize
    assert out[2] == "c"       # /dev/console is the pty, a character device
    assert out[3] == "done"


def test_detached_terminal_without_console_socket_is_refused(ctr, bundle, ctr_root):
    b = terminal_bundle(bundle, "true")
    cid = ctrtest.new_id()
    result = ctr("create", "--bundle", b.write(), cid)
    assert result.returncode != 0
    assert "needs --console-socket" in result.stderr
    assert not (ctr_root / cid).exists()


def test_foreground_run_relays_the_terminal(ctr_run, ctr_root, bundle):
    """Under a pty of our own (as an interactive user), `ctr-run run` relays the container's."""
    b = terminal_bundle(bundle, "tty; echo relayed; exit 5")
    path = b.write()
    cid = ctrtest.new_id()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(ctr_run), [str(ctr_run), "--root", str(ctr_root), "run", "--bundle",
                                str(path), cid])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode(errors="replace").replace("\r", "")
    assert "/dev/pts/" in text and "relayed" in text, text
    assert os.waitstatus_to_exitcode(status) == 5


def test_exec_with_tty_and_console_socket(ctr, bundle, test_dir):
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", bundle(["sleep", "100"]).write(), cid, check=True)
    console = ConsoleSocket(test_dir / "exec-console.sock")
    try:
        ctr("exec", "--tty", "--detach", "--console-socket", console.path, cid, "sh", "-c",
            "tty; echo exec-tty", check=True)
        out = console.read_all().replace("\r", "")
    finally:
        ctr("delete", "--force", cid)
        console.close()
    assert "/dev/pts/" in out and "exec-tty" in out
