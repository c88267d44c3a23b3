"""Loaded at start-up by every interpreter that has this folder on PYTHONPATH, so also by the
judge pool's forkserver and the workers it forks: wraps math-verify's worker function so that a
gold answer naming a fault makes the worker die the way a real one would mid-item (SIGSEGV from a
C extension, SIGKILL from the kernel's OOM killer). Everything else runs the real math-verify."""
import os

if os.environ.get("RK_CRASHY_JUDGE") == "1":
    import signal

    from reasonkit.judging import mv_worker

    _real = mv_worker.run_task

    def run_task(task: tuple) -> object:
        text = " ".join(str(t) for t in task[1:])
        if "SEGFAULT_ME" in text:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "OOM_KILL_ME" in text:
            os.kill(os.getpid(), signal.SIGKILL)
        return _real(task)

    mv_worker.run_task = run_task
