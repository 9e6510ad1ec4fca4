"""Run a command as the child of this small process and write down the child's own peak RSS.

``python rss_launcher.py <report-file> <command...>``. Linux carries a process's peak RSS across
``fork`` and ``exec`` (the pre-exec high-water mark is kept), so a connector started straight from
a test process holding gigabytes of digests would report that test's size as its own. Forked from
this launcher (a few MB), it reports only what it used. The launcher exits as the command did,
dying of the same signal when the command was killed.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def main() -> None:
    report, *command = sys.argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)  # noqa: S606 - the command line is ours, never a shell
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    Path(report).write_text(str(usage.ru_maxrss), encoding="utf-8")
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be (and are not) handled
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
