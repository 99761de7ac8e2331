"""Execute notebooks headless, as CI does: `python run_notebooks.py [--out DIR] NOTEBOOK...`.

Each notebook runs in a fresh kernel of this Python (the venv of
setup_venv.sh, where `import cdnsim` finds the package) with this folder as
its working directory, and reads its results from `$CDNSIM_RESULTS`. With
--out, the executed copies (outputs included) are written there. Exit code
1 names the first cell that failed.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

# A cell that runs longer than this fails the notebook: runs are tiny in CI.
CELL_TIMEOUT_S = 300


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="folder for the executed copies")
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args()
    here = Path(__file__).resolve().parent
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        # IPC keeps the kernel's channels off the network entirely; its
        # socket files go to a temporary folder.
        with tempfile.TemporaryDirectory(prefix="cdnsim-kernel-") as sockets:
            km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
            client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(here)}})
            try:
                client.execute()
            except CellExecutionError as e:
                print(f"{path}: a cell failed:\n{e}", file=sys.stderr)
                return 1
            finally:
                if args.out:
                    args.out.mkdir(parents=True, exist_ok=True)
                    nbformat.write(nb, args.out / path.name)
        print(f"{path}: ok ({len(nb.cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
