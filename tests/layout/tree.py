"""The tree's own C sources, for the layout checks: the .c and .h files git
tracks (every file under the root when it is not a checkout), without the
schemas' and build directories."""
import os
import subprocess


def c_sources(root):
    files = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"],
                           capture_output=True, text=True)
    paths = files.stdout.split() if files.returncode == 0 else [
        os.path.relpath(os.path.join(d, f), root)
        for d, _, fs in os.walk(root) for f in fs if f.endswith((".c", ".h"))]
    return [p for p in paths if not p.startswith(("schemas/", "build"))]
