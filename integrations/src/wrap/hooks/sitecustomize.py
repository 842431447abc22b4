# Written by `rampart wrap` into its shim directory (first on PYTHONPATH for the wrapped agent).
# Python runs shell commands with /bin/sh by absolute path (os.system, os.popen, subprocess with
# shell=True), which no PATH entry can stand in front of. Under `rampart wrap` they use $SHELL,
# the shim that decides each command, instead. Then the sitecustomize this one hides, if any, runs.
import os as _os
import sys as _sys


def _rampart_shell():
    shell = _os.environ.get("SHELL", "")
    shims = _os.environ.get("RAMPART_WRAP_DIR", "")
    if shell and shims and _os.path.dirname(shell) == shims and _os.path.exists(shell):
        return shell
    return None


def _rampart_patch():
    import subprocess

    original_init = subprocess.Popen.__init__

    def __init__(self, args, *rest, **kwargs):
        shell = _rampart_shell()
        if shell and kwargs.get("shell") and kwargs.get("executable") is None:
            kwargs["executable"] = shell
        original_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = __init__

    def system(command):
        shell = _rampart_shell()
        if not shell:
            return _original_system(command)
        code = subprocess.call([shell, "-c", command])
        return code << 8 if code >= 0 else -code

    _original_system = _os.system
    _os.system = system


_rampart_patch()

_here = _os.path.dirname(_os.path.abspath(__file__))
_saved = _sys.path[:]
_me = _sys.modules.pop("sitecustomize", None)
_sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != _here]
try:
    import sitecustomize  # noqa: F401  (the next one on the path, if any)
except ImportError:
    pass
finally:
    _sys.path[:] = _saved
    if _me is not None:
        _sys.modules["sitecustomize"] = _me
