"""What a kernel can see and touch, listed from inside it (shipped as a cell by test_sandbox.py).

`inventory(probe)` returns plain data: open descriptors (target, type, mode), environment
variable names, mount points (with the host path each one shows), every file or folder it can
write outside its scratch space, which of `probe["paths"]` it can see, sockets it can connect
to, and the processes it can see and signal. Standard library only; never raises.
"""

import json
import os
import signal
import socket
import stat

SCRATCH = ("/tmp",)
"""The kernel's own writable space (its box)."""
SKIP_WALK = ("/proc", "/sys")
"""Not walked: virtual files of its own processes and of the kernel."""


def _read(path, limit=1 << 16):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError as err:
        return f"<{type(err).__name__}>".encode()


def _kind(mode):
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISCHR, "char"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISBLK, "block")):
        if test(mode):
            return name
    return "other"


def descriptors(pid="self"):
    """Every open descriptor of `pid`: target, type and access mode (from fdinfo)."""
    found = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError as err:
        return {"<unreadable>": type(err).__name__}
    for name in sorted(names, key=int):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            flags = int(_read(f"/proc/{pid}/fdinfo/{name}").split(b"flags:")[1].split()[0], 8)
            info = os.stat(f"/proc/{pid}/fd/{name}")
        except (OSError, IndexError, ValueError):
            continue  # the descriptor of the listing itself, closed by now
        mode = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}[flags & os.O_ACCMODE]
        try:  # the path it names, seen from here, is that very file
            here = os.path.samestat(os.stat(target), info)
        except OSError:
            here = False
        found[name] = {"target": target, "type": _kind(info.st_mode), "mode": mode,
                       "path_here": here}
    return found


def mounts():
    """Mount point -> (host path shown, file system type, ro/rw) from /proc/self/mountinfo."""
    found = {}
    for line in _read("/proc/self/mountinfo", 1 << 20).decode("utf-8", "replace").splitlines():
        fields = line.split()
        dash = fields.index("-")
        options = fields[5].split(",")
        found[fields[4]] = {"root": fields[3], "fstype": fields[dash + 1],
                            "mode": "ro" if "ro" in options else "rw"}
    return found


def walk():
    """Writable entries outside the scratch space, and every socket file, in the whole tree."""
    writable, sockets = [], []
    for top, folders, files in os.walk("/"):
        if top.startswith(SKIP_WALK) or top.startswith(SCRATCH):
            folders[:] = []
            continue
        for name in folders + files:
            path = os.path.join(top, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISSOCK(info.st_mode):
                sockets.append(path)
            if stat.S_ISLNK(info.st_mode) or path.startswith(SCRATCH + SKIP_WALK):
                continue
            if os.access(path, os.W_OK):
                writable.append(path)
    return sorted(writable), sorted(sockets)


def visible(paths):
    """Which of `paths` exist for the kernel, with what it can read of each."""
    seen = {}
    for path in paths:
        if not os.path.lexists(path):
            continue
        if os.path.isdir(path):
            try:
                seen[path] = sorted(os.listdir(path))[:20]
            except OSError as err:
                seen[path] = f"<{type(err).__name__}>"
        else:
            seen[path] = _read(path, 64).decode("utf-8", "replace")
    return seen


def ancestors():
    """The entries of every folder above a mount point (they must lead to mounts only):
    name -> the symlink's target, or "" for anything else."""
    listed = {}
    for point in mounts():
        parts = point.strip("/").split("/")
        for depth in range(len(parts)):
            folder = "/" + "/".join(parts[:depth])
            try:
                listed[folder] = {
                    name: (os.readlink(os.path.join(folder, name))
                           if os.path.islink(os.path.join(folder, name)) else "")
                    for name in sorted(os.listdir(folder))}
            except OSError as err:
                listed[folder] = f"<{type(err).__name__}>"
    return listed


def connectable(socket_files, tcp):
    """Sockets it can connect to: socket files, abstract Unix names, TCP addresses."""
    opened = []
    abstract = []
    for line in _read("/proc/net/unix", 1 << 20).decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[7].startswith("@"):
            abstract.append("\0" + fields[7][1:])
    for address in [*socket_files, *abstract]:
        if address.startswith("/tmp/.kernel/"):
            continue  # its own kernel's sockets
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(1)
            try:
                client.connect(address)
                opened.append(address.replace("\0", "@"))
            except OSError:
                pass
    for host, port in tcp:
        try:
            socket.create_connection((host, port), timeout=1).close()
            opened.append(f"{host}:{port}")
        except OSError:
            pass
    return sorted(opened)


def processes():
    """pid -> (command name, user id, whether it can be signalled, cmdline, environ names)."""
    found = {}
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        status = _read(f"/proc/{pid}/status").decode("utf-8", "replace")
        if "Uid:" not in status:
            continue
        try:
            os.kill(int(pid), 0)
            signal_ok = True
        except OSError:
            signal_ok = False
        environ = _read(f"/proc/{pid}/environ")
        names = (sorted(e.split(b"=")[0].decode("utf-8", "replace")
                        for e in environ.split(b"\0") if e)
                 if not environ.startswith(b"<") else environ.decode())
        found[pid] = {
            "comm": _read(f"/proc/{pid}/comm").decode("utf-8", "replace").strip(),
            "uid": int(status.split("Uid:")[1].split()[0]), "signal": signal_ok,
            "self": int(pid) == os.getpid(),
            "cmdline": _read(f"/proc/{pid}/cmdline").decode("utf-8", "replace").split("\0"),
            "environ": names, "fds": descriptors(pid) if int(pid) != os.getpid() else "self",
        }
    return found


def inventory(probe):
    writable, sockets = walk()
    return {
        "uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(),
        "descriptors": descriptors(), "environment": sorted(os.environ),
        "environment_at_start": sorted(
            e.split(b"=")[0].decode() for e in _read("/proc/self/environ").split(b"\0") if e),
        "mounts": mounts(), "root": sorted(os.listdir("/")), "ancestors": ancestors(),
        "writable": writable, "sockets": sockets,
        "connectable": connectable(sockets, [tuple(a) for a in probe["tcp"]]),
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "visible": visible(probe["paths"]), "processes": processes(),
        "signals": [pid for pid, p in processes().items() if p["signal"] and not p["self"]],
        "sigkill_value": int(signal.SIGKILL),
    }


if __name__ == "__main__":  # in the kernel: PROBE is defined by the cell that runs this file
    print("INVENTORY " + json.dumps(inventory(globals()["PROBE"])))
