"""A full fit over ROOT files on a Dask cluster: local processes, a batch system, or a
running scheduler, with the files local or remote (root://, https://).

Writes synthetic jets to ROOT files (unless ``--files`` names yours), starts the cluster
of a ``cluster:`` section, reads the files as a Dask DataFrame on its workers, fits the
standard chain (pile-up offset, numerical inversion) and an MDN pipeline over the
chunks, and prints the held-out closure of both:

    # two worker processes on this machine:
    python examples/fit_on_cluster.py --n-jets 200000

    # twenty HTCondor jobs (pip install 'skcal[jobqueue]'), files on EOS (skcal[xrootd]):
    python examples/fit_on_cluster.py --kind htcondor --jobs 20 --memory "4 GiB" \\
        --disk "4 GiB" --files "root://eosuser.cern.ch//eos/user/j/jdoe/jets/*.root"

    # a scheduler that the site runs:
    python examples/fit_on_cluster.py --address tcp://dask-scheduler:8786 --files ...

The closure needs a sample of the README's size (1M jets) to be meaningful: at
``--n-jets 80000`` (64k for training) the low-pT bins are far off for every calibrator,
with or without a cluster (tests/distributed: the cluster changes no fitted value).
``--show-job`` prints the batch job script that the cluster would submit, and stops.
The MDN trains on this process (its GPU with ``--device cuda``); the workers read and
prepare the chunks. The same run from the command line: a configuration with a
``cluster:`` section and ``skcal fit config.yaml`` (docs/distributed.md).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sklearn.pipeline import make_pipeline

from skcal.datasets import iter_jets
from skcal.distributed import make_cluster, parse_cluster, start_cluster
from skcal.evaluation import apply_calibration
from skcal.inversion import NumericalInversion, PileupOffset
from skcal.io import read_jets, write_root
from skcal.neural import MDNCalibrator
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler
from skcal.response import closure_table

FEATURES = ["e_reco", "pt_reco", "eta", "phi", "m_reco", "mu", "npv", "rho", "area"]
BINS = {"pt_true": [30, 60, 120, 300, 3000], "abs_eta_true": [0, 1.3, 2.5, 4.5]}


def cluster_section(args: argparse.Namespace) -> dict[str, object]:
    if args.address:
        return {"address": args.address}
    section: dict[str, object] = {"kind": args.kind, "jobs": args.jobs, "cores": args.cores}
    if args.memory:
        section["memory"] = args.memory
    if args.kind == "htcondor":
        section["disk"] = args.disk
    if args.kind != "local":
        section["walltime"] = args.walltime
    return section


def write_files(n_jets: int, folder: Path) -> list[str]:
    per_file = n_jets // 4
    paths = []
    for i in range(4):
        path = folder / f"jets_{i}.root"
        write_root(iter_jets(per_file, start=i * per_file, chunk_size=50_000, random_state=1), path)
        paths.append(str(path))
    return paths


def worst_closure(model: object, test: object) -> float:
    calibrated = apply_calibration(model, test)
    table = closure_table(
        calibrated.e_calib / calibrated.e_true, data=calibrated, bins=BINS, n_bootstrap=0
    )
    usable = (table["status"] == "ok") & (table["entries"] >= 200)
    return float((table["mode"] - 1).abs().where(usable).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="ROOT files, globs or URLs (default: write)")
    parser.add_argument("--n-jets", type=int, default=200_000)
    parser.add_argument("--kind", default="local", choices=["local", "htcondor", "slurm", "pbs"])
    parser.add_argument("--address", help="a running scheduler, instead of --kind")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--memory", default=None, help="per job or worker, e.g. '4 GiB'")
    parser.add_argument("--disk", default="4 GiB", help="per HTCondor job")
    parser.add_argument("--walltime", default="01:00:00")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--show-job", action="store_true", help="print the job script, stop")
    args = parser.parse_args()

    cluster = parse_cluster(cluster_section(args))
    if args.show_job:
        with make_cluster(cluster) as batch:
            print(batch.job_script())
        return
    files = args.files or write_files(args.n_jets, Path(tempfile.mkdtemp(prefix="skcal-")))
    with start_cluster(cluster) as client:
        print(f"cluster: {client.dashboard_link}")
        jets = read_jets(files, dask=True, step_size="50 MB")
        train, test = jets.random_split([0.8, 0.2], random_state=0)
        X, y = train[FEATURES], train.e_reco / train.e_true
        chain = make_pipeline(PileupOffset(), NumericalInversion()).fit(X, y)
        mdn = make_pipeline(
            LogTransformer(columns=["e_reco", "pt_reco"]),
            EtaAnnotation(),
            SymmetricScaler(),
            MDNCalibrator(
                n_components=3,
                training_space="log",
                max_epochs=args.epochs,
                device=args.device,
                random_state=0,
            ),
        ).set_output(transform="pandas")
        mdn.fit(X, y)
        for name, model in (("pile-up + NI", chain), ("MDN", mdn)):
            print(f"{name}: worst-bin closure {worst_closure(model, test):.4f}")


if __name__ == "__main__":
    main()
