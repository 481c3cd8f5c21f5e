"""debugpy inside the metric worker, for line-level debugging of compute_metrics (README "Debugging your metric").

The worker calls `start()` when the debug adapter asks for it (EVALPRED_DEBUGPY=1). debugpy's adapter runs in
this process (`in_process_debug_adapter`), listening on a free 127.0.0.1 port that evalpred's adapter connects
to; nothing else is started, so ending the worker ends the debugger. debugpy comes from the interpreter itself
(`pip install debugpy`, Debian's python3-debugpy) or from a folder in EVALPRED_DEBUGPY_PATH (the copy bundled
with VS Code's Python Debugger extension).
"""
import os
import socket
import sys
import time

MINIMUM = (1, 6)


def _import():
    try:
        import debugpy  # noqa: F401

        return debugpy, None
    except ImportError:
        pass
    for folder in filter(None, os.environ.get("EVALPRED_DEBUGPY_PATH", "").split(os.pathsep)):
        if os.path.isdir(os.path.join(folder, "debugpy")):
            sys.path.append(folder)
            try:
                import debugpy  # noqa: F401

                return debugpy, None
            except ImportError:
                sys.path.remove(folder)
    return None, ("debugpy is not importable in %s, so breakpoints inside the metric cannot bind (evalpred still "
                  "stops at the compute_metrics boundary). Install it into that interpreter: %s -m pip install debugpy"
                  % (sys.executable, sys.executable))


def start(marks=None):
    """(port, None) once debugpy listens, or (None, the reason it cannot, with the install command). `marks`
    gets the wall-clock time (ms) of each step, for the host's start-up timeline."""
    marks = {} if marks is None else marks
    debugpy, why = _import()
    if debugpy is None:
        return None, why
    marks["debugpy imported"] = time.time() * 1000
    version = tuple(int(p) for p in debugpy.__version__.split("+")[0].split(".")[:2] if p.isdigit())
    if version < MINIMUM:
        return None, ("debugpy %s in %s is too old for evalpred (it needs %d.%d or later): %s -m pip install -U debugpy"
                      % (debugpy.__version__, sys.executable, MINIMUM[0], MINIMUM[1], sys.executable))
    # pydevd warns on stderr about frozen stdlib modules; user code is never frozen.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    # pydevd declares its plugin namespace with pkg_resources when it can, which costs most of a second to
    # import (bench/pythonDebug.ts); pkgutil, its fallback, finds the same plugins. User code can still
    # import pkg_resources afterwards.
    block = "pkg_resources" not in sys.modules
    if block:
        sys.modules["pkg_resources"] = None
    try:
        _answer_at_once()
        debugpy.listen(("127.0.0.1", port), in_process_debug_adapter=True)
    except Exception as e:  # noqa: BLE001 - reported to the adapter, which says it once
        return None, "debugpy could not listen on 127.0.0.1:%d in %s: %s" % (port, sys.executable, e)
    finally:
        if block and sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    marks["debugpy listening"] = time.time() * 1000
    try:
        from . import _pydevd_summaries

        _pydevd_summaries.register()  # NumPy arrays in Variables as evalpred summarizes them
    except Exception as e:  # noqa: BLE001 - a pydevd without these hooks still debugs, with its own repr
        print("evalpred: array summaries are not available in this debugpy (%s)" % e, file=sys.stderr)
    marks["array summaries registered"] = time.time() * 1000
    return port, None


def _answer_at_once():
    """TCP_NODELAY on the connection pydevd accepts. pydevd sends each DAP message as two writes (header, then
    body); with Nagle's algorithm the body waits for the client's ACK of the header, which Linux delays by ~40 ms:
    every answer (the attach handshake's, each evaluate in a paused frame) took 40 ms more (bench/pythonDebug.ts).
    Runs where debugpy.listen would import pydevd anyway (debugpy's vendored copy, or the system's)."""
    import debugpy.server.api  # noqa: F401 - puts debugpy's pydevd in sys.modules

    pydb = getattr(sys.modules.get("pydevd"), "PyDB", None)
    initialize = getattr(pydb, "initialize_network", None)
    if initialize is None or getattr(initialize, "evalpred_no_delay", False):
        return  # another pydevd layout: it still works, only slower

    def initialize_network(self, sock, *args, **kwargs):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        return initialize(self, sock, *args, **kwargs)

    initialize_network.evalpred_no_delay = True
    pydb.initialize_network = initialize_network


def breakpoint_hook(attached):
    """sys.breakpointhook for user code: debugpy's stop when a debugger is attached, else a note (pdb would
    read the worker's protocol pipe and hang the run)."""
    def hook(*args, **kwargs):
        if attached():
            import debugpy

            debugpy.breakpoint()
            return
        frame = sys._getframe(1)
        print("evalpred: breakpoint() at %s:%d ignored: no debugger is attached (start a debug session, or set a "
              "breakpoint in the editor instead)" % (frame.f_code.co_filename, frame.f_lineno))
    return hook


class NoInput:
    """sys.stdin for user code: the metric runs without a terminal, so input() fails with that reason."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("input() is not available in compute_metrics: evalpred runs the metric without a terminal")

    read = readline = readlines = __next__ = _refuse

    def __iter__(self):
        return self

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("compute_metrics has no standard input under evalpred")
